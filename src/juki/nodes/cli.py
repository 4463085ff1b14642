"""`juki network …` and `juki node run`: start, stop, watch, disconnect and check a network.

Every command reads a network directory made by `juki network init` and talks to the nodes the
way an operator's console would: over HTTPS with the console's client certificate (the nodes
require mutual TLS) and each node's admin token. Nothing here reaches into a node's database.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final, TextIO

if TYPE_CHECKING:
    import httpx

    from juki.nodes.check import Disagreement
    from juki.nodes.config import NetworkFiles, NodeConfig

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
DEFAULT_DIR: Final = "var/demo-network"
UP_TIMEOUT: Final = 60.0
DOWN_TIMEOUT: Final = 15.0
DRAIN_TIMEOUT: Final = 120.0
POLL: Final = 0.2
KIND_ORDER: Final = ("national", "prefecture", "municipality")  # start the upper levels first


class ConsoleError(Exception):
    """A node could not be reached or refused an admin call."""


# -- talking to nodes ----------------------------------------------------------------------------


class Console:
    """The operator's view of a network directory: configurations, tokens, an mTLS client."""

    def __init__(self, files: NetworkFiles, *, timeout: float = 10.0) -> None:
        from juki.network.https import mtls_client

        self.files = files
        self.configs: dict[str, NodeConfig] = {c.node_id: c for c in files.configs()}
        self.client: httpx.Client = mtls_client(
            files.console_certificate,
            files.console_key,
            files.root_certificate,
            read_timeout=timeout,
        )
        self._tokens: dict[str, str] = {}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def of_kind(self, kind: str) -> list[NodeConfig]:
        return [c for c in self.configs.values() if c.kind.value == kind]

    def node(self, node_id: str) -> NodeConfig:
        config = self.configs.get(node_id)
        if config is None:
            raise ConsoleError(
                f"{node_id} はこのネットワークのノードではありません (not a node here)"
            )
        return config

    def _token(self, node_id: str) -> str:
        if node_id not in self._tokens:
            try:
                self._tokens[node_id] = self.files.admin_token(node_id)
            except OSError as exc:
                raise ConsoleError(
                    f"{node_id}: 管理者トークンを読めません (admin token): {exc}"
                ) from exc
        return self._tokens[node_id]

    def admin(self, method: str, node_id: str, path: str, body: Any = None) -> Any:
        import httpx

        url = self.node(node_id).endpoint + "/admin/v1" + path
        try:
            response = self.client.request(
                method,
                url,
                json=body,
                headers={"Authorization": f"Bearer {self._token(node_id)}"},
            )
        except httpx.HTTPError as exc:
            raise ConsoleError(f"{node_id}: 到達できません (unreachable): {exc}") from exc
        if response.status_code >= 300:
            raise ConsoleError(f"{node_id}: {method} {path} → HTTP {response.status_code}")
        return response.json()

    def healthy(self, node_id: str) -> bool:
        import httpx

        try:
            response = self.client.get(self.node(node_id).endpoint + "/health", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def statuses(self) -> dict[str, dict[str, Any] | None]:
        """Each node's admin status, or None for a node that does not answer."""
        out: dict[str, dict[str, Any] | None] = {}
        for node_id in self.configs:
            try:
                out[node_id] = self.admin("GET", node_id, "/status")
            except ConsoleError:
                out[node_id] = None
        return out

    def wait_quiet(self, timeout: float) -> bool:
        """Wait until no node has anything left to send, seen twice in a row.

        One pass reads the nodes one after another, so a message handed on between two reads
        could slip through; two quiet passes in a row rule that out in practice.
        """
        deadline = time.monotonic() + timeout
        quiet_passes = 0
        while time.monotonic() < deadline:
            if _pending(self.statuses()) == 0:
                quiet_passes += 1
                if quiet_passes >= 2:
                    return True
            else:
                quiet_passes = 0
            time.sleep(POLL)
        return False

    def refresh_directories(self, except_for: Iterable[str] = ()) -> None:
        skip = {"national", *except_for}
        for node_id in self.configs:
            if node_id not in skip:
                try:
                    self.admin("POST", node_id, "/directory/refresh")
                except ConsoleError as exc:
                    print(f"警告: {exc}", file=sys.stderr)

    def compare(self) -> list[Disagreement]:
        from juki.nodes.check import compare
        from juki.nodes.identity import Digest

        def digests(node_id: str) -> dict[str, Digest]:
            rows = self.admin("GET", node_id, "/digests")
            return {r["lg_code"]: Digest(r["lg_code"], int(r["count"]), r["sha256"]) for r in rows}

        municipal = {c.node_id: digests(c.node_id)[c.node_id] for c in self.of_kind("municipality")}
        prefectures = {c.node_id: digests(c.node_id) for c in self.of_kind("prefecture")}
        prefectural = {
            lg: (parent, prefectures.get(parent, {}))
            for lg in municipal
            for parent in [self.configs[lg].parent or ""]
        }
        return compare(municipal, prefectural, ("national", digests("national")))


def _pending(statuses: dict[str, dict[str, Any] | None]) -> int:
    """Messages not yet delivered anywhere; a node that does not answer counts as busy."""
    total = 0
    for status in statuses.values():
        if status is None:
            total += 1
        else:
            total += int(status["pending"]) + int(status.get("registry_outbox", 0))
    return total


def _files(args: argparse.Namespace) -> NetworkFiles:
    from juki.nodes.config import NetworkFiles

    return NetworkFiles(Path(args.dir).resolve())


# -- processes ------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Is the process running (a zombie is not)? Reaps it if it is our own exited child."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _runs_config(pid: int, config_file: Path) -> bool:
    """Guard against a stale pid file whose number now belongs to another program."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _alive(pid)
    return str(config_file).encode() in cmdline


def running_pid(files: NetworkFiles, node_id: str) -> int | None:
    pid_file = files.pid_file(node_id)
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if _alive(pid) and _runs_config(pid, files.node_file(node_id)):
        return pid
    return None


def spawn_node(config_file: Path, log_file: Path) -> int:
    """Start `python -m juki node run --config FILE` in its own session, output to a log.

    posix_spawn leaves no Popen object behind: the node outlives `juki network up`.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    return os.posix_spawn(
        sys.executable,
        [sys.executable, "-m", "juki", "node", "run", "--config", str(config_file)],
        dict(os.environ),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log_file), flags, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def network_up(files: NetworkFiles, *, timeout: float = UP_TIMEOUT, out: TextIO) -> int:
    """Start every node that is not running, upper levels first, and wait for their health."""
    from juki.nodes.config import port_is_free

    with Console(files) as console:
        (files.root / "run").mkdir(exist_ok=True)
        deadline = time.monotonic() + timeout
        for kind in KIND_ORDER:
            started: dict[str, int] = {}
            for config in console.of_kind(kind):
                if running_pid(files, config.node_id) is not None:
                    print(f"{config.node_id}: 起動済み (already running)", file=out)
                    continue
                if not port_is_free(config.port, config.host):
                    print(
                        f"{config.node_id}: ポート {config.port} は使用中です (port in use)",
                        file=sys.stderr,
                    )
                    return EXIT_FAILED
                log_file = config.directory / "process.log"
                pid = spawn_node(files.node_file(config.node_id), log_file)
                files.pid_file(config.node_id).write_text(f"{pid}\n")
                started[config.node_id] = pid
            waiting = {c.node_id for c in console.of_kind(kind)}
            while waiting:
                for node_id in sorted(waiting):
                    child = started.get(node_id)
                    if child is not None and not _alive(child):
                        log_file = console.node(node_id).directory / "process.log"
                        print(
                            f"{node_id}: 起動に失敗しました (exited); {log_file}:\n"
                            + _tail(log_file),
                            file=sys.stderr,
                        )
                        return EXIT_FAILED
                    if console.healthy(node_id):
                        waiting.discard(node_id)
                if waiting and time.monotonic() > deadline:
                    print(
                        f"応答のないノード (no health answer): {', '.join(sorted(waiting))}",
                        file=sys.stderr,
                    )
                    return EXIT_FAILED
                if waiting:
                    time.sleep(POLL)
        print_urls(console, out)
    return EXIT_OK


def print_urls(console: Console, out: TextIO) -> None:
    files = console.files
    print("住基ネット (juki network) is up:", file=out)
    for kind in KIND_ORDER:
        for c in console.of_kind(kind):
            print(f"  {c.node_id:<9} {c.kind.value:<13} {c.endpoint}  {c.name}", file=out)
            if kind == "municipality":
                print(f"  {'':<9} {'':<13} registry API docs: {c.endpoint}/registry/docs", file=out)
    print(
        "Clients need the console certificate (mutual TLS):\n"
        f"  --cacert {files.root_certificate} --cert {files.console_certificate} "
        f"--key {files.console_key}\n"
        f"  (browsers: import {files.root / 'console' / 'console.p12'}, password in "
        "console.p12.password)",
        file=out,
    )


def network_down(files: NetworkFiles, *, timeout: float = DOWN_TIMEOUT, out: TextIO) -> int:
    """SIGTERM every node, then SIGKILL what is still running after `timeout` seconds."""
    pids: dict[str, int] = {}
    for node_id in files.node_ids():
        pid = running_pid(files, node_id)
        if pid is not None:
            pids[node_id] = pid
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for node_id, pid in pids.items():
        if _alive(pid):
            print(f"{node_id}: 停止しないため強制終了します (SIGKILL)", file=out)
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for node_id in files.node_ids():
        files.pid_file(node_id).unlink(missing_ok=True)
    print(f"停止しました (stopped): {', '.join(pids) or 'none running'}", file=out)
    return EXIT_OK


# -- commands ------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from juki.nodes.config import ConfigError, init_network

    if not 1 <= args.residents <= 100_000:
        print("residents: must be between 1 and 100000 [range]", file=sys.stderr)
        return EXIT_FAILED
    try:
        result = init_network(
            Path(args.dir),
            layout=args.layout,
            demo=args.demo,
            residents=args.residents,
            seed=args.seed,
            base_port=args.base_port,
            progress=lambda message: print(message, file=sys.stderr),
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for c in result.configs:
        seeded = f"  住民 {result.seeded[c.node_id]}人" if c.node_id in result.seeded else ""
        print(f"{c.node_id:<9} {c.kind.value:<13} {c.endpoint}  {c.name}{seeded}")
    print(f"ネットワークを作成しました (created): {Path(args.dir).resolve()}")
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    return network_up(_files(args), timeout=args.timeout, out=sys.stdout)


def cmd_down(args: argparse.Namespace) -> int:
    return network_down(_files(args), timeout=args.timeout, out=sys.stdout)


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


def cmd_status(args: argparse.Namespace) -> int:
    with Console(_files(args)) as console:
        statuses = console.statuses()
    if args.json:
        print(json.dumps(statuses, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        print(
            f"{'node':<9} {'kind':<13} {'state':<14} {'pending':>7} {'oldest':>7} "
            f"{'dead':>5}  queues / last check"
        )
        for node_id, s in statuses.items():
            kind = console.configs[node_id].kind.value
            if s is None:
                print(f"{node_id:<9} {kind:<13} {'応答なし(down)':<14}")
                continue
            state = "離脱中(disc.)" if s["disconnected"] else "稼働(up)"
            queues = " ".join(f"{peer}:{n}" for peer, n in sorted(s["queues"].items())) or "-"
            pending = int(s["pending"]) + int(s.get("registry_outbox", 0))
            print(
                f"{node_id:<9} {kind:<13} {state:<14} {pending:>7} "
                f"{_age(s['oldest_undelivered_age_s']):>7} {s['dead_letters']:>5}  "
                f"{queues} / {_last_check(s['last_digest_check'])}"
            )
    return EXIT_OK if all(s is not None for s in statuses.values()) else EXIT_FAILED


def cmd_disconnect(args: argparse.Namespace) -> int:
    with Console(_files(args)) as console:
        try:
            _require_member(console, args.node_id)
            try:
                console.admin("POST", args.node_id, "/disconnect")
            except ConsoleError as exc:  # a node that is down is disconnected anyway
                print(f"警告: {exc}", file=sys.stderr)
            console.admin(
                "POST", "national", f"/nodes/{args.node_id}/status", {"status": "disconnected"}
            )
            console.refresh_directories()
        except ConsoleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
    print(f"{args.node_id} を離脱させました (disconnected); its traffic waits in the outboxes")
    return EXIT_OK


def cmd_reconnect(args: argparse.Namespace) -> int:
    with Console(_files(args)) as console:
        try:
            _require_member(console, args.node_id)
            console.admin("POST", "national", f"/nodes/{args.node_id}/status", {"status": "active"})
            console.refresh_directories()
            console.admin("POST", args.node_id, "/reconnect")
        except ConsoleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"{args.node_id} を再接続しました (reconnected); 送信待ちを配送中 …")
        return check_network(console, repair=False, timeout=args.timeout, wait=True)


def _require_member(console: Console, node_id: str) -> None:
    config = console.node(node_id)
    if config.kind.value == "national":
        raise ConsoleError("全国サーバは離脱できません (the national node cannot disconnect)")


def cmd_check(args: argparse.Namespace) -> int:
    with Console(_files(args)) as console:
        return check_network(console, repair=args.repair, timeout=args.timeout, wait=args.wait)


def check_network(console: Console, *, repair: bool, timeout: float, wait: bool) -> int:
    """Compare digests at every level; with `repair`, resend the disagreeing municipalities."""
    if wait and not console.wait_quiet(timeout):
        print(
            f"警告: {timeout:.0f}秒待っても配送が終わりません (still delivering)", file=sys.stderr
        )
    statuses = console.statuses()
    down = sorted(n for n, s in statuses.items() if s is None)
    if down:
        print(
            f"error: 応答のないノードがあります (unreachable): {', '.join(down)}", file=sys.stderr
        )
        return EXIT_FAILED
    pending = _pending(statuses)
    if pending:
        print(
            f"警告: 未配送のメッセージが {pending} 件あります; 不一致は配送中のためかもしれません "
            f"({pending} messages still pending)",
            file=sys.stderr,
        )
    try:
        found = console.compare()
        if found and repair:
            lg_codes = sorted({d.lg_code for d in found})
            for lg in lg_codes:
                sent = console.admin("POST", lg, "/snapshot")
                print(f"{lg}: 本人確認情報 {sent['entries']} 件を再送しました (snapshot sent)")
            if not console.wait_quiet(timeout):
                print("警告: 修復の配送が終わりません (repair still delivering)", file=sys.stderr)
            pending = _pending(console.statuses())
            found = console.compare()
        _record(console, found, pending)
    except ConsoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not found:
        count = len(console.of_kind("municipality"))
        print(f"全階層で一致しています (all levels agree): {count} municipalities")
        return EXIT_OK
    print(f"不一致 {len(found)} 件 (disagreements):")
    for d in found:
        print(f"  {d.describe()}")
    return EXIT_FAILED


def _record(console: Console, found: list[Disagreement], pending: int) -> None:
    summary = json.dumps(
        {
            "at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "agree": not found,
            "pending": pending,
            "disagreements": [d.describe() for d in found],
        },
        ensure_ascii=False,
    )
    for node_id in console.configs:
        console.admin("POST", node_id, "/check-result", {"summary": summary[:4000]})


def cmd_node_run(args: argparse.Namespace) -> int:
    from juki.nodes.config import ConfigError
    from juki.nodes.runner import run_node

    try:
        return run_node(Path(args.config))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


# -- the demo -------------------------------------------------------------------------------------


def run_demo(root: Path, *, residents: int, seed: int, base_port: int, out: TextIO) -> int:
    """`juki demo`: create the demo network once, start it, and stop it on Ctrl-C."""
    from juki.nodes.config import ConfigError, NetworkFiles, NodeConfig, init_network

    files = NetworkFiles(root.resolve())
    if not files.exists():
        print(f"デモネットワークを作成中 (creating) {files.root} …", file=out)
        try:
            init_network(
                files.root,
                layout="demo",
                demo=True,
                residents=residents,
                seed=seed,
                base_port=base_port,
                progress=lambda message: print(message, file=out),
            )
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        code = network_up(files, out=out)
        if code != EXIT_OK:
            return code
        token_file = files.root / "132250" / "operator-token"
        if token_file.exists():
            endpoint = NodeConfig.load(files.node_file("132250")).endpoint
            print(
                "Try (counter clerk token of 稲城市):\n"
                f"  curl --cacert {files.root_certificate} --cert {files.console_certificate} "
                f"--key {files.console_key} \\\n"
                f'    -H "Authorization: Bearer $(cat {token_file})" '
                f"{endpoint}/registry/api/v1/stats\n"
                f"  juki network status --dir {files.root}\n"
                f"  juki network check --dir {files.root}",
                file=out,
            )
        print("Ctrl-C で停止します (Ctrl-C stops the network)", file=out)
        out.flush()
        reported: set[str] = set()
        while not stop.wait(1.0):
            for node_id in files.node_ids():
                if node_id not in reported and running_pid(files, node_id) is None:
                    reported.add(node_id)
                    print(f"警告: {node_id} が停止しています (stopped)", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        network_down(files, out=out)
    return EXIT_OK


# -- parser ----------------------------------------------------------------------------------------


def register_network_commands(sub: Any) -> None:
    """Add `juki network …` and `juki node run` to the CLI's subparsers."""
    from juki.nodes.config import DEFAULT_BASE_PORT, LAYOUTS

    def dir_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dir", default=DEFAULT_DIR, help=f"network directory ({DEFAULT_DIR})")

    net = sub.add_parser("network", help="the network of nodes (住基ネット)")
    net_sub = net.add_subparsers(dest="network_command", required=True)

    p = net_sub.add_parser("init", help="root, keys, certificates, configurations, databases")
    dir_arg(p)
    p.add_argument("--demo", action="store_true", help="seed synthetic residents")
    p.add_argument("--residents", type=int, default=300, metavar="N", help="per municipality")
    p.add_argument("--seed", type=int, default=1, metavar="S")
    p.add_argument("--layout", choices=sorted(LAYOUTS), default="demo")
    p.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, metavar="PORT")
    p.set_defaults(func=cmd_init)

    p = net_sub.add_parser("up", help="start every node and wait until each answers")
    dir_arg(p)
    p.add_argument("--timeout", type=float, default=UP_TIMEOUT, metavar="SECONDS")
    p.set_defaults(func=cmd_up)

    p = net_sub.add_parser("down", help="stop every node (SIGTERM, then SIGKILL)")
    dir_arg(p)
    p.add_argument("--timeout", type=float, default=DOWN_TIMEOUT, metavar="SECONDS")
    p.set_defaults(func=cmd_down)

    p = net_sub.add_parser("status", help="queues, dead letters, disconnects, last check")
    dir_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    for name, func, text in (
        ("disconnect", cmd_disconnect, "離脱: the node's traffic waits in the outboxes"),
        ("reconnect", cmd_reconnect, "reconnect, wait for the queues to drain, then check"),
    ):
        p = net_sub.add_parser(name, help=text)
        p.add_argument("node_id", metavar="LGCODE")
        dir_arg(p)
        if name == "reconnect":
            p.add_argument("--timeout", type=float, default=DRAIN_TIMEOUT, metavar="SECONDS")
        p.set_defaults(func=func)

    p = net_sub.add_parser("check", help="compare digests at every level (exit 1 on disagreement)")
    dir_arg(p)
    p.add_argument("--repair", action="store_true", help="resend disagreeing municipalities")
    p.add_argument(
        "--wait", action="store_true", help="first wait for the queues to drain (up to --timeout)"
    )
    p.add_argument("--timeout", type=float, default=DRAIN_TIMEOUT, metavar="SECONDS")
    p.set_defaults(func=cmd_check)

    node = sub.add_parser("node", help="run one node")
    node_sub = node.add_subparsers(dest="node_command", required=True)
    p = node_sub.add_parser("run", help="serve one node (HTTPS, mutual TLS) until SIGTERM")
    p.add_argument("--config", required=True, metavar="FILE")
    p.set_defaults(func=cmd_node_run)
