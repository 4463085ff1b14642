"""`juki registry pending …`: 仮登録 → 本登録 from the command line, as the API has it.

Each command acts as the operator whose token is given (`--token` or $JUKI_TOKEN) and refuses
without one, changing nothing: a clerk lists, shows and withdraws their own change; a supervisor
(審査) also approves (本登録) or rejects with a reason — never a change they entered themselves.
Every call is in the oplog under that operator. Output is JSON.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from juki.core.console import EXIT_OK, Subparsers
from juki.core.settings import Settings
from juki.registry.review import services
from juki.registry.review.kinds import command_json, without_items
from juki.registry.review.model import ChangeStatus, ProvisionalChange
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.credentials import add_token_arg, operator_for, require_token
from juki.security.permissions import hidden_items
from juki.storage.cli import db_arg
from juki.storage.engine import open_existing

Run = Callable[[SqlRegistryUnitOfWork, Actor, argparse.Namespace], Any]
STATUSES = [s.value for s in ChangeStatus] + ["all"]


def change_json(c: ProvisionalChange) -> dict[str, Any]:
    return {
        "change_id": c.change_id,
        "kind": c.kind,
        "kind_ja": c.kind_ja,
        "summary": c.summary,
        "status": c.status.value,
        "status_ja": c.status_ja,
        "clerk_id": c.clerk_id,
        "terminal_id": c.terminal_id,
        "entered_at": c.entered_at.isoformat(),
        "reviewer_id": c.reviewer_id,
        "reviewed_at": c.reviewed_at.isoformat() if c.reviewed_at else None,
        "reason": c.reason,
        "records": list(c.records),
    }


def _list(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    status = None if args.status == "all" else ChangeStatus(args.status)
    return [change_json(c) for c in services.list_changes(uow, by, status)]


def _show(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    change = services.get_change(uow, by, args.change_id)
    command = without_items(command_json(change.command), hidden_items(by.role))
    return change_json(change) | {"command": command}


def _approve(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    return change_json(services.approve_change(uow, by, args.change_id))


def _reject(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    return change_json(services.reject_change(uow, by, args.change_id, args.reason))


def _withdraw(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    return change_json(services.withdraw_change(uow, by, args.change_id))


def _handler(run: Run) -> Callable[[argparse.Namespace, Settings], int]:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        require_token(args, settings)
        engine = open_existing(args.db)
        try:
            result = run(SqlRegistryUnitOfWork(engine), operator_for(engine, args, settings), args)
        finally:
            engine.dispose()
        print(json.dumps(result, ensure_ascii=False, sort_keys=True))
        return EXIT_OK

    return handler


def register_pending(sub: Subparsers, settings: Settings) -> None:
    pending = sub.add_parser("pending", help="仮登録: provisional changes and their review")
    pending_sub = pending.add_subparsers(dest="pending_command", required=True)
    specs: list[tuple[str, str, Run]] = [
        ("list", "the review list (審査待ち unless --status says otherwise)", _list),
        ("show", "one provisional change, with its command", _show),
        ("approve", "本登録: apply it (審査; never one's own)", _approve),
        ("reject", "却下 with a reason (審査; never one's own)", _reject),
        ("withdraw", "取下げ of one's own provisional change", _withdraw),
    ]
    for name, help_text, run in specs:
        p = pending_sub.add_parser(name, help=help_text)
        db_arg(p, settings)
        if name == "list":
            p.add_argument("--status", choices=STATUSES, default="pending")
        else:
            p.add_argument("change_id", help="the provisional change's id")
        if name == "reject":
            p.add_argument("--reason", required=True, help="却下の理由")
        add_token_arg(p)
        p.set_defaults(handler=_handler(run))
