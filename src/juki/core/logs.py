"""Console logging for commands: structlog lines on stderr at the configured level.

Without this, structlog's default prints every level, debug included, to stdout — where `--json`
commands print their result. Node processes log to their own files instead (nodes/runner.py).

structlog is imported when logging is configured, not with this module: with rich, which it
loads when installed, it is about a hundred modules, most of the start-up of a command that
logs nothing (`juki id`, `juki.cli.SILENT`).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import structlog


def _stderr_logger(*_: Any) -> structlog.PrintLogger:
    import structlog

    # Resolved at each use, not once: a caller (or a test) may have replaced sys.stderr.
    return structlog.PrintLogger(sys.stderr)


def console_level(level: str) -> int:
    """The numeric level of DEBUG, INFO, WARNING, ERROR or CRITICAL (any case)."""
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"log level {level!r}: one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return numeric


def configure_console(level: str = "INFO") -> None:
    """Log lines at `level` (DEBUG, INFO, WARNING, ERROR, CRITICAL) and above to stderr."""
    numeric = console_level(level)
    import structlog

    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
