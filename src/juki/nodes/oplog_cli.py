"""`juki oplog …`: verify the operation log's chain, seal and export closed months, prune
after seven years, report what an auditor looks for, and sign a checkpoint on demand.

- `verify --db URL [--json]`: exit 0 when the chain and the node's own checkpoints hold, else 1
  naming the first entry changed, removed or inserted; `--dir DIR`: every node of a network,
  each against its parent's countersigned checkpoints; `--archive FILE`: an archive on its own.
- `export --db URL --month YYYY-MM --out FILE`: the signed archive of a closed month (signed
  with the node key beside a node's database, or `--key`/`--cert`); the month is sealed.
- `prune --db URL --before YYYY-MM`: remove sealed months older than seven years.
- `report --db URL --since DATE [--json]`: findings, with Japanese labels (`juki.security.report`).
- `checkpoint --dir DIR [--node ID]`: sign the chain head now and queue it for the parent.

Each reads or exposes the log, so each takes an operator's token (`--token` or `JUKI_TOKEN`),
checked against the database it opens, and needs its permission: `view_oplog` (verify --db,
report), `export_oplog`, `prune_oplog`, `checkpoint_oplog`; every use, allowed or refused, is
in that database's oplog. Two need none: `verify --archive` reads a file on its own, and
`verify --dir` is the network host's own check (as `juki network check`: whoever holds the
network directory holds every node's database and key already, and it shows numbers and hashes
only); it is logged in every node's oplog as the console's 運用管理者 (`cli:USER`).
"""

from __future__ import annotations

import argparse
import functools
import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from juki.core.clock import SystemClock
from juki.core.console import EXIT_FAILED, EXIT_OK, ConsoleError, Subparsers
from juki.core.settings import Settings
from juki.network import pki
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.security.actors import Actor
from juki.security.credentials import add_token_arg, operator_for, require_token
from juki.security.permissions import Permission, Role
from juki.storage.cli import db_arg
from juki.storage.engine import database_url, open_existing

if TYPE_CHECKING:
    from juki.nodes.oplog_check import ChainCheck


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    op = sub.add_parser(name, help="the operation log: verify, export, prune, report")
    op_sub = op.add_subparsers(dest="oplog_command", required=True)
    v = op_sub.add_parser("verify", help="verify the hash chain and the checkpoints")
    where = v.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", help="SQLAlchemy URL of one database")
    where.add_argument("--dir", type=Path, help="a network directory: every node")
    where.add_argument("--archive", type=Path, help="an exported month, on its own")
    v.add_argument("--root", type=Path, help="with --archive: the network's root certificate")
    v.add_argument("--json", action="store_true")
    add_token_arg(v)  # with --db; --dir and --archive need none
    v.set_defaults(handler=cmd_verify)
    e = op_sub.add_parser("export", help="seal a closed month as a signed archive")
    db_arg(e, settings)
    e.add_argument("--month", required=True, help="YYYY-MM, a past month")
    e.add_argument("--out", required=True, type=Path)
    e.add_argument("--key", type=Path, help="node key (default: key.pem beside the database)")
    e.add_argument("--cert", type=Path, help="node certificate (default: cert.pem beside it)")
    add_token_arg(e)
    e.set_defaults(handler=cmd_export)
    p = op_sub.add_parser("prune", help="remove sealed months older than seven years")
    db_arg(p, settings)
    p.add_argument("--before", required=True, help="YYYY-MM: prune the months before it")
    add_token_arg(p)
    p.set_defaults(handler=cmd_prune)
    r = op_sub.add_parser("report", help="late-night, holiday, mass search and other findings")
    db_arg(r, settings)
    r.add_argument("--since", required=True, type=_date, help="YYYY-MM-DD")
    r.add_argument("--json", action="store_true")
    r.add_argument("--night-from", type=_hour, default=22, help="深夜の開始時刻 (default 22)")
    r.add_argument("--night-until", type=_hour, default=6, help="深夜の終了時刻 (default 6)")
    r.add_argument("--mass-search", type=_positive, default=100, help="searches per day")
    r.add_argument("--many-viewers", type=_positive, default=5, help="operators per person")
    r.add_argument("--failed-logins", type=_positive, default=3, help="failures per day")
    add_token_arg(r)
    r.set_defaults(handler=cmd_report)
    c = op_sub.add_parser("checkpoint", help="sign a checkpoint now and send it to the parent")
    c.add_argument("--dir", required=True, type=Path)
    c.add_argument("--node", action="append", help="node id (default: every node)")
    add_token_arg(c)  # checked against each node's own database
    c.set_defaults(handler=cmd_checkpoint)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("since: YYYY-MM-DD の形式で指定してください") from exc


def _hour(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 23:
        raise argparse.ArgumentTypeError("hour: 0〜23 で指定してください")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("threshold: 1 以上の整数で指定してください")
    return int(text)


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


# -- verify --------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from juki.nodes.oplog_check import verify_network

    if args.archive is not None:
        return _verify_archive(args)
    checks = [_verify_one(args, settings)] if args.db else verify_network(args.dir)
    if not args.db:
        _log_network_check(args.dir, checks)
    holds = all(c.holds for c in checks)
    if args.json:
        _print({"holds": holds, "nodes": [c.as_json() for c in checks]})
    else:
        for check in checks:
            print("\n".join(check.lines()))
    return EXIT_OK if holds else EXIT_FAILED


def _describe(check: ChainCheck) -> str:
    return f"verify: {'holds' if check.holds else 'BROKEN'}, {check.entries} entries"


def _verify_one(args: argparse.Namespace, settings: Settings) -> ChainCheck:
    """One database, by an operator who may read its log; the use is logged after the check
    (a chain broken by an inserted entry may refuse the entry: said on stderr)."""
    from juki.nodes.oplog_check import check_connection
    from juki.security.actions import perform_outside
    from juki.security.uow import SqlUnitOfWork

    require_token(args, settings)
    engine = open_existing(args.db)
    try:
        by = operator_for(engine, args, settings)
        checked: list[ChainCheck] = []

        def run() -> ChainCheck:
            with engine.connect() as conn:
                checked.append(check_connection(conn))
            return checked[0]

        uow = SqlUnitOfWork(engine, clock=SystemClock())
        try:
            perform_outside(uow, by, Permission.VIEW_OPLOG, "oplog:verify", run, describe=_describe)
        except sa.exc.SQLAlchemyError as exc:
            if not checked:
                raise
            _unlogged("verify", exc)
        return checked[0]
    finally:
        engine.dispose()


def _unlogged(what: str, exc: Exception) -> None:
    import sys

    print(f"oplog: this {what} could not be logged: {type(exc).__name__}", file=sys.stderr)


def _same(check: ChainCheck) -> ChainCheck:
    return check


def _log_network_check(root: Path, checks: list[ChainCheck]) -> None:
    """The network host's check, written to each node's log as the console's 運用管理者."""
    from juki.security.actions import perform_outside
    from juki.security.uow import SqlUnitOfWork

    by = Actor.console(Role.OPERATIONS_MANAGER)
    configs = {c.node_id: c for c in NetworkFiles(root).configs()}
    for check in checks:
        engine = open_existing(configs[check.node_id].db)
        try:
            perform_outside(
                SqlUnitOfWork(engine, clock=SystemClock()),
                by,
                Permission.VIEW_OPLOG,
                "oplog:verify-network",
                functools.partial(_same, check),
                describe=_describe,
            )
        except sa.exc.SQLAlchemyError as exc:
            _unlogged(f"check of {check.node_id}", exc)
        finally:
            engine.dispose()


def _verify_archive(args: argparse.Namespace) -> int:
    from juki.nodes.oplog_archive import verify_archive

    try:
        data = args.archive.read_bytes()
        root = pki.cert_from_pem(args.root.read_bytes()) if args.root else None
    except (OSError, ValueError) as exc:
        raise ConsoleError(f"archive: {exc}") from exc
    check = verify_archive(data, root)
    if args.json:
        _print(
            {
                "holds": check.holds,
                "month": check.month,
                "node_id": check.node_id,
                "entries": check.entries,
                "problem": check.problem,
            }
        )
    elif check.holds:
        print(f"{check.node_id} {check.month}: OK — {check.entries} entries, signature valid")
    else:
        print(f"{check.node_id} {check.month}: BROKEN — {check.problem}")
    return EXIT_OK if check.holds else EXIT_FAILED


# -- export, prune -------------------------------------------------------------------------


def _beside_database(url: str, name: str) -> Path | None:
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    candidate = Path(parsed.database).parent / name
    return candidate if candidate.exists() else None


def _signer(args: argparse.Namespace) -> tuple[pki.PrivateKey, Any]:
    key_path = args.key or _beside_database(args.db, "key.pem")
    cert_path = args.cert or _beside_database(args.db, "cert.pem")
    if key_path is None or cert_path is None:
        raise ConsoleError(
            "export: the archive is signed with the node key: give --key and --cert "
            "(a node's database finds key.pem and cert.pem beside it)"
        )
    try:
        return pki.key_from_pem(key_path.read_bytes()), pki.cert_from_pem(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConsoleError(f"export: cannot read the node key or certificate: {exc}") from exc


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from juki.nodes.oplog_archive import ArchiveError, export_month

    require_token(args, settings)
    key, cert = _signer(args)
    engine = open_existing(args.db)
    try:
        by = operator_for(engine, args, settings)
        data, sealed = export_month(engine, args.month, key, cert, by, SystemClock().now())
    except ArchiveError as exc:
        raise ConsoleError(f"export: {exc}") from exc
    finally:
        engine.dispose()
    args.out.write_bytes(data)
    print(
        f"{sealed.month}: {sealed.entries} entries ({sealed.first_seq}..{sealed.last_seq}) "
        f"sealed; archive {args.out} sha256 {sealed.archive_sha256}"
    )
    return EXIT_OK


def cmd_prune(args: argparse.Namespace, settings: Settings) -> int:
    from juki.nodes.oplog_archive import ArchiveError, prune

    require_token(args, settings)
    engine = open_existing(args.db)
    try:
        by = operator_for(engine, args, settings)
        months = prune(engine, args.before, by, SystemClock().now())
    except ArchiveError as exc:
        raise ConsoleError(f"prune: {exc}") from exc
    finally:
        engine.dispose()
    print(f"pruned: {', '.join(months)}" if months else "nothing to prune")
    return EXIT_OK


# -- report --------------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from juki.security.actions import perform_outside
    from juki.security.report import Report, Thresholds, analyse, as_text
    from juki.security.tables import oplog
    from juki.security.uow import SqlUnitOfWork

    thresholds = Thresholds(
        args.night_from, args.night_until, args.mass_search, args.many_viewers, args.failed_logins
    )
    require_token(args, settings)
    engine = open_existing(args.db)

    def read() -> Report:
        since = datetime(args.since.year, args.since.month, args.since.day).isoformat()
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(oplog).where(oplog.c.at >= since).order_by(oplog.c.seq)
            ).mappings()
            return analyse((dict(r) for r in rows), args.since, thresholds)

    try:
        report = perform_outside(
            SqlUnitOfWork(engine, clock=SystemClock()),
            operator_for(engine, args, settings),
            Permission.VIEW_OPLOG,
            f"report:{args.since.isoformat()}",
            read,
            describe=lambda r: f"{len(r.findings)} findings in {r.entries} entries",
        )
    finally:
        engine.dispose()
    if args.json:
        _print(report.as_json())
    else:
        print("\n".join(as_text(report)))
    return EXIT_OK


# -- checkpoint ----------------------------------------------------------------------------


def cmd_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    from juki.nodes.bootstrap import bootstrap, close_node
    from juki.security.actions import perform_outside
    from juki.security.uow import SqlUnitOfWork

    require_token(args, settings)
    files = NetworkFiles(args.dir)
    wanted = args.node or files.node_ids()
    for node_id in wanted:
        node = bootstrap(NodeConfig.load(files.node_file(node_id)))
        try:
            signed = perform_outside(
                SqlUnitOfWork(node.engine, clock=node.clock),
                operator_for(node.engine, args, settings),
                Permission.CHECKPOINT_OPLOG,
                f"{node_id}:checkpoint",
                node.checkpoint,
                describe=lambda s: f"entry {s.seq}",
            )
        finally:
            close_node(node)
        print(f"{node_id}: checkpoint of entry {signed.seq} ({signed.entry_hash[:16]}…)")
    return EXIT_OK
