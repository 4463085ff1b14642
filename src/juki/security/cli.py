"""`juki operator …`: register a terminal operator and print their token once; issue a new
token; revoke one. Tokens end after `--days` (default `JUKI_OPERATOR_TOKEN_DAYS`, 90)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from juki.core.clock import SystemClock
from juki.core.console import EXIT_OK, Subparsers
from juki.core.settings import Settings
from juki.security.actors import Actor
from juki.security.operators import create_operator, issue_token, revoke_token
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from juki.storage.cli import db_arg
from juki.storage.engine import open_existing

MANAGER = Actor.console(Role.OPERATIONS_MANAGER)


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    op = sub.add_parser(name, help="terminal operators and their tokens")
    op_sub = op.add_subparsers(dest="operator_command", required=True)
    p = op_sub.add_parser("add", help="create an operator and print its API token once")
    db_arg(p, settings)
    p.add_argument("--id", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM])
    _days_arg(p, settings)
    p.set_defaults(handler=cmd_add)
    t = op_sub.add_parser("token", help="issue a new token (the old one stops working); print it")
    db_arg(t, settings)
    t.add_argument("--id", required=True)
    _days_arg(t, settings)
    t.set_defaults(handler=cmd_token)
    r = op_sub.add_parser("revoke", help="revoke the operator's token at once (失効)")
    db_arg(r, settings)
    r.add_argument("--id", required=True)
    r.set_defaults(handler=cmd_revoke)


def _days_arg(p: argparse.ArgumentParser, settings: Settings) -> None:
    p.add_argument(
        "--days",
        type=int,
        default=settings.operator_token_days,
        help=f"how long the token works (1-366 days; default {settings.operator_token_days})",
    )


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_existing(args.db)
    try:
        token = create_operator(
            SqlUnitOfWork(engine, clock=SystemClock()),
            MANAGER,
            args.id,
            args.name,
            Role(args.role),
            valid_for=timedelta(days=args.days),
        )
    finally:
        engine.dispose()
    print(token)
    return EXIT_OK


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_existing(args.db)
    try:
        token = issue_token(
            SqlUnitOfWork(engine, clock=SystemClock()),
            MANAGER,
            args.id,
            valid_for=timedelta(days=args.days),
        )
    finally:
        engine.dispose()
    print(token)
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_existing(args.db)
    try:
        revoke_token(SqlUnitOfWork(engine, clock=SystemClock()), MANAGER, args.id)
    finally:
        engine.dispose()
    print(f"revoked: the token of {args.id} no longer works")
    return EXIT_OK
