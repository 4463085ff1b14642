"""`juki kiosk`: the コンビニ交付 relay on a running demo network, from the console.

    juki kiosk cards  --dir DIR [--residents K]                      (DEMO ONLY)
    juki kiosk stress --dir DIR --sessions N --concurrency C [--faults timeouts] [--json]
    juki kiosk store add|withdraw|list --dir DIR …                   (juki.nodes.kiosk_store_cli)
    juki kiosk serve  --dir DIR --store STORE-ID [--host 127.0.0.1] [--port 8480]
                      [--relay-timeout S] [--idle-seconds S] [--jam N]

`cards` issues software cards with a known PIN for K residents of each municipality and
registers a demo store (`juki.nodes.kiosk_demo`); `stress` runs N kiosk sessions through the
relay's HTTP endpoints, C at once, and exits 0 only when no page named the wrong person and the
relay kept none of the residents' data (`juki.nodes.kiosk_stress`); `serve` runs the store's
kiosk web UI (`juki.nodes.kiosk_serve`, `juki.kiosk.web`) until stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

from juki.core.console import EXIT_OK, ConsoleError, Subparsers
from juki.core.settings import Settings
from juki.nodes import kiosk_store_cli
from juki.nodes.config import NetworkFiles
from juki.nodes.kiosk_demo import KioskFiles, is_demo, prepare
from juki.nodes.kiosk_serve import DEFAULT_HOST, KioskSetupError, ServeOptions, serve
from juki.nodes.kiosk_stress import run

EXIT_FAILED = 1


def _files(args: argparse.Namespace) -> NetworkFiles:
    files = NetworkFiles(Path(args.dir).resolve())
    if not files.exists():
        raise ConsoleError(f"dir: no network here ({args.dir}); run `juki network init` first")
    if not is_demo(files):
        raise ConsoleError("dir: not a demo network (`juki network init --demo`): refused")
    return files


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("a whole number is required") from exc
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError("between 1 and 100000")
    return value


def cmd_cards(args: argparse.Namespace, settings: Settings) -> int:
    issued = prepare(_files(args), args.residents)
    print(json.dumps({"issued": issued}, ensure_ascii=False))
    return EXIT_OK


def cmd_stress(args: argparse.Namespace, settings: Settings) -> int:
    files = _files(args)
    if not KioskFiles(files.root).manifest.exists():
        raise ConsoleError("dir: no demo cards; run `juki kiosk cards --dir DIR` first")
    report = run(
        files,
        args.sessions,
        min(args.concurrency, 200),
        args.faults == "timeouts",
        progress=sys.stderr,
    )
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    ok = report["wrong_person"] == 0 and report["relay_retained_bytes"] == 0
    return EXIT_OK if ok else EXIT_FAILED


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    files = NetworkFiles(Path(args.dir).resolve())
    if not files.exists():
        raise ConsoleError(f"dir: no network here ({args.dir}); run `juki network init` first")
    options = ServeOptions(
        store_id=args.store,
        relay_timeout_s=args.relay_timeout,
        idle=timedelta(seconds=args.idle_seconds),
        jam_next=args.jam,
    )
    print(f"kiosk: http://{args.host}:{args.port}/ (store {args.store})", flush=True)
    try:
        serve(files, options, args.host, args.port)
    except (KioskSetupError, ValueError) as exc:
        raise ConsoleError(str(exc)) from exc
    return EXIT_OK


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("a number of seconds is required") from exc
    if not 0.001 <= value <= 3600:
        raise argparse.ArgumentTypeError("between 0.001 and 3600 seconds")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is 1-65535")
    return value


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    top = sub.add_parser(
        name, help="コンビニ交付: the store register, the kiosk UI (serve); demo cards and stress"
    )
    s = top.add_subparsers(dest="kiosk_command", required=True)
    p = s.add_parser("cards", help="DEMO ONLY: software cards with known PINs, a demo store")
    p.add_argument("--dir", required=True, help="the network directory (juki network init --demo)")
    p.add_argument("--residents", type=_positive, default=3, help="per municipality")
    p.set_defaults(handler=cmd_cards)
    p = s.add_parser("stress", help="N kiosk sessions through the relay, C at once")
    p.add_argument("--dir", required=True, help="the running demo network's directory")
    p.add_argument("--sessions", type=_positive, required=True)
    p.add_argument("--concurrency", type=_positive, required=True)
    p.add_argument("--faults", choices=["none", "timeouts"], default="none")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_stress)
    kiosk_store_cli.register(s)
    p = s.add_parser("serve", help="the store's kiosk web UI (Japanese), on loopback by default")
    p.add_argument("--dir", required=True, help="the running network's directory")
    p.add_argument("--store", required=True, help="the store id its credential names")
    p.add_argument("--host", default=DEFAULT_HOST, help="default 127.0.0.1 (loopback only)")
    p.add_argument("--port", type=_port, default=8480)
    p.add_argument("--relay-timeout", type=_seconds, default=15.0, help="seconds per relay call")
    p.add_argument("--idle-seconds", type=_seconds, default=120.0, help="a visit left idle ends")
    p.add_argument(
        "--jam",
        type=int,
        default=0,
        choices=range(0, 11),
        metavar="N",
        help="DEMO: the next N copies jam (書損)",
    )
    p.set_defaults(handler=cmd_serve)
