"""`juki operator add`: register a terminal operator and print their token once."""

from __future__ import annotations

import argparse

from juki.core.clock import SystemClock
from juki.core.console import EXIT_OK, Subparsers
from juki.core.settings import Settings
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from juki.storage.cli import db_arg
from juki.storage.engine import open_existing


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    op = sub.add_parser(name, help="terminal operators")
    op_sub = op.add_subparsers(dest="operator_command", required=True)
    p = op_sub.add_parser("add", help="create an operator and print its API token once")
    db_arg(p, settings)
    p.add_argument("--id", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM])
    p.set_defaults(handler=cmd_add)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_existing(args.db)
    try:
        token = create_operator(
            SqlUnitOfWork(engine, clock=SystemClock()),
            Actor.console(Role.OPERATIONS_MANAGER),
            args.id,
            args.name,
            Role(args.role),
        )
    finally:
        engine.dispose()
    print(token)
    return EXIT_OK
