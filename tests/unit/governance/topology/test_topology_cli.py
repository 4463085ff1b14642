"""`juki audit network FILE.yaml [--json] [--diagram OUT.svg]`: the command-line contract."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from juki.cli import main
from juki.governance.topology.loader import example_text


def _file(tmp_path: Path, name: str, text: str | None = None) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(example_text(name) if text is None else text, encoding="utf-8")
    return str(path)


def test_the_safe_layout_exits_0_and_a_case_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "network", _file(tmp_path, "safe")]) == 0
    out = capsys.readouterr().out
    assert "[low] 事例1 / case 1" in out and "[high]" not in out
    assert out.endswith("high: 0 / medium: 0 / low: 1\n")
    assert main(["audit", "network", _file(tmp_path, "case6")]) == 1
    out = capsys.readouterr().out
    assert "[high] 事例6 / case 6" in out
    assert "laptop@sw-core → sw-core → registry" in out and "空きポートを閉塞" in out


def test_json_findings_carry_severity_case_path_and_remedy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "network", _file(tmp_path, "case4"), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["high"] is True
    first = report["findings"][0]
    assert first["severity"] == "high" and first["case"] == 4
    assert first["path"][0] == "caller@dial" and first["path"][-1] == "cs"
    assert (
        "発信者番号チェック" in first["remedy"]["ja"] and "caller-number" in first["remedy"]["en"]
    )
    assert all({"severity", "case", "path", "remedy"} <= set(f) for f in report["findings"])


def test_the_diagram_draws_the_dangerous_path_in_red(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "case5.svg"
    assert main(["audit", "network", _file(tmp_path, "case5"), "--diagram", str(out)]) == 1
    capsys.readouterr()
    svg = ElementTree.parse(out).getroot()  # noqa: S314 - our own output, parsed to check it
    ns = "{http://www.w3.org/2000/svg}"
    red = [
        e
        for e in svg.iter()
        if e.get("stroke") == "#c8102e" and e.tag in (f"{ns}line", f"{ns}path")
    ]
    grey = [e for e in svg.iter() if e.get("stroke") == "#8a8a8a"]
    # vendor → rt-vendor → sw-core → registry → sw-core → fw-internal → hub-juki → cs: 6 cables
    assert len(red) == 6 and grey
    assert svg.find(f"{ns}g[@id='node-cs']") is not None


def test_a_bad_file_exits_1_naming_file_place_and_rule_in_both_languages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = example_text("safe").replace("kind: cs,", "kind: cs-server,")
    path = _file(tmp_path, "safe", bad)
    assert main(["audit", "network", path]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}: devices[cs].kind: must be one of: ") and err[0].endswith(
        "[choice]"
    )
    assert err[1].startswith(f"{path}: devices[cs].kind: 次のいずれかで書いてください")


def test_a_missing_file_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "network", str(tmp_path / "none.yaml")]) == 1
    assert "none.yaml: (file): cannot read" in capsys.readouterr().err


def test_medium_findings_alone_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "network", _file(tmp_path, "case1-vlan"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["high"] is False
    assert [f["severity"] for f in report["findings"]] == ["medium"]
