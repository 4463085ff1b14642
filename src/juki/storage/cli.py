"""`juki db upgrade`: apply the migrations."""

from __future__ import annotations

import argparse

from juki.core.console import EXIT_OK, Subparsers
from juki.core.settings import Settings, masked_url
from juki.storage.engine import make_engine
from juki.storage.migrate import current_revision, upgrade


def db_arg(p: argparse.ArgumentParser, settings: Settings) -> None:
    p.add_argument(
        "--db", default=settings.db_url, help="SQLAlchemy URL (default: $JUKI_DB or SQLite)"
    )


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    db = sub.add_parser(name, help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    p = db_sub.add_parser("upgrade", help="apply all migrations")
    db_arg(p, settings)
    p.set_defaults(handler=cmd_upgrade)


def cmd_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(args.db)
    try:
        upgrade(engine)
        print(f"database {masked_url(args.db)} at revision {current_revision(engine)}")
    finally:
        engine.dispose()
    return EXIT_OK
