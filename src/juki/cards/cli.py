"""`juki card …`: the counter's card operations from the console.

    juki card issue   --db URL --resident-code CODE --pin NNNN [--signing-password P]
                      [--token soft|pkcs11 | --card-backend soft|pkcs11]
    juki card status  --db URL --resident-code CODE [--json]
    juki card unlock  --db URL --card-serial S --kind auth|signing [--pin NEW] [backend]
    juki card suspend|resume|abolish --db URL --card-serial S [--reason R]

The operator's credential is, as for every command, `--operator-token` or `$JUKI_TOKEN`.
`--token` takes both meanings without ambiguity: the literal `soft` or `pkcs11` is the card's
back-end (the issue's contract); any other value is the operator's token (an operator token is
a long random string, never one of those words). `--card-backend` is the unambiguous spelling.

A standalone registry's card CA (`--card-ca DIR`, default `$JUKI_KEYS_DIR/card-ca`) is kept in
the same database's ledger (`juki.cards.local_ca`). A software card is a token file
(`--card-file`, default `$JUKI_KEYS_DIR/cards/SERIAL.json`); a PKCS#11 card is found by its
label (`--card-serial`) in `$JUKI_PKCS11_MODULE`, initialised by the card printer with the
issuer's SO PIN (`$JUKI_CARD_SO_PIN`). A PIN typed on the command line is visible to other
users of the machine in the process list: leave `--pin` out to be asked for it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa

from juki.cards import services
from juki.cards.commands import AbolishCard, IssueCard, ResetPin
from juki.cards.local_ca import LocalCertifier, load_or_create
from juki.cards.model import AbolitionReason, Backend, Card, KeyKind
from juki.cards.store import SqlCardUnitOfWork
from juki.cards.token import CardUnavailable, CardWriter
from juki.core.clock import SystemClock
from juki.core.console import EXIT_OK, ConsoleError, Subparsers
from juki.core.settings import Settings
from juki.security.actors import Actor
from juki.security.credentials import add_token_arg, operator_for
from juki.storage.cli import db_arg
from juki.storage.engine import open_existing

BACKENDS: Final = ("soft", "pkcs11")
Work = Callable[[SqlCardUnitOfWork, Actor, argparse.Namespace, Settings], Any]


def backend_of(args: argparse.Namespace) -> Backend:
    """The card back-end from `--card-backend` or `--token soft|pkcs11`; the operator token,
    if `--token` held one, stays in `args.token`."""
    chosen = getattr(args, "card_backend", None)
    token = getattr(args, "token", None)
    if token in BACKENDS:
        if chosen is not None and chosen != token:
            raise ConsoleError(f"token: --token {token} and --card-backend {chosen} disagree")
        chosen, args.token = token, None  # the operator's token is then $JUKI_TOKEN
    return Backend(chosen or "soft")


def _secret(given: str | None, prompt: str) -> str:
    return given if given is not None else getpass.getpass(prompt)


def _card_file(args: argparse.Namespace, settings: Settings, serial: str) -> Path:
    return Path(args.card_file or Path(settings.keys_dir) / "cards" / f"{serial}.json")


def writer_for(
    backend: Backend, args: argparse.Namespace, settings: Settings, serial: str, new: bool
) -> CardWriter:
    if backend is Backend.PKCS11:
        from juki.cards.pkcs11_token import Pkcs11CardToken

        module = args.module or settings.pkcs11_module
        if not module:
            raise ConsoleError("module: set JUKI_PKCS11_MODULE or give --module")
        return Pkcs11CardToken(module, serial, os.environ.get("JUKI_CARD_SO_PIN"))
    from juki.cards.soft import SoftCardToken

    path = _card_file(args, settings, serial)
    if new:
        if path.exists():
            raise ConsoleError(f"card_file: {path} exists; a new card needs a new file")
        return SoftCardToken(serial, path=path)
    try:
        return SoftCardToken.load(path)
    except CardUnavailable as exc:
        raise ConsoleError(f"card_file: {exc}") from None


def _certifier(engine: sa.Engine, args: argparse.Namespace, settings: Settings) -> LocalCertifier:
    clock = SystemClock()
    ca_dir = Path(args.card_ca or Path(settings.keys_dir) / "card-ca")
    return LocalCertifier(engine, load_or_create(ca_dir, clock), clock)


def _issue(uow: SqlCardUnitOfWork, by: Actor, args: argparse.Namespace, s: Settings) -> Card:
    backend = backend_of(args)
    serial = args.card_serial or secrets.token_hex(8).upper()
    pin = _secret(args.pin, "利用者証明用暗証番号 (4 digits): ")
    cmd = IssueCard(args.resident_code, serial, backend, date.today(), pin, args.signing_password)
    writer = writer_for(backend, args, s, serial, new=True)
    return services.issue_card(uow, by, cmd, writer, _certifier(uow.engine, args, s))


def _status(uow: SqlCardUnitOfWork, by: Actor, args: argparse.Namespace, _: Settings) -> Any:
    return services.cards_of(uow, by, args.resident_code)


def _unlock(uow: SqlCardUnitOfWork, by: Actor, args: argparse.Namespace, s: Settings) -> Card:
    backend = backend_of(args)
    kind = KeyKind(args.kind)
    pin = _secret(args.pin, f"new {kind.label_en}: ")
    writer = writer_for(backend, args, s, args.card_serial, new=False)
    return services.reset_card_pin(uow, by, ResetPin(args.card_serial, kind, pin), writer)


def _abolish(uow: SqlCardUnitOfWork, by: Actor, args: argparse.Namespace, s: Settings) -> Card:
    cmd = AbolishCard(args.card_serial, AbolitionReason(args.reason), date.today())
    return services.abolish_card(uow, by, cmd, _certifier(uow.engine, args, s))


def _suspend(uow: SqlCardUnitOfWork, by: Actor, args: argparse.Namespace, s: Settings) -> Card:
    return services.suspend_card(uow, by, args.card_serial, _certifier(uow.engine, args, s))


def _resume(uow: SqlCardUnitOfWork, by: Actor, args: argparse.Namespace, s: Settings) -> Card:
    return services.resume_card(uow, by, args.card_serial, _certifier(uow.engine, args, s))


def _shown(card: Card) -> dict[str, Any]:
    return {
        "card_serial": card.card_serial,
        "resident_code": card.resident_code,
        "status": card.status.value,
        "backend": card.backend.value,
        "issued_on": card.issued_on.isoformat() if card.issued_on else None,
        "expires_on": card.expires_on.isoformat() if card.expires_on else None,
        "signing_certificate": card.signing_cert_serial is not None,
        "abolition_reason": card.abolition_reason.value if card.abolition_reason else None,
    }


def _handler(work: Work) -> Callable[[argparse.Namespace, Settings], int]:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        if hasattr(args, "card_backend"):
            backend_of(args)  # settle what --token means before the credential is read
        engine = open_existing(args.db)
        try:
            by = operator_for(engine, args, settings)
            result = work(SqlCardUnitOfWork(engine, clock=SystemClock()), by, args, settings)
        finally:
            engine.dispose()
        if isinstance(result, list) and args.json:
            print(json.dumps([_shown(c) for c in result], ensure_ascii=False))
        elif isinstance(result, list):
            for card in result:
                print("\t".join(str(v) for v in _shown(card).values()))
        else:
            print(f"card {result.card_serial}: {result.status.value}")
        return EXIT_OK

    return handler


def _parser(
    sub: Subparsers, settings: Settings, name: str, help_: str, work: Work
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_)
    db_arg(p, settings)
    add_token_arg(p)
    p.set_defaults(handler=_handler(work))
    return p


def _backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--card-backend", choices=BACKENDS, default=None, help="default: soft")
    p.add_argument("--card-file", default=None, help="a software card's token file")
    p.add_argument("--module", default=None, help="PKCS#11 module (default $JUKI_PKCS11_MODULE)")


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    top = sub.add_parser(name, help="個人番号カード: issue, status, unlock, abolish")
    s = top.add_subparsers(dest="card_command", required=True)
    p = _parser(s, settings, "issue", "交付: keys on the card, certificates from the CA", _issue)
    p.add_argument("--resident-code", required=True)
    p.add_argument("--pin", default=None, help="4 digits (asked for when left out)")
    p.add_argument("--signing-password", default=None, help="6-16 of A-Z 0-9 (from age 15)")
    p.add_argument("--card-serial", default=None, help="default: a random serial (soft)")
    p.add_argument("--card-ca", default=None, help="a standalone registry's card CA directory")
    _backend_args(p)
    p = _parser(s, settings, "status", "a resident's cards", _status)
    p.add_argument("--resident-code", required=True)
    p.add_argument("--json", action="store_true")
    p = _parser(s, settings, "unlock", "暗証番号の初期化 (暗証番号管理者)", _unlock)
    p.add_argument("--card-serial", required=True)
    p.add_argument("--kind", choices=[k.value for k in KeyKind], default=KeyKind.AUTH.value)
    p.add_argument("--pin", default=None, help="the new PIN (asked for when left out)")
    _backend_args(p)
    p = _parser(s, settings, "abolish", "廃止: the CA revokes both certificates", _abolish)
    p.add_argument("--card-serial", required=True)
    p.add_argument("--reason", choices=[r.value for r in AbolitionReason], default="returned")
    p.add_argument("--card-ca", default=None, help="a standalone registry's card CA directory")
    p = _parser(s, settings, "suspend", "一時停止", _suspend)
    p.add_argument("--card-serial", required=True)
    p = _parser(s, settings, "resume", "一時停止の解除", _resume)
    p.add_argument("--card-serial", required=True)
