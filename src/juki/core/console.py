"""What every command shares on the console: exit codes, one-line errors, results as JSON."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any, Final, Protocol

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1


class ConsoleError(Exception):
    """A command cannot go on; its message is the one line the user sees (exit 1)."""


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_FAILED


def as_dict(result: object) -> dict[str, Any]:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    return dict(vars(result))


class Subparsers(Protocol):
    """argparse's subparsers action, as each command's `register` receives it."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...
