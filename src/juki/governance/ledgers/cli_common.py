"""What the `juki ledger …` commands share: the handler (token → operator → service), dates
and times on the command line, and results as text tables or JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from juki.core.clock import JST, SystemClock
from juki.core.console import EXIT_OK, Subparsers
from juki.core.settings import Settings
from juki.governance.ledgers.store import SqlLedgerUnitOfWork
from juki.security.actors import Actor
from juki.security.credentials import add_token_arg, operator_for
from juki.storage.cli import db_arg
from juki.storage.engine import open_existing

Work = Callable[[SqlLedgerUnitOfWork, Actor, argparse.Namespace], Any]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text[:20]!r}") from None


# The type's name is `_date`, as every command's day argument is: the permission meta-test
# (tests/integration/security/test_permission_matrix.py) gives such an argument a day.
day = _date


def when(text: str) -> datetime:
    """A time; one without an offset is read as JST (the municipality's)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time (ISO 8601): {text[:30]!r}") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=JST)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def as_json(value: Any) -> Any:
    """A result (a dataclass, or a list of them) as plain JSON values."""
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for extra in ("state", "missing", "open_steps"):
            if hasattr(value, extra):
                out[extra] = as_json(getattr(value, extra))
        return out
    return _plain(value)


def show(args: argparse.Namespace, result: Any, lines: Callable[[Any], list[str]]) -> str:
    if getattr(args, "json", False):
        return json.dumps(as_json(result), ensure_ascii=False)
    return "\n".join(lines(result))


def handler_for(work: Work) -> Callable[[argparse.Namespace, Settings], int]:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        engine = open_existing(args.db)
        try:
            by = operator_for(engine, args, settings)
            print(work(SqlLedgerUnitOfWork(engine, clock=SystemClock()), by, args))
        finally:
            engine.dispose()
        return EXIT_OK

    return handler


def leaf(
    sub: Subparsers, settings: Settings, name: str, help_: str, work: Work, listing: bool = False
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_)
    db_arg(p, settings)
    add_token_arg(p)
    if listing:
        p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=handler_for(work))
    return p


def moment(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(JST).strftime("%Y-%m-%d %H:%M")
