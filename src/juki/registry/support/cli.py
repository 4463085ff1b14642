"""`juki registry support …`: 支援措置 from the command line, as the API has them.

Each command acts as the operator whose token is given (`--token` or $JUKI_TOKEN) and refuses
without one; the operator's role must allow the action (a registry supervisor records, renews,
releases, terminates or shows a measure; a counter clerk asks whether a person is protected),
and the action is in the oplog under that operator. Output is JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from datetime import date
from typing import Any

from juki.core.console import EXIT_OK, ConsoleError, Subparsers
from juki.core.settings import Settings
from juki.registry.support import services
from juki.registry.support.commands import (
    RecordSupportMeasure,
    ReleaseSupportMeasure,
    RenewSupportMeasure,
    TerminateSupportMeasure,
)
from juki.registry.support.model import RestrainedParty, SupportKind, SupportMeasure
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.credentials import MISSING, add_token_arg, given_token, operator_for
from juki.security.permissions import Role
from juki.storage.cli import db_arg
from juki.storage.engine import open_existing

Run = Callable[[SqlRegistryUnitOfWork, Actor, argparse.Namespace], Any]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("use YYYY-MM-DD") from exc


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, SupportKind):
        return value.value
    raise TypeError(type(value).__name__)


def measure_json(m: SupportMeasure, today: date) -> dict[str, Any]:
    out = dataclasses.asdict(m)
    out["kind_ja"] = m.kind.label_ja
    out["last_day"] = m.last_day
    out["in_force_today"] = m.in_force(today)
    return out


def _runner(run: Run, role: Role) -> Callable[[argparse.Namespace, Settings], int]:
    """The handler: a token first (a `role`'s), then the database, then the action."""

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        if not given_token(args, settings):
            raise ConsoleError(f"{MISSING} (a {role.value}'s, for this command)")
        engine = open_existing(args.db)
        try:
            uow = SqlRegistryUnitOfWork(engine)
            result = run(uow, operator_for(engine, args, settings), args)
            today = uow.clock.today()
        finally:
            engine.dispose()
        if isinstance(result, SupportMeasure):
            result = measure_json(result, today)
        elif isinstance(result, list):
            result = [measure_json(m, today) for m in result]
        else:
            result = dataclasses.asdict(result)
        print(json.dumps(result, ensure_ascii=False, sort_keys=True, default=_json))
        return EXIT_OK

    return handler


def _record(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> SupportMeasure:
    party = RestrainedParty(
        family_name=args.against_family_name,
        given_name=args.against_given_name,
        name_kana=args.against_kana,
        birth_date=args.against_birth_date,
        address=args.against_address,
        relation=args.against_relation,
    )
    cmd = RecordSupportMeasure(
        kind=SupportKind(args.kind),
        requested_on=args.requested_on,
        record_ids=tuple(args.record_id),
        restrained=(party,),
        note=args.note,
        starts_on=args.starts_on,
    )
    return services.record_support_measure(uow, by, cmd)


def _renew(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> SupportMeasure:
    cmd = RenewSupportMeasure(args.measure_id, args.requested_on)
    return services.renew_support_measure(uow, by, cmd)


def _release(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> SupportMeasure:
    cmd = ReleaseSupportMeasure(
        args.measure_id, args.released_from, args.released_until, args.purpose, args.requested_on
    )
    return services.release_support_measure(uow, by, cmd)


def _end(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> SupportMeasure:
    cmd = TerminateSupportMeasure(args.measure_id, args.on, args.reason)
    return services.terminate_support_measure(uow, by, cmd)


def _show(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    if args.record_id:
        return list(services.support_measures_of(uow, by, args.record_id))
    if not args.measure_id:
        raise ConsoleError("show: give a MEASURE_ID or --record-id")
    return services.support_measure(uow, by, args.measure_id)


def _status(uow: SqlRegistryUnitOfWork, by: Actor, args: argparse.Namespace) -> Any:
    return services.protection(uow, by, args.record_id, args.on)


def _common(p: argparse.ArgumentParser, settings: Settings) -> None:
    db_arg(p, settings)
    add_token_arg(p)


def _add_record(sub: Subparsers, settings: Settings) -> None:
    p = sub.add_parser("record", help="支援措置の申出を記録し、措置を開始する (1年間)")
    _common(p, settings)
    p.add_argument("--record-id", action="append", required=True, help="protected person")
    p.add_argument("--kind", choices=[k.value for k in SupportKind], required=True)
    p.add_argument("--requested-on", type=_date, required=True, help="申出日")
    p.add_argument("--starts-on", type=_date, default=None, help="決定日 (default: today)")
    p.add_argument("--note", required=True, help="how the need was confirmed")
    p.add_argument("--against-family-name", required=True, help="加害者の氏")
    p.add_argument("--against-given-name", required=True, help="加害者の名")
    p.add_argument("--against-kana", default=None)
    p.add_argument("--against-birth-date", type=_date, default=None)
    p.add_argument("--against-address", default=None, help="as known; may be elsewhere")
    p.add_argument("--against-relation", default=None, help="e.g. 元夫")
    p.set_defaults(handler=_runner(_record, Role.REGISTRY_SUPERVISOR))


def register_support(reg_sub: Subparsers, settings: Settings) -> None:
    """`juki registry support …`."""
    sup = reg_sub.add_parser("support", help="支援措置 (support measures)")
    sub = sup.add_subparsers(dest="support_command", required=True)
    _add_record(sub, settings)
    p = sub.add_parser("renew", help="延長: one more year from the day after the end")
    _common(p, settings)
    p.add_argument("measure_id")
    p.add_argument("--requested-on", type=_date, required=True)
    p.set_defaults(handler=_runner(_renew, Role.REGISTRY_SUPERVISOR))
    p = sub.add_parser("release", help="一時的な解除 for a purpose and a period")
    _common(p, settings)
    p.add_argument("measure_id")
    p.add_argument("--from", dest="released_from", type=_date, required=True)
    p.add_argument("--until", dest="released_until", type=_date, required=True)
    p.add_argument("--purpose", required=True)
    p.add_argument("--requested-on", type=_date, required=True)
    p.set_defaults(handler=_runner(_release, Role.REGISTRY_SUPERVISOR))
    p = sub.add_parser("end", help="終了: not in force from --on")
    _common(p, settings)
    p.add_argument("measure_id")
    p.add_argument("--on", type=_date, required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=_runner(_end, Role.REGISTRY_SUPERVISOR))
    p = sub.add_parser("show", help="a measure, or every measure of --record-id")
    _common(p, settings)
    p.add_argument("measure_id", nargs="?")
    p.add_argument("--record-id", default=None)
    p.set_defaults(handler=_runner(_show, Role.REGISTRY_SUPERVISOR))
    p = sub.add_parser("status", help="is the person protected on --on (default today)")
    _common(p, settings)
    p.add_argument("record_id")
    p.add_argument("--on", type=_date, default=None)
    p.set_defaults(handler=_runner(_status, Role.COUNTER_CLERK))
