"""What every command shares on the console: exit codes, one-line errors, results as JSON."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import unicodedata
from collections.abc import Collection, Sequence
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


def text_width(text: str) -> int:
    """Columns a terminal gives `text`: wide and full-width characters (漢字, かな, full-width
    forms: East Asian Width W or F) take two, combining marks and variation selectors none."""
    width = 0
    for c in text:
        if (
            unicodedata.combining(c)
            or "\ufe00" <= c <= "\ufe0f"
            or "\U000e0100" <= c <= "\U000e01ef"
        ):
            continue
        width += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
    return width


def pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded with spaces to `width` terminal columns (left-aligned unless `right`)."""
    fill = " " * max(0, width - text_width(text))
    return fill + text if right else text + fill


def table(rows: Sequence[Sequence[str]], *, right: Collection[int] = ()) -> list[str]:
    """Rows as lines whose columns line up on a terminal, Japanese text included; the columns
    in `right` are right-aligned (numbers), and the last column is not padded."""
    if not rows:
        return []
    widths = [max(text_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    last = len(widths) - 1
    return [
        "  ".join(
            cell if i == last and i not in right else pad(cell, widths[i], right=i in right)
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]
