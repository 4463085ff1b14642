"""Node processes on one machine: start each node in its own session, upper levels first, wait
until it answers, and stop them all (`juki network up|down`, `juki demo`)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Final, TextIO

from juki.core.console import EXIT_FAILED, EXIT_OK
from juki.nodes.config import NetworkFiles, port_is_free
from juki.nodes.console import POLL, Console

UP_TIMEOUT: Final = 60.0
DOWN_TIMEOUT: Final = 15.0
KIND_ORDER: Final = ("national", "prefecture", "municipality")  # start the upper levels first


def alive(pid: int) -> bool:
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
        return alive(pid)
    return str(config_file).encode() in cmdline


def running_pid(files: NetworkFiles, node_id: str) -> int | None:
    pid_file = files.pid_file(node_id)
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if alive(pid) and _runs_config(pid, files.node_file(node_id)):
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
    with Console(files) as console:
        (files.root / "run").mkdir(exist_ok=True)
        deadline = time.monotonic() + timeout
        for kind in KIND_ORDER:
            started: dict[str, int] = {}
            for config in console.of_kind(kind):
                if running_pid(files, config.node_id) is not None:
                    print(f"{config.node_id}: 起動済み (already running)", file=out)
                    continue
                busy = [
                    p
                    for p in (config.port, config.public_port)
                    if p and not port_is_free(p, config.host)
                ]
                if busy:
                    print(
                        f"{config.node_id}: ポート {busy[0]} は使用中です (port in use)",
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
                    if child is not None and not alive(child):
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
                print(f"  {'':<23} counter terminal: {c.endpoint}/registry/terminal/", file=out)
                print(
                    f"  {'':<9} {'':<13} public verification (no client certificate): "
                    f"{c.public_base_url}/verify/",
                    file=out,
                )
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
    while any(alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for node_id, pid in pids.items():
        if alive(pid):
            print(f"{node_id}: 停止しないため強制終了します (SIGKILL)", file=out)
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for node_id in files.node_ids():
        files.pid_file(node_id).unlink(missing_ok=True)
    print(f"停止しました (stopped): {', '.join(pids) or 'none running'}", file=out)
    return EXIT_OK
