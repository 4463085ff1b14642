"""`juki sim`: run one seeded simulation and report it (a summary, or one JSON object)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import structlog

from juki.core.console import Subparsers
from juki.core.settings import Settings
from juki.sim.faults import PRESETS, parse_override
from juki.sim.runner import SimConfig, run

EXIT_OK = 0
EXIT_VIOLATION = 1


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    p = sub.add_parser(
        name,
        help="simulate the whole network in one process under a seeded clock, with faults",
        description=(
            "Run every node's real code in one process, seeded: the same seed gives the same "
            "run and the same JSON. Exit 1 when an invariant was violated."
        ),
    )
    p.add_argument("--seed", type=int, required=True, metavar="S")
    p.add_argument("--days", type=int, required=True, metavar="D")
    p.add_argument("--municipalities", type=int, default=5, metavar="M")
    p.add_argument("--population", type=int, default=2000, metavar="P")
    p.add_argument("--faults", choices=sorted(PRESETS), default="none")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=RATE",
        help="override one fault's rate, e.g. --fault drop=0.2 --fault crash=0",
    )
    p.add_argument(
        "--event-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiply Japan's life-event rates (tests use 20–100 to see every path quickly)",
    )
    p.add_argument(
        "--kiosk-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiply the コンビニ交付 rate (cards and kiosk certificates); 0 switches it off",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--replay", action="store_true", help="trace every event and node log line to stderr"
    )
    p.add_argument("--keep", metavar="DIR", help="keep the nodes' SQLite files in DIR")
    p.set_defaults(handler=cmd_sim)


def _quiet_logs(replay: bool) -> None:
    """Node logs go to stderr with --replay, nowhere otherwise: stdout carries only the result.
    No wall-clock stamps: each log line follows the trace line (simulated time) that caused it,
    so two replays of one seed print the same stderr too."""
    level = logging.INFO if replay else logging.CRITICAL
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def cmd_sim(args: argparse.Namespace, settings: Settings) -> int:
    try:
        overrides = tuple(parse_override(text) for text in args.fault)
        config = SimConfig(
            seed=args.seed,
            days=args.days,
            municipalities=args.municipalities,
            population=args.population,
            faults=args.faults,
            overrides=overrides,
            scale=args.event_scale,
            kiosk_scale=args.kiosk_scale,
            workdir=Path(args.keep) if args.keep else None,
        )
        config.rates  # noqa: B018  (validates the overrides before anything runs)
        if config.workdir is not None and config.workdir.exists() and any(config.workdir.iterdir()):
            raise ValueError(f"--keep {config.workdir}: the directory must be empty or new")
    except ValueError as exc:
        print(f"juki sim: {exc}", file=sys.stderr)
        return 2
    _quiet_logs(args.replay)
    started = time.perf_counter()
    result = run(config, echo=sys.stderr if args.replay else None)
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    else:
        print(summary(result, elapsed, replay_command(args)))
    return EXIT_VIOLATION if result["violations"] else EXIT_OK


def replay_command(args: argparse.Namespace) -> str:
    parts = [
        f"juki sim --seed {args.seed} --days {args.days}",
        f"--municipalities {args.municipalities} --population {args.population}",
        f"--faults {args.faults}",
        *(f"--fault {f}" for f in args.fault),
    ]
    if args.event_scale != 1.0:
        parts.append(f"--event-scale {args.event_scale:g}")
    if args.kiosk_scale != 1.0:
        parts.append(f"--kiosk-scale {args.kiosk_scale:g}")
    return " ".join([*parts, "--replay"])


def summary(result: dict[str, Any], elapsed: float, replay: str) -> str:
    node_days = result["nodes"] * result["days"]
    lines = [
        f"seed {result['seed']}: {result['days']} days, {result['municipalities']} municipalities "
        f"({result['nodes']} nodes), {result['population']} residents, faults {result['faults']}",
        f"events {result['events']}: "
        + ", ".join(f"{k} {v}" for k, v in result["events_by_kind"].items()),
        f"refused by the registry: {result['events_refused'] or 'none'}; "
        f"failed (disk, crash): {result['events_failed'] or 'none'}",
        f"messages sent {result['messages_sent']}, applied {result['messages_applied']}, "
        f"duplicates suppressed {result['duplicates_suppressed']}, "
        f"dead letters {result['dead_letters']} {result['dead_letter_reasons'] or ''}".rstrip(),
        f"faults injected: {result['faults_injected'] or 'none'}",
        f"national lookups {result['lookups']} ({result['lookup_hits']} found at once)",
        f"converged: {str(result['converged']).lower()}; repairs: {result['repairs'] or 'none'}",
        f"time: {elapsed:.1f} s wall, {node_days / elapsed:.1f} simulated node-days/s",
    ]
    if not result["violations"]:
        lines.append("invariants: all held")
    for v in result["violations"]:
        lines.append(f"VIOLATION seed {result['seed']} at {v['at']}: {v['invariant']}")
        lines.append(f"  {v['detail']}")
        if v["trail"]:
            lines.append("  trail:")
            lines.extend(f"    {line}" for line in v["trail"])
    if result["violations"]:
        lines.append(f"replay with tracing: {replay}")
    return "\n".join(lines)
