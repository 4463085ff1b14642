"""`juki cert …`: issue, verify, void and register certificates from the server console.

Whoever runs these on the console acts as the role the task needs (a counter clerk issues, a
registry supervisor voids, an auditor reads the registers, the operations manager sets fees),
as `juki` does for its other console commands; `--operator-token` (or
`JUKI_OPERATOR_TOKEN`) acts as that operator instead, with that operator's permissions. Either
way every action is authorised and written to the oplog. Heavy libraries load only when a
command runs, so `juki --help` stays fast.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from juki.certificates.content import (
    ALL_MEMBERS,
    CertificateKind,
    CertificateRequest,
    Members,
    OptionalItem,
    Requester,
    SupportOverride,
)
from juki.core.errors import ValidationError
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.settings import Settings, masked_url

if TYPE_CHECKING:
    import sqlalchemy as sa

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1

KIND_ARGS: Final = {
    "residence": CertificateKind.RESIDENCE,
    "record-items": CertificateKind.RECORD_ITEMS,
    "seal": CertificateKind.SEAL,
}
ITEM_ARGS: Final = {
    "honseki": OptionalItem.HONSEKI,
    "householder": OptionalItem.HOUSEHOLDER,
    "resident-code": OptionalItem.RESIDENT_CODE,
    "my-number": OptionalItem.MY_NUMBER,
    "former-surname": OptionalItem.FORMER_SURNAME,
    "foreign": OptionalItem.FOREIGN_ITEMS,
}
TERMINAL_PATTERN: Final = r"^[A-Za-z0-9_.:-]{1,64}$"


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_FAILED


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


def _engine(url: str) -> sa.Engine:
    from juki.storage.engine import make_engine

    return make_engine(url)


def _require_schema(engine: sa.Engine, url: str) -> None:
    from juki.storage.migrate import current_revision, head_revision

    current = current_revision(engine)
    if current != head_revision():
        raise SystemExit(
            _fail(
                f"db: {masked_url(url)} is not a juki registry at the current schema "
                f"(revision {current or 'none'}); run `juki db upgrade` first"
            )
        )


def _actor(engine: sa.Engine, args: argparse.Namespace, role: Role) -> Actor:
    """The console as `role`, or the operator whose token was given."""
    token = args.operator_token or os.environ.get("JUKI_OPERATOR_TOKEN")
    if token:
        from juki.security.operators import authenticate

        actor = authenticate(engine, token, args.terminal)
        if actor is None:
            raise SystemExit(_fail("operator-token: not the token of an active operator"))
        return actor
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(actor_id=f"cli:{user}", role=role, terminal_id=args.terminal)


def _settings(args: argparse.Namespace, base: Settings | None = None) -> Settings:
    """The environment's settings, or a node's own (`base`: its network-issued signing key)."""
    settings = base or Settings.from_env()
    if getattr(args, "public_url", None):
        from dataclasses import replace

        settings = replace(settings, public_url=args.public_url.rstrip("/"))
    return settings


def _setup_errors() -> tuple[type[Exception], ...]:
    from juki.certificates.fonts import FontMissingError
    from juki.certificates.signing import SigningSetupError

    return (SigningSetupError, FontMissingError)


# -- commands -----------------------------------------------------------------------------------


def cmd_issue(args: argparse.Namespace) -> int:
    from juki.certificates.desk import CertificateDesk, FilePrintSink

    out = Path(args.out)
    if out.is_dir():
        return _fail("out: is a directory; give a file name such as certificate.pdf")
    request = CertificateRequest(
        kind=KIND_ARGS[args.kind],
        resident_code=args.resident_code,
        members=parse_members(args.members),
        items=parse_items(args.items),
        copies=args.copies,
        requester=Requester.THIRD_PARTY if args.third_party else Requester.SELF,
        removed=args.removed,
        support_override=(
            SupportOverride(approved_by="", reason=args.support_override)
            if args.support_override is not None
            else None
        ),
    )
    if args.from_lg_code is not None:
        return _issue_wide_area(args, request, out)
    base: Settings | None = None
    if args.node_config is not None:
        # At a network municipality's console: its database and its network-issued key.
        from juki.nodes.config import ConfigError, NodeConfig

        try:
            config = NodeConfig.load(Path(args.node_config))
        except ConfigError as exc:
            return _fail(f"node-config: {exc}")
        if config.signing_key is None:
            return _fail(f"node-config: {config.node_id} is not a municipality with a signing key")
        if args.db not in (Settings.from_env().db_url, config.db):
            return _fail(f"db: the node's own database is used ({masked_url(config.db)})")
        args.db = config.db
        base = config.certificate_settings()
    engine = _engine(args.db)
    try:
        _require_schema(engine, args.db)
        desk = CertificateDesk(engine, _settings(args, base))
        by = _actor(engine, args, Role.COUNTER_CLERK)
        try:
            issued = desk.issue(by, request, sink=FilePrintSink(out))
        except _setup_errors() as exc:
            return _fail(f"setup: {exc}")
    finally:
        engine.dispose()
    return _issued(issued)


def _issue_wide_area(args: argparse.Namespace, request: CertificateRequest, out: Path) -> int:
    """広域交付 from the console of the issuing municipality's node: this CS asks the home one.

    The node's configuration gives its database, key and directory; the question goes over
    HTTPS with mutual TLS, as the running node's would.
    """
    from juki.certificates.desk import CertificateDesk, FilePrintSink
    from juki.nodes.config import ConfigError, NodeConfig, bootstrap, close_node
    from juki.nodes.municipality import MunicipalityNode
    from juki.nodes.wide_area import CsContentSource

    if args.node_config is None:
        return _fail(
            "node-config: 広域交付 asks through this municipality's CS; give its node.json "
            "(DIR/<lg_code>/node.json from `juki network init`)"
        )
    try:
        config = NodeConfig.load(Path(args.node_config))
        if args.db not in (Settings.from_env().db_url, config.db):
            return _fail(f"db: 広域交付 uses the node's own database ({masked_url(config.db)})")
        node = bootstrap(config)
    except ConfigError as exc:
        return _fail(f"node-config: {exc}")
    try:
        if not isinstance(node, MunicipalityNode):
            return _fail(
                f"node-config: {config.node_id} is a {config.kind.value}, not a municipality"
            )
        _require_schema(node.engine, config.db)
        node.refresh_directory()  # the current 離脱 status of the home municipality
        desk = CertificateDesk(node.engine, _settings(args, config.certificate_settings()))
        by = _actor(node.engine, args, Role.COUNTER_CLERK)
        try:
            issued = desk.issue_wide_area(
                by,
                request,
                home_lg_code=args.from_lg_code,
                source=CsContentSource(node),
                sink=FilePrintSink(out),
            )
        except _setup_errors() as exc:
            return _fail(f"setup: {exc}")
    finally:
        close_node(node)
    print(f"広域交付: content from {issued.content.record_municipality} ({args.from_lg_code})")
    return _issued(issued)


def _issued(issued: Any) -> int:
    print(
        f"issued {issued.content.title} ({issued.kind.value}) {issued.certificate_id}: "
        f"{len(issued.issue_numbers)} copy(ies) {', '.join(issued.issue_numbers)}; "
        f"{len(issued.content.persons)} person(s); fee {issued.fee_yen} yen; "
        f"written to {issued.printed_to}"
    )
    print(f"digest {issued.digest}")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    import logging

    from juki.certificates.signing import trust_roots
    from juki.certificates.verify import StatusLookup, http_status_lookup, verify_pdf

    # pyhanko logs a traceback for every malformed signature it meets; the verdict says why.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _fail(f"file: cannot read {path}: {exc.strerror}")
    settings = Settings.from_env()
    try:
        roots = trust_roots(settings, tuple(Path(r) for r in args.root or ()))
    except _setup_errors() as exc:
        return _fail(f"root: {exc}")
    if not roots:
        return _fail(
            "root: no trusted root; set JUKI_ROOT_CERT, pass --root, or run where the "
            "standalone keys are (JUKI_KEYS_DIR)"
        )
    lookup: StatusLookup | None = None
    engine = None
    if args.url:
        lookup = http_status_lookup(args.url)
    elif args.db:
        from juki.certificates.desk import CertificateDesk

        engine = _engine(args.db)
        _require_schema(engine, args.db)
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


def cmd_void(args: argparse.Namespace) -> int:
    from juki.certificates.services import void_certificate
    from juki.certificates.store import SqlCertificateUnitOfWork

    engine = _engine(args.db)
    try:
        _require_schema(engine, args.db)
        by = _actor(engine, args, Role.REGISTRY_SUPERVISOR)
        record = void_certificate(SqlCertificateUnitOfWork(engine), by, args.id, args.reason)
    finally:
        engine.dispose()
    print(f"void: {record.certificate_id} ({record.kind.value}) at {record.voided_at}")
    return EXIT_OK


def cmd_spoil(args: argparse.Namespace) -> int:
    from juki.certificates.services import record_spoiled_copy
    from juki.certificates.store import SqlCertificateUnitOfWork

    engine = _engine(args.db)
    try:
        _require_schema(engine, args.db)
        by = _actor(engine, args, Role.COUNTER_CLERK)
        entry = record_spoiled_copy(
            SqlCertificateUnitOfWork(engine), by, args.id, args.issue_number, args.disposal
        )
    finally:
        engine.dispose()
    print(f"spoiled: {', '.join(entry.issue_numbers)} of {entry.certificate_id}")
    return EXIT_OK


def _entry_dict(entry: Any) -> dict[str, Any]:
    import dataclasses

    out = dataclasses.asdict(entry)
    out["event"] = entry.event.value
    out["kind"] = entry.kind.value
    return out


def cmd_register(args: argparse.Namespace) -> int:
    from juki.certificates.services import certificate_register
    from juki.certificates.store import SqlCertificateUnitOfWork

    engine = _engine(args.db)
    try:
        _require_schema(engine, args.db)
        by = _actor(engine, args, Role.AUDITOR)
        entries = certificate_register(SqlCertificateUnitOfWork(engine), by, args.date)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([_entry_dict(e) for e in entries], ensure_ascii=False, indent=2))
        return EXIT_OK
    for e in entries:
        print(
            f"{e.at}  {e.event.value:8} {e.kind.value:13} {e.certificate_id}  "
            f"resident {e.subject_resident_code}  copies {e.copies}  fee {e.fee_yen}  "
            f"terminal {e.terminal_id}  operator {e.operator_id}  "
            f"{','.join(e.issue_numbers)}" + (f"  [{e.disposal}]" if e.disposal else "")
        )
    return EXIT_OK


def cmd_wide_area_register(args: argparse.Namespace) -> int:
    """広域交付の照会記録 of this (home) municipality: who asked for which resident's content."""
    import dataclasses

    from juki.certificates.store import SqlCertificateUnitOfWork
    from juki.certificates.wide_area import wide_area_register

    engine = _engine(args.db)
    try:
        _require_schema(engine, args.db)
        by = _actor(engine, args, Role.AUDITOR)
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
            f"resident {e.subject_resident_code}  members {e.members}  "
            f"items {e.items or '-'}  {e.outcome.value}"
            + (f" [{e.rule}]" if e.rule else f" ({e.persons} person(s))")
            + f"  request {e.request_id}"
        )
    return EXIT_OK


def cmd_fee(args: argparse.Namespace) -> int:
    from juki.certificates.services import set_fee
    from juki.certificates.store import SqlCertificateUnitOfWork

    engine = _engine(args.db)
    try:
        _require_schema(engine, args.db)
        by = _actor(engine, args, Role.OPERATIONS_MANAGER)
        fee = set_fee(SqlCertificateUnitOfWork(engine), by, KIND_ARGS[args.kind], args.yen)
    finally:
        engine.dispose()
    print(f"fee: {args.kind} {fee} yen per copy")
    return EXIT_OK


# -- parser -------------------------------------------------------------------------------------


def _date(text: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("use YYYY-MM-DD") from exc


def _terminal(text: str) -> str:
    import re

    if not re.fullmatch(TERMINAL_PATTERN, text):
        raise argparse.ArgumentTypeError("1-64 characters of A-Z a-z 0-9 _ . : -")
    return text


def register_cert_commands(sub: Any) -> None:
    """Add `juki cert …` to the top-level parser's subcommands."""
    settings = Settings.from_env()
    cert = sub.add_parser("cert", help="certificates: issue, verify, void, register, fees")
    cert_sub = cert.add_subparsers(dest="cert_command", required=True)

    def common(p: argparse.ArgumentParser, *, db: bool = True) -> None:
        if db:
            p.add_argument("--db", default=settings.db_url, help="SQLAlchemy URL")
        p.add_argument("--terminal", type=_terminal, default="console", help="terminal id")
        p.add_argument(
            "--operator-token",
            default=None,
            help="act as this operator (default: the console, or $JUKI_OPERATOR_TOKEN)",
        )

    p = cert_sub.add_parser("issue", help="issue a certificate and write its signed PDF")
    common(p)
    p.add_argument("--resident-code", required=True, metavar="CODE")
    p.add_argument("--kind", required=True, choices=list(KIND_ARGS))
    p.add_argument("--members", metavar="all|CODE,…", help="household members (default: subject)")
    p.add_argument("--items", metavar=",".join(ITEM_ARGS), help="optional items to show")
    p.add_argument("--copies", type=int, default=1, metavar="N")
    p.add_argument("--removed", action="store_true", help="a 除票 (removed record) copy")
    p.add_argument("--third-party", action="store_true", help="requested by a third party")
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
    p.set_defaults(func=cmd_issue)

    p = cert_sub.add_parser("verify", help="check a certificate PDF (exit 0 valid, 1 not)")
    p.add_argument("file", metavar="FILE.pdf")
    p.add_argument("--json", action="store_true")
    p.add_argument("--url", help="check status online at this registry's verification API")
    p.add_argument("--db", help="check status in this registry database")
    p.add_argument("--root", action="append", metavar="PEM", help="trusted root (repeatable)")
    p.set_defaults(func=cmd_verify)

    p = cert_sub.add_parser("void", help="declare a certificate void (supervisor)")
    common(p)
    p.add_argument("--id", required=True, metavar="CERTIFICATE_ID")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_void)

    p = cert_sub.add_parser("spoil", help="record a spoiled copy (書損) and its disposal")
    common(p)
    p.add_argument("--id", required=True, metavar="CERTIFICATE_ID")
    p.add_argument("--issue-number", required=True)
    p.add_argument("--disposal", required=True, help="how the copy was disposed of")
    p.set_defaults(func=cmd_spoil)

    p = cert_sub.add_parser("register", help="the issuance register (交付履歴)")
    common(p)
    p.add_argument("--date", type=_date, help="only this day (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_register)

    p = cert_sub.add_parser(
        "wide-area-register",
        help="wide-area requests received from other municipalities (広域交付の照会記録)",
    )
    common(p)
    p.add_argument("--since", type=_date, help="from this day (YYYY-MM-DD)")
    p.add_argument("--until", type=_date, help="to this day, inclusive (YYYY-MM-DD)")
    p.add_argument("--limit", type=int, default=500, metavar="N", help="at most N (1-5000)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_wide_area_register)

    p = cert_sub.add_parser("fee", help="set the fee per copy for a kind (operations manager)")
    common(p)
    p.add_argument("--kind", required=True, choices=list(KIND_ARGS))
    p.add_argument("--yen", required=True, type=int)
    p.set_defaults(func=cmd_fee)
