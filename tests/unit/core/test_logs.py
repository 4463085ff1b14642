"""Command logs go to stderr at the configured level; stdout stays for results."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from juki.cli import main
from juki.core.logs import configure_console


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_lines_below_the_level_are_dropped_and_none_reach_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_console("WARNING")
    log = structlog.get_logger("juki.test")
    log.debug("debug line")
    log.info("info line")
    log.warning("warning line", node="132250")
    out, err = capsys.readouterr()
    assert out == ""
    assert "warning line" in err and "node=132250" in err
    assert "info line" not in err and "debug line" not in err


def test_an_unknown_level_is_named() -> None:
    with pytest.raises(ValueError, match="VERBOSE"):
        configure_console("VERBOSE")


def test_a_bad_log_level_in_the_environment_fails_the_command_cleanly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JUKI_LOG_LEVEL", "loud")
    assert main(["id", "validate", "lg-code", "132250"]) == 1
    out, err = capsys.readouterr()
    assert "JUKI_LOG_LEVEL" in out + err and "valid" not in out
