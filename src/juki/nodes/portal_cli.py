"""`juki portal`: the resident portal (docs/portal.md).

    juki portal init        --dir DIR                       the portal's credential, registered
    juki portal serve       --dir DIR [--host 127.0.0.1] [--port 8481]
    juki portal corrections --dir DIR --lg LG_CODE [--json]  the counter's queue of 訂正の申出

`init` issues the portal app's client certificate from the network root and registers it on
the national node as a national operator (DEMO: the demo network's operator; the one registered
before stops working); `serve` runs the portal's web UI (`juki.portal.web`) until stopped;
`corrections` lists a municipality's open correction requests, read as a counter clerk (the
operator's token, `--token` or `$JUKI_TOKEN`), the reading in its oplog.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from juki.core.console import EXIT_OK, ConsoleError, Subparsers
from juki.core.settings import Settings
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.nodes.kiosk_demo import is_demo
from juki.nodes.kiosk_serve import DEFAULT_HOST
from juki.nodes.portal_actions import list_corrections
from juki.nodes.portal_serve import PortalSetupError, init_portal, serve
from juki.security.credentials import add_token_arg, operator_for, require_token
from juki.storage.engine import make_engine


def _files(args: argparse.Namespace) -> NetworkFiles:
    files = NetworkFiles(Path(args.dir).resolve())
    if not files.exists():
        raise ConsoleError(f"dir: no network here ({args.dir}); run `juki network init` first")
    return files


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    files = _files(args)
    if not is_demo(files):
        raise ConsoleError("dir: `juki portal init` acts as the demo's national operator: refused")
    print(json.dumps({"portal_certificate_sha256": init_portal(files)}))
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    files = _files(args)
    print(f"portal: http://{args.host}:{args.port}/", flush=True)
    try:
        serve(files, args.host, args.port)
    except (PortalSetupError, ValueError) as exc:
        raise ConsoleError(str(exc)) from exc
    return EXIT_OK


def cmd_corrections(args: argparse.Namespace, settings: Settings) -> int:
    require_token(args, settings)  # refused before the network's files are read
    files = _files(args)
    if args.lg not in files.node_ids():
        raise ConsoleError(f"lg: {args.lg} is not a node of this network")
    config = NodeConfig.load(files.node_file(args.lg))
    engine = make_engine(config.db)
    try:
        by = operator_for(engine, args, settings)
        rows = list_corrections(engine, by)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            print(f"{r['filed_at']}  {r['resident_code']}  {r['text']}")
    return EXIT_OK


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    top = sub.add_parser(name, help="the resident portal: credential, web UI, correction requests")
    s = top.add_subparsers(dest="portal_command", required=True)
    p = s.add_parser("init", help="issue and register the portal's credential (demo network)")
    p.add_argument("--dir", required=True, help="the network directory")
    p.set_defaults(handler=cmd_init)
    p = s.add_parser("serve", help="the resident portal's web UI (Japanese), loopback by default")
    p.add_argument("--dir", required=True, help="the running network's directory")
    p.add_argument("--host", default=DEFAULT_HOST, help="default 127.0.0.1 (loopback only)")
    p.add_argument("--port", type=int, default=8481, choices=range(1, 65536), metavar="PORT")
    p.set_defaults(handler=cmd_serve)
    p = s.add_parser("corrections", help="a municipality's open 訂正の申出 (counter clerk)")
    p.add_argument("--dir", required=True, help="the network directory")
    p.add_argument("--lg", required=True, help="the municipality's lg_code")
    add_token_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_corrections)
