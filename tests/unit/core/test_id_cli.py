"""`juki id validate|complete`: the command-line contract."""

from __future__ import annotations

import pytest

from juki.cli import main


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("resident-code", "24727059608"),
        ("resident-code", "24846016224"),
        ("resident-code", "25208017643"),
        ("my-number", "123456789018"),
        ("my-number", "454972364860"),
        ("lg-code", "132250"),
        ("lg-code", "352063"),
        ("lg-code", "142051"),
        ("lg-code", "132292"),
        ("lg-code", "202011"),
    ],
)
def test_validate_accepts_published_samples(
    kind: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["id", "validate", kind, value]) == 0
    assert capsys.readouterr().out == "valid\n"


@pytest.mark.parametrize(
    ("kind", "value", "rule"),
    [
        ("resident-code", "24727059609", "check_digit"),
        ("resident-code", "2472705960", "length"),
        ("resident-code", "２４７２７０５９６０８", "digits"),
        ("my-number", "123456789019", "check_digit"),
        ("my-number", "12345678901x", "digits"),
        ("lg-code", "132251", "check_digit"),
        ("lg-code", "1322500", "length"),
    ],
)
def test_validate_names_the_failed_rule(
    kind: str, value: str, rule: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["id", "validate", kind, value]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert f"[{rule}]" in out[0]


@pytest.mark.parametrize(
    ("kind", "body", "full"),
    [
        ("resident-code", "2472705960", "24727059608"),
        ("my-number", "12345678901", "123456789018"),
        ("lg-code", "13225", "132250"),
        ("lg-code", "20201", "202011"),
    ],
)
def test_complete(kind: str, body: str, full: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["id", "complete", kind, body]) == 0
    assert capsys.readouterr().out.strip() == full


def test_complete_rejects_a_bad_body(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["id", "complete", "my-number", "123"]) == 1
    assert "[length]" in capsys.readouterr().out


def test_unknown_kind_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["id", "validate", "passport", "123"])
    assert exit_.value.code == 2
