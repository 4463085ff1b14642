"""An idle demo network: each node's CPU over a minute, and one change through a quiet network.

The demo network (`juki network init --demo`, ten node processes as `juki demo` starts them, on
SQLite files and with `--backend postgres` on databases of a throwaway PostgreSQL server) is
started, left until nothing is pending and then a little longer, and each node's CPU
time (user + system, from /proc/PID/stat) is read before and after `--seconds`. Printed per
node as a percentage of one core next to the goal (1%) and the raw limit measured over the same
seconds: a bare uvicorn process with a node's TLS set-up (certificate, key, client certificates
required) serving an app that does nothing (`bench/bare_server.py`). A node runs one such server
(a municipality two: its public listener) plus its stepper thread.

Then one change on the quiet network: a relocation written straight into 稲城市's database by
this process (as a `juki` command on the same database would), timed until its identity_info is
in the national index — no request wakes the node, only its watch on the database.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench.common import Backend, backends, table
from bench.kiosk import _free_base_port
from juki.core.clock import SystemClock
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.nodes.console import Console
from juki.nodes.layout import demo_layout
from juki.nodes.netinit import init_network
from juki.nodes.supervisor import running_pid
from juki.nodes.tables import identity_changes
from juki.registry import services as svc
from juki.registry.commands import RecordRelocation
from juki.registry.tables import resident_records
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine

CLERK = Actor("bench", Role.COUNTER_CLERK, "bench")
GOAL_PERCENT = 1.0
INAGI = "132250"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _juki(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "juki", *args], check=True, stdout=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bare_server(config: NodeConfig) -> subprocess.Popen[bytes]:
    port = _free_port()
    args = [config.certificate, config.key, config.root_certificate, str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_server", *args], stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the bare uvicorn did not start")


def measure(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's CPU over the same `seconds`, as a percentage of one core."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    return {name: 100 * (cpu_seconds(pid) - before[name]) / elapsed for name, pid in pids.items()}


def _national_changes(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        count = sa.select(sa.func.count()).select_from(identity_changes)
        return int(conn.execute(count).scalar_one())


def one_change(files: NetworkFiles, attempt: int, timeout: float = 60.0) -> float:
    """Relocate one household at 稲城市 from this process; seconds from its commit until
    national has it."""
    inagi = make_engine(NodeConfig.load(files.node_file(INAGI)).db)
    national = make_engine(NodeConfig.load(files.node_file("national")).db)
    clock = SystemClock()
    try:
        with inagi.connect() as conn:
            rid = conn.execute(
                sa.select(resident_records.c.record_id)
                .where(resident_records.c.status == "active")
                .order_by(resident_records.c.record_id)
                .limit(1)
                .offset(attempt)
            ).scalar_one()
        record = svc.get_record(SqlRegistryUnitOfWork(inagi, clock=clock), CLERK, rid)
        members = svc.household_view(
            SqlRegistryUnitOfWork(inagi, clock=clock), CLERK, record.household_id
        )[1]
        expected = _national_changes(national) + len(members)
        svc.record_relocation(
            SqlRegistryUnitOfWork(inagi, clock=clock),
            CLERK,
            RecordRelocation(
                tuple(m.record_id for m in members),
                f"東京都稲城市百村{1000 + attempt}番地",
                clock.today(),
                clock.today(),
            ),
        )
        start = time.monotonic()  # committed: from here on only the nodes' own work counts
        while _national_changes(national) < expected:
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"the change did not reach national in {timeout:.0f} s")
            time.sleep(0.01)
        return time.monotonic() - start
    finally:
        inagi.dispose()
        national.dispose()


def _init(net: Path, residents: int, base_port: int, urls: dict[str, str] | None) -> None:
    db_url = urls.__getitem__ if urls is not None else None
    init_network(net, layout="demo", demo=True, residents=residents, base_port=base_port,
                 db_url=db_url)  # fmt: skip


def _init_in_child(net: Path, residents: int, urls: dict[str, str] | None) -> None:
    """`init_network` in a process of its own: the demo's operator cards load SoftHSM2 with
    this network's token directory, which a process keeps reading once it has loaded it."""
    child = multiprocessing.get_context("spawn").Process(
        target=_init, args=(net, residents, _free_base_port(), urls)
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"creating the demo network failed (exit {child.exitcode})")


def run_network(
    backend: Backend, seconds: float, residents: int, settle: float, changes: int
) -> tuple[dict[str, str], dict[str, float], list[float]]:
    """Start the demo network on `backend`, measure it idle, then time one change at a time."""
    with tempfile.TemporaryDirectory(prefix="juki-bench-idle-") as tmpdir:
        net = Path(tmpdir) / "net"
        urls = None
        if backend.name != "sqlite":
            urls = {spec.node_id: backend.new_url() for spec in demo_layout()}
        _init_in_child(net, residents, urls)
        files = NetworkFiles(net)
        _juki("network", "up", "--dir", str(net))
        bare = None
        try:
            with Console(files) as console:
                if not console.wait_quiet(timeout=300):
                    raise RuntimeError("the network did not settle in 300 s")
                kinds = {c.node_id: c.kind.value for c in console.configs.values()}
            bare = _bare_server(NodeConfig.load(files.node_file("national")))
            time.sleep(settle)
            pids = {node_id: running_pid(files, node_id) for node_id in kinds}
            if any(pid is None for pid in pids.values()):
                raise RuntimeError(f"a node is not running: {pids}")
            found = measure({**pids, "bare uvicorn": bare.pid}, seconds)  # type: ignore[dict-item]
            latencies = [one_change(files, i) for i in range(changes)]
        finally:
            if bare is not None:
                bare.terminate()
                bare.wait(timeout=10)
            _juki("network", "down", "--dir", str(net))
    return kinds, found, latencies


def main(
    seconds: float, residents: int, which: str, settle: float = 10.0, changes: int = 3
) -> None:
    load = os.getloadavg()
    print(
        f"idle: the demo network (10 node processes), {residents} residents per municipality, "
        f"CPU over {seconds:.0f} s after {settle:.0f} s of quiet "
        f"(load average before: {load[0]:.1f} on {os.cpu_count()} cores)"
    )
    with backends(which) as found_backends:
        for backend in found_backends:
            kinds, found, latencies = run_network(backend, seconds, residents, settle, changes)
            _report(backend.name, kinds, found, latencies)
    print(
        f"load average after: {os.getloadavg()[0]:.1f}. The machine is shared: other work "
        "inflates CPU figures; the bare uvicorn, measured over the same seconds, is the yardstick."
    )


def _report(
    backend: str, kinds: dict[str, str], found: dict[str, float], latencies: list[float]
) -> None:
    raw = found.pop("bare uvicorn")
    rows: list[list[object]] = [
        [
            backend,
            node_id,
            kinds[node_id],
            f"{pct:.2f}",
            f"{GOAL_PERCENT:.0f}",
            f"{raw:.2f}",
            f"{pct / raw:.1f}" if raw > 0 else "-",
        ]
        for node_id, pct in found.items()
    ]
    headers = ["backend", "node", "kind", "% of a core", "goal %", "bare uvicorn %", "ratio"]
    print(table(headers, rows))
    worst = max(found.values())
    print(
        f"{backend}: worst node {worst:.2f}% of a core (goal under {GOAL_PERCENT:.0f}%: "
        f"{'met' if worst < GOAL_PERCENT else 'NOT met'}); a municipality serves two listeners, "
        "so its raw limit is about twice the bare uvicorn's"
    )
    print(
        f"{backend}: one change on the quiet network, written by another process into 稲城市's "
        "database, from its commit until it is in the national index (goal: within 1 s): "
        + ", ".join(f"{s:.2f} s" for s in latencies)
    )
