"""`juki registry stats`: the registry's counts, as JSON; `juki registry support …`: 支援措置;
`juki registry resident-code change`: 住民票コードの変更請求 (法第30条の4), reviewed like any
change unless the municipality turned review off, and `… notice CHANGE_ID`: its 住民票コード通知
once approved; `juki registry pending …`: 仮登録 → 本登録 (juki.registry.review.cli). Each
needs an operator's token (`--token` or $JUKI_TOKEN)."""

from __future__ import annotations

import argparse
import json
from datetime import date

from juki.core.console import EXIT_OK, Subparsers
from juki.core.settings import Settings
from juki.registry.commands import ChangeResidentCode
from juki.registry.review.cli import register_pending
from juki.registry.review.kinds import KINDS
from juki.registry.review.model import ProvisionalChange
from juki.registry.review.schemas import change_json
from juki.registry.review.services import file_change, resident_code_notice
from juki.registry.review.wiring import review_policy
from juki.registry.services import change_resident_code, registry_stats
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
    register_pending(reg_sub, settings)
    codes = reg_sub.add_parser("resident-code", help="住民票コード")
    codes_sub = codes.add_subparsers(dest="code_command", required=True)
    p = codes_sub.add_parser(
        "change", help="住民票コードの変更請求: a new random code, and the notice to print"
    )
    db_arg(p, settings)
    p.add_argument("record_id", help="the resident's record")
    p.add_argument("--reason", required=True, help="the reason the request gives")
    p.add_argument("--requested-on", type=_date, default=None, help="請求日 (default: today)")
    add_token_arg(p)
    p.set_defaults(handler=cmd_change_code)
    p = codes_sub.add_parser("notice", help="住民票コード通知書: of an approved change, to print")
    db_arg(p, settings)
    p.add_argument("change_id", help="the approved provisional change")
    add_token_arg(p)
    p.set_defaults(handler=cmd_code_notice)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("use YYYY-MM-DD") from exc


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    require_token(args, settings)
    engine = open_existing(args.db)
    try:
        stats = registry_stats(SqlRegistryUnitOfWork(engine), operator_for(engine, args, settings))
    finally:
        engine.dispose()
    print(json.dumps(dict(stats), ensure_ascii=False, sort_keys=True))
    return EXIT_OK


def cmd_change_code(args: argparse.Namespace, settings: Settings) -> int:
    """As the operator whose token is given; the action is in the oplog. Prints JSON: the
    provisional change (review on: no new code yet, no notice) or, review off, the new code
    with the 住民票コード通知's text."""
    require_token(args, settings)
    engine = open_existing(args.db)
    try:
        by = operator_for(engine, args, settings)
        uow = SqlRegistryUnitOfWork(engine)
        cmd = ChangeResidentCode(
            record_id=args.record_id,
            reason=args.reason,
            requested_on=args.requested_on or uow.clock.today(),
        )
        kind = KINDS["resident-code-change"]
        policy = review_policy(settings)
        result = file_change(uow, by, kind, cmd, policy=policy, apply=change_resident_code)
    finally:
        engine.dispose()
    if isinstance(result, ProvisionalChange):
        out = change_json(result)
    else:
        out = {
            "record_id": result.record.record_id,
            "former_resident_code": result.former_resident_code,
            "resident_code": result.record.resident_code,
            "notice_text_ja": result.notice.text_ja,
        }
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))
    return EXIT_OK


def cmd_code_notice(args: argparse.Namespace, settings: Settings) -> int:
    """The notice's text, for the operator to print; the printing is in the oplog."""
    require_token(args, settings)
    engine = open_existing(args.db)
    try:
        by = operator_for(engine, args, settings)
        record_id, notice = resident_code_notice(SqlRegistryUnitOfWork(engine), by, args.change_id)
    finally:
        engine.dispose()
    out = {
        "change_id": args.change_id,
        "record_id": record_id,
        "resident_code": notice.resident_code,
        "notice_text_ja": notice.text_ja,
    }
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))
    return EXIT_OK
