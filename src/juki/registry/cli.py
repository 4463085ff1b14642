"""`juki registry stats`: the registry's counts, as JSON; `juki registry support …`: 支援措置.
Both need an operator's token (`--token` or $JUKI_TOKEN)."""

from __future__ import annotations

import argparse
import json

from juki.core.console import EXIT_OK, Subparsers
from juki.core.settings import Settings
from juki.registry.services import registry_stats
from juki.registry.support.cli import register_support
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.credentials import add_token_arg, operator_for, require_token
from juki.storage.cli import db_arg
from juki.storage.engine import open_existing


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    reg = sub.add_parser(name, help="registry reports")
    reg_sub = reg.add_subparsers(dest="registry_command", required=True)
    p = reg_sub.add_parser("stats", help="counts as JSON")
    db_arg(p, settings)
    add_token_arg(p)
    p.set_defaults(handler=cmd_stats)
    register_support(reg_sub, settings)


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    require_token(args, settings)
    engine = open_existing(args.db)
    try:
        stats = registry_stats(SqlRegistryUnitOfWork(engine), operator_for(engine, args, settings))
    finally:
        engine.dispose()
    print(json.dumps(dict(stats), ensure_ascii=False, sort_keys=True))
    return EXIT_OK
