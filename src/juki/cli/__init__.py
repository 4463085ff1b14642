"""`juki …`: the command line. It only parses and calls.

Each command belongs to the package that does the work (`juki.<feature>.cli`), which declares
its arguments (`register`) and its handler. The parser loads only the module of the command
being run, so `juki id validate` imports identifiers and nothing else (not even the logging
library: `SILENT`); `juki --help` lists every command from the table below without importing
any of them. Settings are read once, here, and handed to the handler.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Final

from juki.core.console import EXIT_FAILED, ConsoleError, fail
from juki.core.errors import JukiError, RuleViolation
from juki.core.settings import Settings, SettingsError

# command → (the module that registers and runs it, its one-line help)
COMMANDS: Final = {
    "id": ("juki.core.cli", "validate or complete identifiers (check digits)"),
    "seed": ("juki.population.cli", "create or migrate a registry and add a synthetic population"),
    "db": ("juki.storage.cli", "database schema"),
    "registry": ("juki.registry.cli", "registry reports"),
    "operator": ("juki.security.cli", "terminal operators"),
    "oplog": ("juki.nodes.oplog_cli", "the operation log: verify, export, prune, report"),
    "cert": ("juki.nodes.cert_cli", "certificates: issue, verify, void, register, fees"),
    "card": ("juki.cards.cli", "個人番号カード: issue, status, unlock, abolish"),
    "kiosk": (
        "juki.nodes.kiosk_cli",
        "コンビニ交付: the store register, the kiosk UI; demo cards and stress",
    ),
    "portal": ("juki.nodes.portal_cli", "the resident portal: credential, web UI, corrections"),
    "agency": ("juki.nodes.agency_cli", "本人確認情報の提供: recipient agencies"),
    "task": ("juki.nodes.agency_cli", "本人確認情報の提供: permitted tasks (法別表)"),
    "provide": (
        "juki.nodes.provide_cli",
        "本人確認情報の提供: an agency's lookups, over the network",
    ),
    "provision": ("juki.nodes.provide_cli", "本人確認情報の提供: yearly counts (提供状況の公表)"),
    "serve": ("juki.nodes.cli", "serve the registry API"),
    "demo": ("juki.nodes.cli", "start the demo network (one process per node) until Ctrl-C"),
    "network": ("juki.nodes.cli", "the network of nodes (住基ネット)"),
    "node": ("juki.nodes.cli", "run one node"),
    "sim": ("juki.sim.cli", "simulate the whole network in one process, seeded, with faults"),
    "audit": ("juki.governance.topology.cli", "audits: the network topology (seed 000 §2.4)"),
    "ledger": (
        "juki.governance.ledgers.cli",
        "governance ledgers: server room, configuration, cards, contracts, incidents",
    ),
    "report": ("juki.nodes.transparency.cli", "reports for councils: the transparency report"),
}

# Commands that log nothing: their console logging is not set up, which would import structlog
# (and rich through it), about a hundred modules and most of their start-up.
SILENT: Final = frozenset({"id"})


def _command_in(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(settings: Settings, argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for `argv`: the named command in full, the others by name and help only."""
    parser = argparse.ArgumentParser(prog="juki", description="juki: 住民基本台帳ネットワーク")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = _command_in(argv)
    for name, (module, help_) in COMMANDS.items():
        if name == wanted:
            importlib.import_module(module).register(sub, name, settings)
        else:
            sub.add_parser(name, help=help_)
    return parser


def _database_unreachable(exc: Exception, url: str | None) -> str | None:
    """One line instead of a traceback when the database cannot be reached."""
    if not type(exc).__module__.startswith("sqlalchemy"):
        return None  # SQLAlchemy is imported only by commands that use a database
    from juki.storage.engine import unreachable

    return unreachable(exc, url)


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        return fail(str(exc))
    args = build_parser(settings, args_in).parse_args(args_in)
    from juki.core.logs import configure_console, console_level

    try:
        console_level(settings.log_level)
    except ValueError as exc:
        return fail(f"JUKI_LOG_LEVEL: {exc}")
    if args.command not in SILENT:
        configure_console(settings.log_level)
    try:
        code: int = args.handler(args, settings)
    except ConsoleError as exc:
        return fail(str(exc))
    except RuleViolation as exc:
        return fail(f"{exc.field}: {exc.message_en} [{exc.rule}]")
    except JukiError as exc:
        return fail(f"error: {exc}")
    except Exception as exc:
        message = _database_unreachable(exc, getattr(args, "db", None))
        if message is None:
            raise
        return fail(message)
    return code if code is not None else EXIT_FAILED
