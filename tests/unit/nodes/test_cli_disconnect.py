"""`juki network disconnect|reconnect`: a decision without who decided or why is refused on the
console, naming the field, before any node or the directory is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from juki.cli import main


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["disconnect", "202011", "--decided-by", "長野市長", "--reason", "   "], "reason"),
        (["disconnect", "202011", "--decided-by", "", "--reason", "点検"], "decided_by"),
        (["disconnect", "202011", "--decided-by", "市長", "--reason", "x" * 501], "reason"),
        (["reconnect", "202011", "--reason", "\x07"], "reason"),
    ],
)
def test_a_decision_needs_who_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], field: str
) -> None:
    nowhere = tmp_path / "no-network"  # never opened: the refusal comes first
    assert main(["network", *argv, "--dir", str(nowhere)]) == 1
    assert capsys.readouterr().err.startswith(f"{field}:")
    assert not nowhere.exists()


def test_who_and_why_are_required_arguments() -> None:
    with pytest.raises(SystemExit):
        main(["network", "disconnect", "202011", "--reason", "点検"])
