"""`juki operator …`: the operator ledger from the console (照合ID及び操作者IDの管理簿).

`add` registers an operator and prints the one-time code with which they enrol their 照合情報 at
a terminal; `token` issues the command-line token for a stated purpose and prints it once;
`suspend`, `reinstate`, `withdraw`, `transfer` and `unlock` change the operator's standing with
a reason; `card` makes the key pair on an operator card and registers it; `terminal` registers
a terminal for a municipality; `ledger` lists what happened to whom. With `--token` (or
$JUKI_TOKEN) these act as that operator, whose role must allow them; without one, as the server
console's アクセス管理責任者 (`Actor.console`) — the way the first operator is registered. Every
change is in the ledger and the oplog, with who did it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from juki.core.clock import SystemClock
from juki.core.console import EXIT_OK, ConsoleError, Subparsers
from juki.core.settings import Settings
from juki.security.actors import Actor
from juki.security.credentials import add_token_arg, given_token, operator_for
from juki.security.operators import issue_token, revoke_token
from juki.security.permissions import NODE_ROLES, Role
from juki.security.uow import SqlUnitOfWork
from juki.security.verification import ledger
from juki.storage.cli import db_arg
from juki.storage.engine import open_existing

Work = Callable[[SqlUnitOfWork, Actor, argparse.Namespace, Settings], str]
ROLES = [r.value for r in Role if r not in NODE_ROLES]


def _actor(engine: sa.Engine, args: argparse.Namespace, settings: Settings) -> Actor:
    if given_token(args, settings):
        return operator_for(engine, args, settings)
    return Actor.console(Role.ACCESS_MANAGER)


def _handler(work: Work) -> Callable[[argparse.Namespace, Settings], int]:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        engine = open_existing(args.db)
        try:
            uow = SqlUnitOfWork(engine, clock=SystemClock())
            print(work(uow, _actor(engine, args, settings), args, settings))
        finally:
            engine.dispose()
        return EXIT_OK

    return handler


def _add(uow: SqlUnitOfWork, by: Actor, args: argparse.Namespace, _: Settings) -> str:
    return ledger.register_operator(uow, by, args.id, args.name, Role(args.role))


def _token(uow: SqlUnitOfWork, by: Actor, args: argparse.Namespace, _: Settings) -> str:
    return issue_token(uow, by, args.id, timedelta(days=args.days), purpose=args.purpose)


def _revoke(uow: SqlUnitOfWork, by: Actor, args: argparse.Namespace, _: Settings) -> str:
    revoke_token(uow, by, args.id)
    return f"revoked: the token of {args.id} no longer works"


def _standing(change: Callable[[SqlUnitOfWork, Actor, str, str], None], said: str) -> Work:
    def work(uow: SqlUnitOfWork, by: Actor, args: argparse.Namespace, _: Settings) -> str:
        change(uow, by, args.id, args.reason)
        return f"{said}: {args.id}"

    return work


def _transfer(uow: SqlUnitOfWork, by: Actor, args: argparse.Namespace, _: Settings) -> str:
    code = ledger.transfer_operator(uow, by, args.id, Role(args.role), args.reason)
    return code  # the new enrolment code: 照合情報 is enrolled again for the new role


def _enrolment(uow: SqlUnitOfWork, by: Actor, args: argparse.Namespace, _: Settings) -> str:
    return ledger.new_enrolment_code(uow, by, args.id, args.reason)


def _card(uow: SqlUnitOfWork, by: Actor, args: argparse.Namespace, settings: Settings) -> str:
    from juki.security.verification.cards import Pkcs11Reader

    module = args.module or settings.pkcs11_module
    if not module:
        raise ConsoleError("module: set JUKI_PKCS11_MODULE or give --module (the card's PKCS#11)")
    pin = os.environ.get("JUKI_CARD_PIN") or getpass.getpass("暗証番号 (card PIN): ")
    public_key = Pkcs11Reader(module).make_key(args.label, pin)
    card_id = ledger.issue_card(uow, by, args.id, args.label, public_key, args.reason)
    return f"card {card_id} issued to {args.id}"


def _terminal(uow: SqlUnitOfWork, by: Actor, args: argparse.Namespace, _: Settings) -> str:
    ledger.register_terminal(uow, by, args.terminal_id, args.municipality, args.description)
    return f"terminal {args.terminal_id} registered for {args.municipality}"


def _ledger(uow: SqlUnitOfWork, by: Actor, args: argparse.Namespace, _: Settings) -> str:
    rows = ledger.operator_ledger(uow, by, args.id)
    if args.json:
        return json.dumps([_row(r) for r in rows], ensure_ascii=False)
    return "\n".join(
        f"{r.at}\t{r.operator_id}\t{r.event}\t{r.by_actor} ({r.by_role})\t{r.reason}\t{r.detail}"
        for r in rows
    )


def _row(entry: Any) -> dict[str, str]:
    return {k: getattr(entry, k) for k in entry.__dataclass_fields__}


def _parser(
    sub: Subparsers, settings: Settings, name: str, help_: str, work: Work
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_)
    db_arg(p, settings)
    add_token_arg(p)
    p.set_defaults(handler=_handler(work))
    return p


def _reasoned(
    sub: Subparsers, settings: Settings, name: str, help_: str, work: Work
) -> argparse.ArgumentParser:
    p = _parser(sub, settings, name, help_, work)
    p.add_argument("--id", required=True)
    p.add_argument("--reason", required=True, help="why (kept in the ledger)")
    return p


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    op = sub.add_parser(name, help="terminal operators, their cards, tokens and ledger")
    s = op.add_subparsers(dest="operator_command", required=True)
    p = _parser(s, settings, "add", "register an operator; print the enrolment code once", _add)
    p.add_argument("--id", required=True, help="照合ID")
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=ROLES, help="操作者ID")
    p = _parser(s, settings, "token", "issue the command-line token; print it once", _token)
    p.add_argument("--id", required=True)
    p.add_argument("--purpose", required=True, help="what the token is for (kept with it)")
    p.add_argument(
        "--days",
        type=int,
        default=settings.operator_token_days,
        help=f"how long the token works (1-366 days; default {settings.operator_token_days})",
    )
    p = _parser(s, settings, "revoke", "revoke the operator's token at once (失効)", _revoke)
    p.add_argument("--id", required=True)
    _reasoned(s, settings, "suspend", "停止", _standing(ledger.suspend_operator, "suspended"))
    _reasoned(
        s, settings, "reinstate", "停止の解除", _standing(ledger.reinstate_operator, "reinstated")
    )
    _reasoned(s, settings, "withdraw", "廃止", _standing(ledger.withdraw_operator, "withdrawn"))
    _reasoned(s, settings, "unlock", "lockout cleared", _standing(ledger.clear_lockout, "unlocked"))
    _reasoned(s, settings, "enrolment", "a new enrolment code; print it once", _enrolment)
    p = _reasoned(s, settings, "transfer", "異動: new role; card and 照合情報 withdrawn", _transfer)
    p.add_argument("--role", required=True, choices=ROLES)
    p = _parser(s, settings, "card", "操作識別カード: make its key and register it", _card)
    p.add_argument("--id", required=True)
    p.add_argument("--label", required=True, help="the card's token label")
    p.add_argument("--module", default=None, help="PKCS#11 module (default $JUKI_PKCS11_MODULE)")
    p.add_argument("--reason", default="交付")
    p = _parser(s, settings, "terminal", "register a terminal for a municipality", _terminal)
    p.add_argument("--terminal-id", required=True)
    p.add_argument("--municipality", required=True, metavar="LGCODE")
    p.add_argument("--description", required=True)
    p = _parser(s, settings, "ledger", "照合ID及び操作者IDの管理簿", _ledger)
    p.add_argument("--id", default=None, help="one operator (default: all)")
    p.add_argument("--json", action="store_true")
