"""`juki kiosk serve` refuses what it cannot serve, naming the option, before listening."""

from __future__ import annotations

from pathlib import Path

import pytest

from juki.cli import main


def test_serve_without_a_network_or_with_a_bad_port_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kiosk", "serve", "--dir", str(tmp_path), "--store", "S-1"]) != 0
    assert "no network here" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["kiosk", "serve", "--dir", str(tmp_path), "--store", "S-1", "--port", "70000"])
    assert "port" in capsys.readouterr().err
