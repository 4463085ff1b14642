"""`juki cert kiosk-settings show|set`: this municipality's kiosk settings from the console.

Both act as the operator whose token is given (an operations manager: `manage_kiosk_settings`)
and are logged; `set` changes only the options given and keeps the rest, and refuses settings
no kiosk can follow, naming the field (exit 1).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from datetime import time
from types import MappingProxyType

import sqlalchemy as sa

from juki.certificates.kiosk.model import (
    KIOSK_KINDS,
    KioskSettings,
    MonthDay,
    parse_month_day,
    settings_to_dict,
)
from juki.certificates.kiosk.services import kiosk_settings, set_kiosk_settings
from juki.certificates.kiosk.store import SqlKioskUnitOfWork
from juki.certificates.model import CertificateKind
from juki.core.console import EXIT_OK, Subparsers
from juki.core.settings import Settings
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import open_existing

Common = Callable[[argparse.ArgumentParser, Settings], None]
ActorFor = Callable[[sa.Engine, argparse.Namespace, Role, Settings], Actor]
KINDS = sorted(k.value for k in KIOSK_KINDS)


def _kinds(text: str) -> frozenset[CertificateKind]:
    names = [t for t in text.split(",") if t]
    bad = [n for n in names if n not in KINDS]
    if bad:
        raise argparse.ArgumentTypeError(f"not a kiosk certificate: {bad[0]} (use {KINDS})")
    return frozenset(CertificateKind(n) for n in names)


def _fee(text: str) -> tuple[CertificateKind, int]:
    kind, _, yen = text.partition("=")
    if kind not in KINDS or not yen.isdigit():
        raise argparse.ArgumentTypeError(f"use KIND=YEN, KIND one of {KINDS}")
    return CertificateKind(kind), int(yen)


def _clock(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("use HH:MM") from exc


def _month_day(text: str) -> MonthDay:
    try:
        parsed = parse_month_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("use MM-DD") from exc
    assert parsed is not None
    return parsed


def changed(current: KioskSettings, args: argparse.Namespace) -> KioskSettings:
    """`current` with the options given on the command line applied."""
    fees = dict(current.fees)
    fees.update(dict(args.fee or []))
    out = dataclasses.replace(current, fees=MappingProxyType(fees))
    if args.kinds is not None:
        out = dataclasses.replace(out, kinds=args.kinds)
    if args.opens is not None:
        out = dataclasses.replace(out, opens=args.opens)
    if args.closes is not None:
        out = dataclasses.replace(out, closes=args.closes)
    if args.no_closure:
        out = dataclasses.replace(out, closed_from=None, closed_until=None)
    if args.closed_from is not None:
        out = dataclasses.replace(out, closed_from=args.closed_from)
    if args.closed_until is not None:
        out = dataclasses.replace(out, closed_until=args.closed_until)
    return out


def add_kiosk_commands(
    cert_sub: Subparsers, settings: Settings, common: Common, actor_for: ActorFor
) -> None:
    """`juki cert kiosk-settings show|set`."""
    p = cert_sub.add_parser("kiosk-settings", help="コンビニ交付: certificates, fees and hours")
    sub = p.add_subparsers(dest="kiosk_command", required=True)

    def run(args: argparse.Namespace, settings: Settings, change: bool) -> int:
        engine = open_existing(args.db)
        try:
            by = actor_for(engine, args, Role.OPERATIONS_MANAGER, settings)
            current = kiosk_settings(SqlKioskUnitOfWork(engine), by)
            if change:
                current = set_kiosk_settings(SqlKioskUnitOfWork(engine), by, changed(current, args))
        finally:
            engine.dispose()
        print(json.dumps(settings_to_dict(current), ensure_ascii=False, indent=2))
        return EXIT_OK

    c = sub.add_parser("show", help="the kiosk settings now (JSON)")
    common(c, settings)
    c.set_defaults(handler=lambda a, s: run(a, s, False))
    c = sub.add_parser("set", help="change the options given, keep the rest")
    common(c, settings)
    c.add_argument("--kinds", type=_kinds, metavar=",".join(KINDS), help="certificates offered")
    c.add_argument("--fee", type=_fee, action="append", metavar="KIND=YEN", help="repeatable")
    c.add_argument("--opens", type=_clock, metavar="HH:MM")
    c.add_argument("--closes", type=_clock, metavar="HH:MM", help="first minute closed")
    c.add_argument("--closed-from", type=_month_day, metavar="MM-DD")
    c.add_argument("--closed-until", type=_month_day, metavar="MM-DD")
    c.add_argument("--no-closure", action="store_true", help="no yearly closure")
    c.set_defaults(handler=lambda a, s: run(a, s, True))
