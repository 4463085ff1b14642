"""`juki cert …`: issue, verify, void and register certificates from the server console.

Each command that reads or changes personal data acts as the operator whose token is given
(`--token` or `JUKI_TOKEN`, issued by `juki operator token`) and refuses without one
(`juki.security.credentials`): the operator's role must allow the task (a counter clerk
issues, a registry supervisor voids, an auditor reads the registers, the operations manager
sets fees), and every action is authorised and written to the oplog under that operator.
At a network municipality's console, `juki.nodes.cert_cli` adds what needs the node: its
network-issued key, and 広域交付 through its CS.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa

from juki.certificates.desk import CertificateDesk, FilePrintSink
from juki.certificates.fonts import FontMissingError
from juki.certificates.kiosk.cli import add_kiosk_commands
from juki.certificates.model import (
    ALL_MEMBERS,
    RECORD_ITEMS_ONLY,
    CertificateKind,
    CertificateRequest,
    Members,
    OptionalItem,
    Requester,
    SupportOverride,
)
from juki.certificates.ports import RegisterEntry
from juki.certificates.requests_cli import (
    add_self_notice_commands,
    add_third_party_options,
    third_party_of,
)
from juki.certificates.services import (
    IssuedCertificate,
    certificate_register,
    record_spoiled_copy,
    set_fee,
    void_certificate,
)
from juki.certificates.services.signatory import set_mayor
from juki.certificates.signing import SigningSetupError, trust_roots
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.certificates.verify import StatusLookup, http_status_lookup, verify_pdf
from juki.certificates.wide_area import wide_area_register
from juki.core.console import EXIT_FAILED, EXIT_OK, ConsoleError, Subparsers, fail
from juki.core.errors import ValidationError
from juki.core.settings import Settings
from juki.security.actors import Actor
from juki.security.credentials import MISSING, add_token_arg, given_token, operator_for
from juki.security.permissions import Role
from juki.storage.engine import open_existing

Handler = Callable[[argparse.Namespace, Settings], int]

KIND_ARGS: Final = {
    "residence": CertificateKind.RESIDENCE,
    "record-items": CertificateKind.RECORD_ITEMS,
    "seal": CertificateKind.SEAL,
    "fuhyo": CertificateKind.FUHYO,  # 戸籍の附票の写し, at the 本籍 municipality
}
ITEM_ARGS: Final = {
    "honseki": OptionalItem.HONSEKI,
    "householder": OptionalItem.HOUSEHOLDER,
    "resident-code": OptionalItem.RESIDENT_CODE,
    "my-number": OptionalItem.MY_NUMBER,
    "former-surname": OptionalItem.FORMER_SURNAME,
    "foreign": OptionalItem.FOREIGN_ITEMS,
    # 通称履歴, and the items a record-items certificate certifies one by one (any other name is
    # the item's own value with dashes: birth-date, previous-address …).
    "alias-history": OptionalItem.ALIAS_HISTORY,
    **{i.value.replace("_", "-"): i for i in RECORD_ITEMS_ONLY},
}
TERMINAL_PATTERN: Final = r"^[A-Za-z0-9_.:-]{1,64}$"
# What the register prints for an item the reader's role may not see (view_resident_code).
HIDDEN: Final = "(hidden)"
# A missing key or font is set-up, not a refused request: said as such, with what to do.
SETUP_ERRORS: Final = (SigningSetupError, FontMissingError)


def parse_items(text: str | None) -> frozenset[OptionalItem]:
    if not text:
        return frozenset()
    items: set[OptionalItem] = set()
    for position, raw in enumerate(text.split(",")):
        name = raw.strip()
        if name not in ITEM_ARGS:
            raise ValidationError(
                f"items.{position}",
                "unknown_item",
                f"unknown item {name[:32]!r}; choose from {', '.join(ITEM_ARGS)}",
                "記載事項の指定が正しくありません",
            )
        items.add(ITEM_ARGS[name])
    return frozenset(items)


def parse_members(text: str | None) -> Members:
    if not text:
        return ()
    if text.strip() == ALL_MEMBERS:
        return ALL_MEMBERS
    codes = tuple(code.strip() for code in text.split(","))
    if any(not code for code in codes):
        raise ValidationError(
            "members",
            "format",
            "give 'all' or resident codes separated by commas",
            "世帯員の指定が正しくありません",
        )
    return codes


def actor_for(engine: sa.Engine, args: argparse.Namespace, role: Role, settings: Settings) -> Actor:
    """The operator whose token was given (`role` is the one the task needs, for the error
    that says a token is missing); no token, no action."""
    if not given_token(args, settings):
        raise ConsoleError(f"{MISSING} (a {role.value}'s, for this command)")
    return operator_for(engine, args, settings, args.terminal)


def with_public_url(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings, with the verification URL `--public-url` gave (for the QR code)."""
    if getattr(args, "public_url", None):
        return dataclasses.replace(settings, public_url=args.public_url.rstrip("/"))
    return settings


# -- commands ---


def request_of(args: argparse.Namespace) -> CertificateRequest:
    return CertificateRequest(
        kind=KIND_ARGS[args.kind],
        resident_code=args.resident_code,
        members=parse_members(args.members),
        items=parse_items(args.items),
        copies=args.copies,
        requester=Requester.THIRD_PARTY if args.third_party else Requester.SELF,
        third_party=third_party_of(args),
        removed=args.removed,
        support_override=(
            SupportOverride(approved_by="", reason=args.support_override)
            if args.support_override is not None
            else None
        ),
    )


def out_file(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    if out.is_dir():
        raise ConsoleError("out: is a directory; give a file name such as certificate.pdf")
    return out


def cmd_issue(args: argparse.Namespace, settings: Settings) -> int:
    """Issue from this registry database (`--db`), signed with the configured key."""
    if args.from_lg_code is not None or args.node_config is not None:
        return fail("node-config: 広域交付 and a node's own key need a network node's console")
    return issue_from(args.db, with_public_url(settings, args), args, request_of(args))


def issue_from(
    db: str, settings: Settings, args: argparse.Namespace, request: CertificateRequest
) -> int:
    """Issue at the counter of the registry in `db`, signed as `settings` say."""
    out = out_file(args)
    engine = open_existing(db)
    try:
        desk = CertificateDesk(engine, settings)
        by = actor_for(engine, args, Role.COUNTER_CLERK, settings)
        try:
            issued = desk.issue(by, request, sink=FilePrintSink(out))
        except SETUP_ERRORS as exc:
            return fail(f"setup: {exc}")
    finally:
        engine.dispose()
    return print_issued(issued)


def print_issued(issued: IssuedCertificate) -> int:
    print(
        f"issued {issued.content.title} ({issued.kind.value}) {issued.certificate_id}: "
        f"{len(issued.issue_numbers)} copy(ies) {', '.join(issued.issue_numbers)}; "
        f"{len(issued.content.persons)} person(s); fee {issued.fee_yen} yen; "
        f"written to {issued.printed_to}"
    )
    print(f"digest {issued.digest}")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:

    # pyhanko logs a traceback for every malformed signature it meets; the verdict says why.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return fail(f"file: cannot read {path}: {exc.strerror}")
    try:
        roots = trust_roots(settings, tuple(Path(r) for r in args.root or ()))
    except SETUP_ERRORS as exc:
        return fail(f"root: {exc}")
    if not roots:
        return fail(
            "root: no trusted root; set JUKI_ROOT_CERT, pass --root, or run where the "
            "standalone keys are (JUKI_KEYS_DIR)"
        )
    lookup: StatusLookup | None = None
    engine = None
    if args.url:
        lookup = http_status_lookup(args.url, cas=roots)
    elif args.db:
        from juki.certificates.desk import CertificateDesk

        engine = open_existing(args.db)
        lookup = CertificateDesk(engine, settings).lookup
    try:
        verdict = verify_pdf(data, roots, lookup)
    finally:
        if engine is not None:
            engine.dispose()
    if args.json:
        print(json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(verdict.summary())
        if verdict.ok and lookup is None:
            print("  (status not checked: give --db or --url to check for voiding)")
    return EXIT_OK if verdict.ok else EXIT_FAILED


def cmd_void(args: argparse.Namespace, settings: Settings) -> int:

    engine = open_existing(args.db)
    try:
        by = actor_for(engine, args, Role.REGISTRY_SUPERVISOR, settings)
        record = void_certificate(SqlCertificateUnitOfWork(engine), by, args.id, args.reason)
    finally:
        engine.dispose()
    print(f"void: {record.certificate_id} ({record.kind.value}) at {record.voided_at}")
    return EXIT_OK


def cmd_spoil(args: argparse.Namespace, settings: Settings) -> int:

    engine = open_existing(args.db)
    try:
        by = actor_for(engine, args, Role.COUNTER_CLERK, settings)
        entry = record_spoiled_copy(
            SqlCertificateUnitOfWork(engine), by, args.id, args.issue_number, args.disposal
        )
    finally:
        engine.dispose()
    print(f"spoiled: {', '.join(entry.issue_numbers)} of {entry.certificate_id}")
    return EXIT_OK


def _entry_dict(entry: RegisterEntry) -> dict[str, Any]:
    out = dataclasses.asdict(entry)
    out["event"] = entry.event.value
    out["kind"] = entry.kind.value
    return out


def cmd_register(args: argparse.Namespace, settings: Settings) -> int:

    engine = open_existing(args.db)
    try:
        by = actor_for(engine, args, Role.AUDITOR, settings)
        entries = certificate_register(SqlCertificateUnitOfWork(engine), by, args.date)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([_entry_dict(e) for e in entries], ensure_ascii=False, indent=2))
        return EXIT_OK
    for e in entries:
        print(
            f"{e.at}  {e.event.value:8} {e.kind.value:13} {e.certificate_id}  "
            f"resident {e.subject_resident_code or HIDDEN}  copies {e.copies}  fee {e.fee_yen}  "
            f"terminal {e.terminal_id}  operator {e.operator_id}  "
            f"{','.join(e.issue_numbers)}"
            + (f"  [{e.disposal}]" if e.disposal else "")
            + (
                f"  第三者 {e.third_party.notice_name} "
                f"({e.third_party.basis.article_for(e.kind)}): {e.third_party.purpose}"
                if e.third_party
                else ""
            )
        )
    return EXIT_OK


def cmd_wide_area_register(args: argparse.Namespace, settings: Settings) -> int:
    """広域交付の照会記録 of this (home) municipality: who asked for which resident's content."""

    engine = open_existing(args.db)
    try:
        by = actor_for(engine, args, Role.AUDITOR, settings)
        entries = wide_area_register(
            SqlCertificateUnitOfWork(engine), by, args.limit, since=args.since, until=args.until
        )
    finally:
        engine.dispose()
    if args.json:
        rows = [dict(dataclasses.asdict(e), outcome=e.outcome.value) for e in entries]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    for e in entries:
        print(
            f"{e.at}  from {e.requesting_lg_code}  operator {e.requested_by}  "
            f"resident {e.subject_resident_code or HIDDEN}  members {e.members or HIDDEN}  "
            f"items {e.items or '-'}  {e.outcome.value}"
            + (f" [{e.rule}]" if e.rule else f" ({e.persons} person(s))")
            + f"  request {e.request_id}"
        )
    return EXIT_OK


def cmd_fee(args: argparse.Namespace, settings: Settings) -> int:

    engine = open_existing(args.db)
    try:
        by = actor_for(engine, args, Role.OPERATIONS_MANAGER, settings)
        fee = set_fee(SqlCertificateUnitOfWork(engine), by, KIND_ARGS[args.kind], args.yen)
    finally:
        engine.dispose()
    print(f"fee: {args.kind} {fee} yen per copy")
    return EXIT_OK


def cmd_signatory(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_existing(args.db)
    try:
        by = actor_for(engine, args, Role.OPERATIONS_MANAGER, settings)
        m = set_mayor(SqlCertificateUnitOfWork(engine), by, args.name, args.title)
    finally:
        engine.dispose()
    print(f"signatory: {m.signatory}")
    return EXIT_OK


# -- parser ---


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("use YYYY-MM-DD") from exc


def _terminal(text: str) -> str:
    if not re.fullmatch(TERMINAL_PATTERN, text):
        raise argparse.ArgumentTypeError("1-64 characters of A-Z a-z 0-9 _ . : -")
    return text


def register(
    sub: Subparsers, name: str, settings: Settings, *, issue: Handler | None = None
) -> None:
    """`juki cert …`; a network node's console passes its own `issue` (广域交付, its key)."""
    cert = sub.add_parser(name, help="certificates: issue, verify, void, register, fees")
    cert_sub = cert.add_subparsers(dest="cert_command", required=True)
    _add_issue(cert_sub, settings, issue or cmd_issue)
    _add_verify(cert_sub)
    _add_after_issue(cert_sub, settings)
    add_self_notice_commands(cert_sub, settings, _common, actor_for)
    add_kiosk_commands(cert_sub, settings, _common, actor_for)


def _common(p: argparse.ArgumentParser, settings: Settings, *, db: bool = True) -> None:
    """The options of every command that acts on a registry: its database, terminal, operator."""
    if db:
        p.add_argument("--db", default=settings.db_url, help="SQLAlchemy URL")
    p.add_argument("--terminal", type=_terminal, default="console", help="terminal id")
    add_token_arg(p)


def _add_issue(cert_sub: Subparsers, settings: Settings, handler: Handler) -> None:
    p = cert_sub.add_parser("issue", help="issue a certificate and write its signed PDF")
    _common(p, settings)
    p.add_argument("--resident-code", required=True, metavar="CODE")
    p.add_argument("--kind", required=True, choices=list(KIND_ARGS))
    p.add_argument("--members", metavar="all|CODE,…", help="household members (default: subject)")
    p.add_argument("--items", metavar=",".join(ITEM_ARGS), help="optional items to show")
    p.add_argument("--copies", type=int, default=1, metavar="N")
    p.add_argument("--removed", action="store_true", help="a 除票 (removed record) copy")
    p.add_argument("--third-party", action="store_true", help="requested by a third party")
    add_third_party_options(p)
    p.add_argument(
        "--support-override",
        metavar="REASON",
        help="issue despite 支援措置 (needs a supervisor's token); the reason is recorded",
    )
    p.add_argument("--public-url", help="verification base URL for the QR code")
    p.add_argument(
        "--from-lg-code",
        metavar="LG_CODE",
        help="広域交付: the applicant's home municipality; its CS supplies the content",
    )
    p.add_argument(
        "--node-config",
        metavar="node.json",
        help=(
            "this municipality's node configuration: its database and network-issued signing "
            "key; with --from-lg-code, its CS asks the home municipality"
        ),
    )
    p.add_argument("--out", required=True, metavar="FILE.pdf")
    p.set_defaults(handler=handler)


def _add_verify(cert_sub: Subparsers) -> None:
    p = cert_sub.add_parser("verify", help="check a certificate PDF (exit 0 valid, 1 not)")
    p.add_argument("file", metavar="FILE.pdf")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--url",
        help="check status at this registry's public status endpoint (its public base URL)",
    )
    p.add_argument("--db", help="check status in this registry database")
    p.add_argument("--root", action="append", metavar="PEM", help="trusted root (repeatable)")
    p.set_defaults(handler=cmd_verify)


def _add_after_issue(cert_sub: Subparsers, settings: Settings) -> None:
    """Voiding, spoiled copies, the two registers and the fees."""
    p = cert_sub.add_parser("void", help="declare a certificate void (supervisor)")
    _common(p, settings)
    p.add_argument("--id", required=True, metavar="CERTIFICATE_ID")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_void)

    p = cert_sub.add_parser("spoil", help="record a spoiled copy (書損) and its disposal")
    _common(p, settings)
    p.add_argument("--id", required=True, metavar="CERTIFICATE_ID")
    p.add_argument("--issue-number", required=True)
    p.add_argument("--disposal", required=True, help="how the copy was disposed of")
    p.set_defaults(handler=cmd_spoil)

    p = cert_sub.add_parser("register", help="the issuance register (交付履歴)")
    _common(p, settings)
    p.add_argument("--date", type=_date, help="only this day (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_register)

    p = cert_sub.add_parser(
        "wide-area-register",
        help="wide-area requests received from other municipalities (広域交付の照会記録)",
    )
    _common(p, settings)
    p.add_argument("--since", type=_date, help="from this day (YYYY-MM-DD)")
    p.add_argument("--until", type=_date, help="to this day, inclusive (YYYY-MM-DD)")
    p.add_argument("--limit", type=int, default=500, metavar="N", help="at most N (1-5000)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_wide_area_register)

    p = cert_sub.add_parser("fee", help="set the fee per copy for a kind (operations manager)")
    _common(p, settings)
    p.add_argument("--kind", required=True, choices=list(KIND_ARGS))
    p.add_argument("--yen", required=True, type=int)
    p.set_defaults(handler=cmd_fee)

    p = cert_sub.add_parser(
        "signatory", help="set the mayor's name (and title) every certificate names"
    )
    _common(p, settings)
    p.add_argument("--name", required=True, help="市区町村長の氏名, e.g. 髙橋　勝浩")
    p.add_argument("--title", help="職名, when not the default 「<municipality>長」")
    p.set_defaults(handler=cmd_signatory)
