"""`juki registry pending …`: 仮登録 → 本登録 from the command line, as the API has it.

Each command acts as the operator whose token is given (`--token` or $JUKI_TOKEN) and refuses
without one, changing nothing: a clerk lists, shows and withdraws their own change; a supervisor
(審査) also approves (本登録) or rejects with a reason — never a change they entered themselves.
Every call is in the oplog under that operator. Staff read Japanese: results and refusals are
Japanese lines; `--json` prints the machine output (the API's shape of a change, without its
lock targets), which stays as it is.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, Final

from juki.core.console import EXIT_OK, ConsoleError, Subparsers
from juki.core.errors import JukiError, RuleViolation
from juki.core.settings import Settings
from juki.registry.review import services
from juki.registry.review.kinds import visible_command
from juki.registry.review.model import ChangeStatus, ProvisionalChange
from juki.registry.review.schemas import change_json
from juki.registry.review.wiring import review_policy
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.credentials import add_token_arg, operator_for, require_token
from juki.storage.cli import db_arg
from juki.storage.engine import open_existing

Run = Callable[[SqlRegistryUnitOfWork, Actor, argparse.Namespace], Any]
STATUSES = [s.value for s in ChangeStatus] + ["all"]
DONE_JA: Final = {
    "approve": "承認しました（本登録）。住民票に反映し、本人確認情報を送信します",
    "reject": "却下しました。理由は記録に残ります",
    "withdraw": "取り下げました",
}


def line_ja(c: ProvisionalChange) -> str:
    """One change as staff read it: what, its state, who entered it where and when."""
    entered = c.entered_at.strftime("%Y-%m-%d %H:%M")
    who = f"入力 {c.clerk_id}（{c.terminal_id}）{entered}"
    text = f"{c.change_id}  {c.summary}  【{c.status_ja}】  {who}"
    if c.reviewer_id:
        text += f"  審査 {c.reviewer_id}"
    return text + (f"  理由：{c.reason}" if c.reason else "")


def _list(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    status = None if args.status == "all" else ChangeStatus(args.status)
    found = services.list_changes(uow, by, status, policy=args.policy)
    if args.json:
        return [change_json(c) for c in found]
    return "\n".join(line_ja(c) for c in found) or "該当する仮登録はありません"


def _show(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    change = services.get_change(uow, by, args.change_id)
    command = visible_command(change, by.role)
    if args.json:
        return change_json(change) | {"command": command}
    return line_ja(change) + "\n" + json.dumps(command, ensure_ascii=False, indent=2)


def _decided(name: str, change: ProvisionalChange, args: argparse.Namespace) -> Any:
    return change_json(change) if args.json else f"{DONE_JA[name]}\n{line_ja(change)}"


def _approve(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    change = services.approve_change(uow, by, args.change_id, policy=args.policy)
    return _decided("approve", change, args)


def _reject(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    return _decided("reject", services.reject_change(uow, by, args.change_id, args.reason), args)


def _withdraw(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    return _decided("withdraw", services.withdraw_change(uow, by, args.change_id), args)


def refusal_ja(exc: JukiError) -> str:
    """A refusal as staff read it: the Japanese message, then the field and rule (for support)."""
    where = f"{exc.field}・{exc.rule}" if isinstance(exc, RuleViolation) else type(exc).__name__
    message = getattr(exc, "message_ja", None) or "この操作は受け付けられませんでした"
    return f"エラー：{message}（{where}）"


def _handler(run: Run) -> Callable[[argparse.Namespace, Settings], int]:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        require_token(args, settings)
        args.policy = review_policy(settings)
        engine = open_existing(args.db)
        try:
            by = operator_for(engine, args, settings)
            result = run(SqlRegistryUnitOfWork(engine), by, args)
        except JukiError as exc:
            raise ConsoleError(refusal_ja(exc)) from exc
        finally:
            engine.dispose()
        if args.json:
            print(json.dumps(result, ensure_ascii=False, sort_keys=True))
        else:
            print(result)
        return EXIT_OK

    return handler


def register_pending(sub: Subparsers, settings: Settings) -> None:
    pending = sub.add_parser("pending", help="仮登録の一覧と審査（承認・却下・取下げ）")
    pending_sub = pending.add_subparsers(dest="pending_command", required=True)
    specs: list[tuple[str, str, Run]] = [
        ("list", "審査の一覧（--status の指定がなければ審査待ち）", _list),
        ("show", "仮登録を1件、入力内容とともに表示", _show),
        ("approve", "承認（本登録）：審査のみ、自分の入力は不可", _approve),
        ("reject", "却下（理由が必要）：審査のみ、自分の入力は不可", _reject),
        ("withdraw", "自分の仮登録の取下げ", _withdraw),
    ]
    for name, help_text, run in specs:
        p = pending_sub.add_parser(name, help=help_text)
        db_arg(p, settings)
        if name == "list":
            p.add_argument("--status", choices=STATUSES, default="pending", help="状態")
        else:
            p.add_argument("change_id", help="仮登録のID")
        if name == "reject":
            p.add_argument("--reason", required=True, help="却下の理由")
        p.add_argument("--json", action="store_true", help="機械処理用のJSONで出力")
        add_token_arg(p)
        p.set_defaults(handler=_handler(run))
