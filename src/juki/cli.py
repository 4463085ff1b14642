"""`juki …`: the command line. It only translates arguments to services and results to text."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from juki.certificates.cli import register_cert_commands
from juki.core.errors import JukiError, RuleViolation
from juki.core.identifiers import IdentifierKind, complete_identifier, parse_identifier
from juki.logs import configure_console
from juki.nodes.cli import register_network_commands
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.settings import Settings, masked_url
from juki.sim.cli import register_sim_commands

EXIT_OK = 0
EXIT_FAILED = 1


def _cli_actor(role: Role = Role.OPERATIONS_MANAGER) -> Actor:
    """Whoever runs the command on the server's console acts as the operations manager."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(actor_id=f"cli:{user}", role=role, terminal_id="console")


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_FAILED


# -- juki id ----------------------------------------------------------------------------------


def cmd_id_validate(args: argparse.Namespace) -> int:
    try:
        parse_identifier(IdentifierKind(args.kind), args.value)
    except RuleViolation as exc:
        print(f"invalid {args.kind}: {exc.message_en} [{exc.rule}]")
        return EXIT_FAILED
    print("valid")
    return EXIT_OK


def cmd_id_complete(args: argparse.Namespace) -> int:
    try:
        print(complete_identifier(IdentifierKind(args.kind), args.body))
    except RuleViolation as exc:
        print(f"invalid {args.kind} body: {exc.message_en} [{exc.rule}]")
        return EXIT_FAILED
    return EXIT_OK


# -- juki db / seed / registry ------------------------------------------------------------------


def _engine(url: str) -> Any:
    from juki.storage.engine import make_engine

    return make_engine(url)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from juki.storage.migrate import current_revision, upgrade

    engine = _engine(args.db)
    try:
        upgrade(engine)
        print(f"database {masked_url(args.db)} at revision {current_revision(engine)}")
    finally:
        engine.dispose()
    return EXIT_OK


def _progress_bar(total: int, desc: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="人", file=sys.stderr, disable=None)

    def update(n: int) -> None:
        bar.update(n)

    return update, bar.close


def cmd_seed(args: argparse.Namespace) -> int:
    from juki.core.clock import SystemClock
    from juki.core.identifiers import LgCode
    from juki.registry.seeding import seed_registry

    LgCode.parse(args.municipality)  # refuse before anything is created
    if not 1 <= args.residents <= 2_000_000:
        return _fail("residents: must be between 1 and 2000000 [range]")
    engine = _engine(args.db)
    update, close = _progress_bar(args.residents, "住民を作成中")
    try:
        result = seed_registry(
            engine,
            lg_code=args.municipality,
            residents=args.residents,
            seed=args.seed,
            by=_cli_actor(),
            clock=SystemClock(),
            progress=update,
        )
    finally:
        close()
        engine.dispose()
    print(json.dumps(_as_dict(result), ensure_ascii=False))
    return EXIT_OK


def _as_dict(result: object) -> dict[str, Any]:
    import dataclasses

    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    return dict(vars(result))


def cmd_registry_stats(args: argparse.Namespace) -> int:
    from juki.registry.services import registry_stats
    from juki.storage.uow import SqlUnitOfWork

    engine = _existing_engine(args.db)
    try:
        stats = registry_stats(SqlUnitOfWork(engine), _cli_actor())
    finally:
        engine.dispose()
    print(json.dumps(dict(stats), ensure_ascii=False, sort_keys=True))
    return EXIT_OK


def _existing_engine(url: str) -> Any:
    """An engine for a registry that must already exist: never create an empty SQLite file."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database or ""
    is_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_file and not Path(database).exists():
        raise SystemExit(_fail(f"db: {masked_url(url)} does not exist; run `juki seed` first"))
    engine = _engine(url)
    _require_schema(engine, url)
    return engine


def _require_schema(engine: Any, url: str) -> None:
    from juki.storage.migrate import current_revision, head_revision

    current = current_revision(engine)
    if current != head_revision():
        raise SystemExit(
            _fail(
                f"db: {masked_url(url)} is not a juki registry at the current schema "
                f"(revision {current or 'none'}); run `juki seed` or `juki db upgrade` first"
            )
        )


# -- juki operator ------------------------------------------------------------------------------


def cmd_operator_add(args: argparse.Namespace) -> int:
    from juki.core.clock import SystemClock
    from juki.security.operators import create_operator

    engine = _existing_engine(args.db)
    try:
        token = create_operator(
            engine, _cli_actor(), args.id, args.name, Role(args.role), SystemClock()
        )
    finally:
        engine.dispose()
    print(token)
    return EXIT_OK


# -- juki serve / demo --------------------------------------------------------------------------


def _serve(db: str, host: str, port: int, banner: Callable[[str], None]) -> int:
    import uvicorn

    from juki.web.registry_api import create_registry_app

    engine = _engine(db)
    _require_schema(engine, db)
    app = create_registry_app(engine)
    base = f"http://{host}:{port}"
    banner(base)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        engine.dispose()
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(args.db, args.host, args.port, lambda base: print(f"API docs: {base}/docs"))


def cmd_demo(args: argparse.Namespace) -> int:
    """The demo network: created once under --dir, started, stopped again on Ctrl-C."""
    from juki.nodes.cli import run_demo

    if not 1 <= args.residents <= 100_000:
        return _fail("residents: must be between 1 and 100000 [range]")
    return run_demo(
        Path(args.dir),
        residents=args.residents,
        seed=args.seed,
        base_port=args.base_port,
        out=sys.stdout,
    )


# -- parser -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="juki", description="juki: 住民基本台帳ネットワーク")
    sub = parser.add_subparsers(dest="command", required=True)

    kinds = [k.value for k in IdentifierKind]
    id_ = sub.add_parser("id", help="validate or complete identifiers (check digits)")
    id_sub = id_.add_subparsers(dest="id_command", required=True)
    p = id_sub.add_parser("validate", help="check an identifier; exit 0 and print 'valid'")
    p.add_argument("kind", choices=kinds)
    p.add_argument("value")
    p.set_defaults(func=cmd_id_validate)
    p = id_sub.add_parser("complete", help="append the check digit to a body")
    p.add_argument("kind", choices=kinds)
    p.add_argument("body")
    p.set_defaults(func=cmd_id_complete)

    def db_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db", default=settings.db_url, help="SQLAlchemy URL (default: $JUKI_DB or SQLite)"
        )

    p = sub.add_parser("seed", help="create or migrate a registry and add a synthetic population")
    db_arg(p)
    p.add_argument("--municipality", required=True, metavar="LGCODE")
    p.add_argument("--residents", required=True, type=int, metavar="N")
    p.add_argument("--seed", type=int, default=1, metavar="S")
    p.set_defaults(func=cmd_seed)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    p = db_sub.add_parser("upgrade", help="apply all migrations")
    db_arg(p)
    p.set_defaults(func=cmd_db_upgrade)

    reg = sub.add_parser("registry", help="registry reports")
    reg_sub = reg.add_subparsers(dest="registry_command", required=True)
    p = reg_sub.add_parser("stats", help="counts as JSON")
    db_arg(p)
    p.set_defaults(func=cmd_registry_stats)

    op = sub.add_parser("operator", help="terminal operators")
    op_sub = op.add_subparsers(dest="operator_command", required=True)
    p = op_sub.add_parser("add", help="create an operator and print its API token once")
    db_arg(p)
    p.add_argument("--id", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM])
    p.set_defaults(func=cmd_operator_add)

    def server_args(p: argparse.ArgumentParser, port: int) -> None:
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=port)

    p = sub.add_parser("serve", help="serve the registry API")
    db_arg(p)
    server_args(p, 8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="start the demo network (one process per node) until Ctrl-C")
    p.add_argument("--dir", default="var/demo-network")
    p.add_argument("--residents", type=int, default=300, help="per municipality, at creation")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--base-port", type=int, default=8400, metavar="PORT")
    p.set_defaults(func=cmd_demo)

    # Command groups that live with their packages register themselves here.
    register_network_commands(sub)  # network commands
    # cert commands
    register_cert_commands(sub)
    # sim commands
    register_sim_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        configure_console(Settings.from_env().log_level)
    except ValueError as exc:
        return _fail(f"JUKI_LOG_LEVEL: {exc}")
    try:
        return func(args)
    except RuleViolation as exc:
        return _fail(f"{exc.field}: {exc.message_en} [{exc.rule}]")
    except JukiError as exc:
        return _fail(f"error: {exc}")


if __name__ == "__main__":
    raise SystemExit(main())
