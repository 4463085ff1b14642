"""`juki network …`, `juki node run`, `juki serve` and `juki demo`: the network of nodes from
the console, one node's process, a standalone registry, and the demo network.

What only a node, a standalone registry or the creation of a network needs (uvicorn, the
apps and through them every feature, the migrations) is imported by the handler that uses it:
`juki network status|up|down` are console commands, run often, and loaded it all for nothing.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any, Final

from juki.core.clock import SystemClock
from juki.core.console import EXIT_FAILED, EXIT_OK, ConsoleError, Subparsers, fail, table
from juki.core.settings import Settings
from juki.nodes.config import DEFAULT_BASE_PORT, ConfigError, NetworkFiles
from juki.nodes.console import (
    DEFAULT_DIR,
    DRAIN_TIMEOUT,
    Console,
    NodeRefused,
    check_network,
    require_member,
)
from juki.nodes.layout import LAYOUTS
from juki.nodes.supervisor import DOWN_TIMEOUT, UP_TIMEOUT, network_down, network_up

MAX_DEMO_RESIDENTS: Final = 100_000


# -- commands ------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    from juki.nodes.netinit import init_network

    if not 1 <= args.residents <= MAX_DEMO_RESIDENTS:
        return fail(f"residents: must be between 1 and {MAX_DEMO_RESIDENTS} [range]")
    try:
        result = init_network(
            Path(args.dir),
            layout=args.layout,
            demo=args.demo,
            residents=args.residents,
            seed=args.seed,
            base_port=args.base_port,
            progress=lambda message: print(message, file=sys.stderr),
            admin_token_days=settings.admin_token_days,
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    rows = [
        [
            c.node_id,
            c.kind.value,
            c.endpoint,
            c.name,
            f"住民 {result.seeded[c.node_id]}人" if c.node_id in result.seeded else "",
        ]
        for c in result.configs
    ]
    print("\n".join(table(rows)))
    print(f"ネットワークを作成しました (created): {Path(args.dir).resolve()}")
    return EXIT_OK


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    return network_up(files_of(args), timeout=args.timeout, out=sys.stdout)


def cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    return network_down(files_of(args), timeout=args.timeout, out=sys.stdout)


def _age(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.0f}s"


def _last_check(summary: str | None) -> str:
    if not summary:
        return "-"
    try:
        data = json.loads(summary)
        verdict = "一致 (agree)" if data["agree"] else f"不一致 {len(data['disagreements'])}件"
        return f"{data['at'][:19]} {verdict}"
    except (ValueError, KeyError, TypeError):
        return summary[:40]


def status_table(statuses: dict[str, Any], console: Console) -> list[str]:
    """One line per node, columns aligned on a terminal whatever the Japanese in them."""
    rows = [["node", "kind", "state", "pending", "oldest", "dead", "queues / last check"]]
    for node_id, s in statuses.items():
        kind = console.configs[node_id].kind.value
        if s is None:
            rows.append([node_id, kind, "応答なし(down)", "", "", "", ""])
            continue
        state = "離脱中(disc.)" if s["disconnected"] else "稼働(up)"
        queues = " ".join(f"{peer}:{n}" for peer, n in sorted(s["queues"].items())) or "-"
        pending = int(s["pending"]) + int(s.get("registry_outbox", 0))
        rows.append(
            [
                node_id,
                kind,
                state,
                str(pending),
                _age(s["oldest_undelivered_age_s"]),
                str(s["dead_letters"]),
                f"{queues} / {_last_check(s['last_digest_check'])}",
            ]
        )
    return table(rows, right={3, 4, 5})


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    with Console(files_of(args)) as console:
        statuses = console.statuses()
    if args.json:
        print(json.dumps(statuses, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        print("\n".join(status_table(statuses, console)))
    return EXIT_OK if all(s is not None for s in statuses.values()) else EXIT_FAILED


def cmd_admin_token(args: argparse.Namespace, settings: Settings) -> int:
    """Written to DIR/<node>/admin-token (0600), where the console reads it; a running node
    takes the change at its next admin request."""
    from juki.nodes.admin_token import rotate_admin_token

    files = files_of(args)
    if args.node_id not in files.node_ids():
        raise ConsoleError(f"{args.node_id}: not a node of {files.root}")
    token = rotate_admin_token(
        files,
        args.node_id,
        SystemClock(),
        days=settings.admin_token_days if args.days is None else args.days,
        revoke_only=args.revoke,
    )
    if token is None:
        print(f"{args.node_id}: admin token revoked; no admin token works until a new one")
    else:
        print(f"{args.node_id}: new admin token in {files.root / args.node_id / 'admin-token'}")
    return EXIT_OK


def cmd_disconnect(args: argparse.Namespace, settings: Settings) -> int:
    """離脱 as the node's body's decision, recorded at the node (who decided, why), then marked
    in the national directory; the node's traffic waits in the outboxes."""
    from juki.nodes.disconnection import MAX_DECIDED_BY, MAX_REASON, check_text

    decision = {
        "decided_by": check_text("decided_by", args.decided_by, MAX_DECIDED_BY),
        "reason": check_text("reason", args.reason, MAX_REASON),
        "operator": _operator(),
    }  # checked here too, so nothing is changed anywhere for a decision the node would refuse
    recorded = True
    with Console(files_of(args)) as console:
        try:
            require_member(console, args.node_id)
            try:
                console.admin("POST", args.node_id, "/disconnect", decision)
            except NodeRefused:
                raise
            except ConsoleError as exc:  # a node that is down is disconnected anyway
                recorded = False
                print(f"警告: {exc}", file=sys.stderr)
            console.admin(
                "POST", "national", f"/nodes/{args.node_id}/status", {"status": "disconnected"}
            )
            console.refresh_directories()
        except ConsoleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
    print(f"{args.node_id} を離脱させました (disconnected); its traffic waits in the outboxes")
    if not recorded:
        print(
            "警告: ノードが応答しないため離脱の決定を記録できませんでした。起動後に同じコマンドを"
            "もう一度実行してください (the decision is not recorded: run this again once the node"
            " is up)",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_reconnect(args: argparse.Namespace, settings: Settings) -> int:
    from juki.nodes.disconnection import MAX_REASON, check_text

    note = check_text("reason", args.reason, MAX_REASON) if args.reason is not None else None
    ending = {"note": note, "operator": _operator()}
    with Console(files_of(args)) as console:
        try:
            require_member(console, args.node_id)
            console.admin("POST", "national", f"/nodes/{args.node_id}/status", {"status": "active"})
            console.refresh_directories()
            console.admin("POST", args.node_id, "/reconnect", ending)
        except ConsoleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"{args.node_id} を再接続しました (reconnected); 送信待ちを配送中 …")
        return check_network(console, repair=False, timeout=args.timeout, wait=True)


def cmd_decisions(args: argparse.Namespace, settings: Settings) -> int:
    """Every municipality's and prefecture's disconnection decisions, from each node."""
    rows = [["node", "body", "decided by", "started", "ended", "reason"]]
    found: list[dict[str, Any]] = []
    failed = False
    with Console(files_of(args)) as console:
        for config in console.configs.values():
            if config.kind.value == "national" or (args.node and config.node_id != args.node):
                continue
            try:
                found += console.admin("GET", config.node_id, "/disconnections")
            except ConsoleError as exc:
                failed = True
                print(f"error: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        for d in found:
            ended = (d["ended_at"] or "離脱中 (in force)")[:19]
            body = f"{d['body_name']} ({d['node_id']})"
            rows.append(
                [d["node_id"], body, d["decided_by"], d["started_at"][:19], ended, d["reason"]]
            )
        print("\n".join(table(rows)))
        print(f"離脱の決定 {len(found)} 件 (decisions)")
    return EXIT_FAILED if failed else EXIT_OK


def _operator() -> str:
    """Who types the command, for the decision's record (the admin token says which node)."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        return "cli:unknown"


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    with Console(files_of(args)) as console:
        return check_network(console, repair=args.repair, timeout=args.timeout, wait=args.wait)


def cmd_node_run(args: argparse.Namespace, settings: Settings) -> int:
    from juki.nodes.runner import run_node

    try:
        return run_node(Path(args.config), settings)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """The registry API of one municipality, standalone (no network)."""
    import uvicorn

    from juki.nodes.apps import create_registry_app
    from juki.nodes.runner import trusts_proxy_headers
    from juki.storage.engine import open_existing

    engine = open_existing(args.db)
    app = create_registry_app(engine, settings=settings)
    print(f"API docs: http://{args.host}:{args.port}/docs")
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level="warning",
            proxy_headers=trusts_proxy_headers(),
        )
    finally:
        engine.dispose()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """The demo network: created once under --dir, started, stopped again on Ctrl-C."""
    from juki.nodes.demo import run_demo

    if not 1 <= args.residents <= MAX_DEMO_RESIDENTS:
        return fail(f"residents: must be between 1 and {MAX_DEMO_RESIDENTS} [range]")
    return run_demo(
        Path(args.dir),
        residents=args.residents,
        seed=args.seed,
        base_port=args.base_port,
        out=sys.stdout,
    )


def files_of(args: argparse.Namespace) -> NetworkFiles:
    return NetworkFiles(Path(args.dir).resolve())


# -- parser ----------------------------------------------------------------------------------------


def _dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", default=DEFAULT_DIR, help=f"network directory ({DEFAULT_DIR})")


def _register_network(sub: Subparsers) -> None:
    net = sub.add_parser("network", help="the network of nodes (住基ネット)")
    net_sub = net.add_subparsers(dest="network_command", required=True)

    p = net_sub.add_parser("init", help="root, keys, certificates, configurations, databases")
    _dir_arg(p)
    p.add_argument("--demo", action="store_true", help="seed synthetic residents")
    p.add_argument("--residents", type=int, default=300, metavar="N", help="per municipality")
    p.add_argument("--seed", type=int, default=1, metavar="S")
    p.add_argument("--layout", choices=sorted(LAYOUTS), default="demo")
    p.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, metavar="PORT")
    p.set_defaults(handler=cmd_init)

    p = net_sub.add_parser("up", help="start every node and wait until each answers")
    _dir_arg(p)
    p.add_argument("--timeout", type=float, default=UP_TIMEOUT, metavar="SECONDS")
    p.set_defaults(handler=cmd_up)

    p = net_sub.add_parser("down", help="stop every node (SIGTERM, then SIGKILL)")
    _dir_arg(p)
    p.add_argument("--timeout", type=float, default=DOWN_TIMEOUT, metavar="SECONDS")
    p.set_defaults(handler=cmd_down)

    p = net_sub.add_parser("status", help="queues, dead letters, disconnects, last check")
    _dir_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)

    p = net_sub.add_parser(
        "disconnect", help="離脱 as the body's decision: the node's traffic waits in the outboxes"
    )
    p.add_argument("node_id", metavar="LGCODE")
    _dir_arg(p)
    p.add_argument("--reason", required=True, help="why (理由), 1-500 characters; required")
    p.add_argument(
        "--decided-by", required=True, help="who decided (決定者), e.g. 稲城市長; required"
    )
    p.set_defaults(handler=cmd_disconnect)

    p = net_sub.add_parser(
        "reconnect", help="end the decision, reconnect, wait for the queues to drain, then check"
    )
    p.add_argument("node_id", metavar="LGCODE")
    _dir_arg(p)
    p.add_argument("--reason", help="why it ends (再接続の理由), optional")
    p.add_argument("--timeout", type=float, default=DRAIN_TIMEOUT, metavar="SECONDS")
    p.set_defaults(handler=cmd_reconnect)

    p = net_sub.add_parser("decisions", help="離脱の決定: who decided, why, when it ended")
    _dir_arg(p)
    p.add_argument("--node", metavar="LGCODE", help="only this node")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_decisions)

    p = net_sub.add_parser("check", help="compare digests at every level (exit 1 on disagreement)")
    _dir_arg(p)
    p.add_argument("--repair", action="store_true", help="resend disagreeing municipalities")
    p.add_argument(
        "--wait", action="store_true", help="first wait for the queues to drain (up to --timeout)"
    )
    p.add_argument("--timeout", type=float, default=DRAIN_TIMEOUT, metavar="SECONDS")
    p.set_defaults(handler=cmd_check)

    p = net_sub.add_parser(
        "admin-token", help="replace a node's admin token (the old one is revoked at once)"
    )
    p.add_argument("node_id", metavar="NODE")
    _dir_arg(p)
    p.add_argument("--days", type=int, help="1-366 days (default $JUKI_ADMIN_TOKEN_DAYS, 365)")
    p.add_argument("--revoke", action="store_true", help="revoke only: no token works after it")
    p.set_defaults(handler=cmd_admin_token)


def _register_node(sub: Subparsers) -> None:
    node = sub.add_parser("node", help="run one node")
    node_sub = node.add_subparsers(dest="node_command", required=True)
    p = node_sub.add_parser("run", help="serve one node (HTTPS, mutual TLS) until SIGTERM")
    p.add_argument("--config", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_node_run)


def _register_serve(sub: Subparsers, settings: Settings) -> None:
    from juki.storage.cli import db_arg

    p = sub.add_parser("serve", help="serve the registry API")
    db_arg(p, settings)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(handler=cmd_serve)


def _register_demo(sub: Subparsers) -> None:
    p = sub.add_parser("demo", help="start the demo network (one process per node) until Ctrl-C")
    p.add_argument("--dir", default=DEFAULT_DIR)
    p.add_argument("--residents", type=int, default=300, help="per municipality, at creation")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, metavar="PORT")
    p.set_defaults(handler=cmd_demo)


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    if name == "network":
        _register_network(sub)
    elif name == "node":
        _register_node(sub)
    elif name == "serve":
        _register_serve(sub, settings)
    elif name == "demo":
        _register_demo(sub)
    else:
        raise ValueError(f"juki.nodes.cli has no command {name}")
