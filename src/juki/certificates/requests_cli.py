"""`juki cert issue --third-party …` (a third party's 申出, 第12条の3) and `juki cert self-notice …`
(本人通知: register, withdraw, the notices to post, mark one sent).

`juki.certificates.cli` adds these to its parser and hands over its own helpers (the options
every registry command takes, and who the console acts as), so this module needs nothing of it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from juki.certificates.self_notice import SelfNotice
from juki.certificates.services.self_notice import (
    mark_self_notice_sent,
    register_self_notice,
    self_notices_to_send,
    withdraw_self_notice,
)
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.certificates.third_party import (
    IdDocument,
    Qualification,
    RequestBasis,
    ThirdPartyRequest,
)
from juki.core.console import EXIT_OK, Subparsers
from juki.core.settings import Settings
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import open_existing

Common = Callable[[argparse.ArgumentParser, Settings], None]
ActorFor = Callable[[sa.Engine, argparse.Namespace, Role, Settings], Actor]


def add_third_party_options(p: argparse.ArgumentParser) -> None:
    """The 申出's items on `juki cert issue` (with --third-party; refused without them)."""
    g = p.add_argument_group("third party (第12条の3; with --third-party)")
    g.add_argument("--basis", choices=[b.value for b in RequestBasis], help="請求の根拠")
    g.add_argument("--purpose", default="", help="利用目的, concretely")
    g.add_argument("--requester-name", default="", help="請求者の氏名 (a 法人: its name)")
    g.add_argument("--requester-address", default="", help="住所 (a 法人: its office)")
    g.add_argument("--corporation", action="store_true", help="the requester is a 法人")
    g.add_argument("--person-in-charge", default="", help="a 法人's person who came")
    g.add_argument("--qualification", choices=[q.value for q in Qualification], help="第2項")
    g.add_argument("--registration-number", default="", help="第2項: the qualification's number")
    g.add_argument("--client-name", default="", help="第2項: 依頼者の氏名")
    g.add_argument("--id-document", choices=[d.value for d in IdDocument], help="本人確認書類")
    g.add_argument("--id-document-number", default="", help="its number, as seen")


def third_party_of(args: argparse.Namespace) -> ThirdPartyRequest | None:
    """The 申出 given on the command line, or None when no third party's item was given (the
    rules then refuse a --third-party request, naming what is missing)."""
    if not getattr(args, "third_party", False) or args.basis is None:
        return None
    return ThirdPartyRequest(
        basis=RequestBasis(args.basis),
        purpose=args.purpose,
        requester_name=args.requester_name,
        requester_address=args.requester_address,
        id_document=IdDocument(args.id_document) if args.id_document else None,
        id_document_number=args.id_document_number,
        corporation=args.corporation,
        person_in_charge=args.person_in_charge,
        qualification=Qualification(args.qualification) if args.qualification else None,
        registration_number=args.registration_number,
        client_name=args.client_name,
    )


def _notice_dict(n: SelfNotice) -> dict[str, Any]:
    return {
        "notice_id": n.notice_id,
        "certificate_id": n.certificate_id,
        "resident_code": n.resident_code,
        "issued_on": n.issued_on.isoformat(),
        "kind": n.kind.value,
        "copies": n.copies,
        "basis": n.basis.value,
        "requester_name": n.requester_name,
        "recipient_name": n.recipient_name,
        "recipient_address": n.recipient_address,
        "text_ja": n.text_ja,
        "sent_at": n.sent_at,
    }


def _run(
    actor_for: ActorFor, settings: Settings, args: argparse.Namespace, work: Callable[..., Any]
) -> Any:
    engine = open_existing(args.db)
    try:
        by = actor_for(engine, args, Role.COUNTER_CLERK, settings)
        return work(SqlCertificateUnitOfWork(engine), by)
    finally:
        engine.dispose()


def add_self_notice_commands(
    cert_sub: Subparsers, settings: Settings, common: Common, actor_for: ActorFor
) -> None:
    """`juki cert self-notice register|withdraw|list|sent`."""
    p = cert_sub.add_parser("self-notice", help="本人通知: registrations and the notices to post")
    sub = p.add_subparsers(dest="self_notice_command", required=True)

    def cmd_register(args: argparse.Namespace, settings: Settings) -> int:
        r = _run(actor_for, settings, args, lambda u, by: register_self_notice(u, by, args.code))
        print(f"registered: {r.resident_code} ({r.registration_id}) at {r.registered_at}")
        return EXIT_OK

    def cmd_withdraw(args: argparse.Namespace, settings: Settings) -> int:
        r = _run(actor_for, settings, args, lambda u, by: withdraw_self_notice(u, by, args.code))
        print(f"withdrawn: {r.resident_code} ({r.registration_id}) at {r.withdrawn_at}")
        return EXIT_OK

    def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
        notices = _run(
            actor_for,
            settings,
            args,
            lambda u, by: self_notices_to_send(u, by, pending=not args.all, limit=args.limit),
        )
        if args.json:
            print(json.dumps([_notice_dict(n) for n in notices], ensure_ascii=False, indent=2))
            return EXIT_OK
        for n in notices:
            state = f"sent {n.sent_at}" if n.sent_at else "to send"
            print(f"{n.notice_id}  {state}  〒 {n.recipient_address}  {n.text_ja}")
        return EXIT_OK

    def cmd_sent(args: argparse.Namespace, settings: Settings) -> int:
        n = _run(actor_for, settings, args, lambda u, by: mark_self_notice_sent(u, by, args.id))
        print(f"sent: {n.notice_id} to {n.resident_code} at {n.sent_at}")
        return EXIT_OK

    for name, help_, handler in (
        ("register", "register a resident (本人通知の登録)", cmd_register),
        ("withdraw", "withdraw a resident's registration (登録の廃止)", cmd_withdraw),
    ):
        c = sub.add_parser(name, help=help_)
        common(c, settings)
        c.add_argument("--resident-code", dest="code", required=True, metavar="CODE")
        c.set_defaults(handler=handler)
    c = sub.add_parser("list", help="the notices to print and post (oldest first)")
    common(c, settings)
    c.add_argument("--all", action="store_true", help="sent ones too")
    c.add_argument("--limit", type=int, default=200, metavar="N")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=cmd_list)
    c = sub.add_parser("sent", help="mark a notice sent (it went in the post)")
    common(c, settings)
    c.add_argument("--id", required=True, metavar="NOTICE_ID")
    c.set_defaults(handler=cmd_sent)
