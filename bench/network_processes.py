"""identity_info through node processes: national, 東京都 and 稲城市 each in a process of its own.

`python -m bench network --processes [--backlog N] [--backend sqlite|postgres|both]`. In
production every node is its own process on its own machine and the pipeline moves as fast as
its slowest node; the in-process run (`bench/network.py`) puts all three on one core. Here a
three-node network is created as `juki network init` creates one (a layout registered for the
bench in the init's own process: init offers no custom layout) and started with `juki network
up`: HTTPS with mutual TLS, each node's database a SQLite file, or with `--backend postgres` a
database on a throwaway PostgreSQL server. Start-up is not timed.

Three phases, each from a commit written straight into 稲城市's database by this process (the
seeded population, one transaction of `--backlog` residents) until a read-only poll (every
50 ms) sees the last of it:
- 稲城市 disconnected (`juki network disconnect`), the CS queueing the identity_info: until the
  registry outbox's last row is forwarded (into the CS's outbox, where it waits);
- reconnected (the steps of `juki network reconnect`, without its wait), the backlog drained:
  until national's identity_changes has grown by the backlog;
- a second population seeded into the connected 稲城市: until it is all at national.
Each node's CPU seconds over each phase are read from /proc (on PostgreSQL its database's
backends' too, and the rest of the server apart): the node that spends the most is the
bottleneck once each has a machine of its own, and backlog ÷ its CPU seconds the rate it could
sustain alone (if CPU were all it waited for: fsyncs and round trips are not counted). This
machine has two cores for three nodes, a database server and the poll, so wall-clock rates are
lower than a network of machines would reach; backlog × cores ÷ all the phase's CPU seconds (the
poll's apart) is the most this machine could carry for that work, every core busy throughout.

Printed next to the raw limits measured in the same run, each into a fresh database of the same
backend with the nodes' durability (SQLite synchronous=FULL; the throwaway PostgreSQL server runs
with fsync off, as in every bench): executemany of identity rows, COPY on PostgreSQL, and a
level's writes (`bench.network.level_writes`).
After the drain and after the connected seed the levels must agree (`juki network check`).
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa

from bench.common import Backend, backends, table
from bench.idle import cpu_seconds
from bench.kiosk import _free_base_port
from bench.network import LEVEL_WRITES, LIMITS_NOTE, RATIOS, identity_rows, raw_limits
from juki.core.clock import SystemClock
from juki.core.console import EXIT_OK
from juki.nodes.codes import POOL_BATCH
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.nodes.console import Console, check_network
from juki.nodes.layout import NodeSpec, municipality, national, prefecture
from juki.nodes.supervisor import alive, running_pid
from juki.nodes.tables import identity_changes
from juki.population.seeding import seed_registry
from juki.registry.tables import outbox
from juki.security.actors import Actor
from juki.storage.engine import make_engine

INAGI = "132250"
TOKYO = "130001"
NATIONAL = "national"
LAYOUT = "bench-three"
POLL = 0.05
RAW_ROWS = 20_000  # at least: the raw limits are measured on as many rows as the backlog
REST = "postgres, the rest"
POLLER = "this process"  # the poll, and the seed's tail after its commit
CORES = os.cpu_count() or 1
LABELS = {NATIONAL: "national", TOKYO: "東京都", INAGI: "稲城市"}
HEADERS = ("backend", "flow", "identity_info/s", "raw executemany/s", RATIOS)


def three_nodes() -> tuple[NodeSpec, ...]:
    tokyo = prefecture(TOKYO, "東京都")
    return (national(), tokyo, municipality(INAGI, tokyo, "稲城市"))


def _init(net: Path, base_port: int, allotment: int, urls: dict[str, str] | None) -> None:
    """`juki network init` with the three-node layout, registered in this (child) process only."""
    from juki.nodes.layout import LAYOUTS
    from juki.nodes.netinit import init_network

    LAYOUTS[LAYOUT] = three_nodes
    db_url = urls.__getitem__ if urls is not None else None
    init_network(net, layout=LAYOUT, base_port=base_port, allotment=allotment, db_url=db_url)


def init_in_child(net: Path, allotment: int, urls: dict[str, str] | None) -> None:
    child = multiprocessing.get_context("spawn").Process(
        target=_init, args=(net, _free_base_port(), allotment, urls)
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"creating the network failed (exit {child.exitcode})")


def _juki(*args: str, check: bool = True) -> None:
    subprocess.run(
        [sys.executable, "-m", "juki", *args],
        check=check,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )


class Reader:
    """Read-only queries beside a running node: SQLite through a `mode=ro` connection
    (`make_engine` begins IMMEDIATE, which would take the node's write lock), PostgreSQL in
    autocommit; each query reads the latest commit."""

    def __init__(self, url: str) -> None:
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            uri = f"file:{parsed.database}?mode=ro"
            self.engine = sa.create_engine(
                "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True)
            )
        else:
            self.engine = sa.create_engine(url)
        self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.pid = (
            self.scalar(sa.text("SELECT pg_backend_pid()"))
            if self.engine.name != "sqlite"
            else None
        )

    def scalar(self, query: sa.Executable) -> object:
        return self.conn.execute(query).scalar()

    def number(self, query: sa.Executable) -> int:
        """An integer result; NULL (the max of no rows) is 0."""
        value = self.scalar(query)
        return int(value) if isinstance(value, int) else 0

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


LAST_CHANGE = sa.select(sa.func.max(identity_changes.c.change_id))
CHANGES = sa.select(sa.func.count()).select_from(identity_changes)


def changes(national_db: Reader) -> int:
    return national_db.number(CHANGES)


def wait_for(done: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `done` every 50 ms; the perf_counter at which it first held."""
    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{what}: not done in {timeout:.0f} s")
        time.sleep(POLL)
    return time.perf_counter()


def arrived(national_db: Reader, target: int) -> Callable[[], bool]:
    """national holds `target` identity changes: the last change id first (an index lookup),
    the count only once the ids say so (a sequence can skip ids)."""
    first_id = national_db.number(LAST_CHANGE)
    goal = first_id + target - changes(national_db)

    def done() -> bool:
        return national_db.number(LAST_CHANGE) >= goal and changes(national_db) >= target

    return done


def _stat(pid: int | str) -> list[str]:
    """/proc/PID/stat's fields after the command name: [0] state, [1] ppid, [11:15] CPU ticks."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


@dataclass(frozen=True)
class Reading:
    """CPU seconds at one moment: per process (or part of the server), and each node
    database's backends by pid, so a backend that exits between two readings is not taken
    away from its node (its CPU since the first reading lands in the server's rest, where the
    main process counts what it reaped)."""

    totals: dict[str, float]
    backends: dict[int, tuple[str, float]]


class Server:
    """A PostgreSQL server's CPU seconds: each node's database's backends, and the rest — the
    main process, background workers, the poll's backends, and any backend that exited
    (counted when the main process reaps it)."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.reader = Reader(urls[NATIONAL])
        self.node_of = {sa.engine.make_url(url).database: node for node, url in urls.items()}
        checkpointer = self.reader.scalar(
            sa.text("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
        )
        self.postmaster = int(_stat(str(checkpointer))[1])
        self.polls: set[int] = set()  # this process's backends, in the rest

    def read(self) -> tuple[float, dict[int, tuple[str, float]]]:
        """The whole server's CPU seconds (reaped children included), and each node database
        backend's: (its node's key, its CPU seconds) by pid."""
        ticks = os.sysconf("SC_CLK_TCK")
        children: dict[int, int] = {}
        for proc in Path("/proc").iterdir():
            try:
                fields = _stat(proc.name) if proc.name.isdigit() else None
            except OSError:
                continue
            if fields is not None and int(fields[1]) == self.postmaster:
                children[int(proc.name)] = int(fields[11]) + int(fields[12])
        own = sum(int(v) for v in _stat(self.postmaster)[11:15])  # reaped children included
        backends = self.reader.conn.execute(
            sa.text("SELECT pid, datname FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
        ).all()
        ours = {
            pid: (f"{self.node_of[datname]} db", children[pid] / ticks)
            for pid, datname in backends
            if datname in self.node_of and pid not in self.polls and pid in children
        }
        return (own + sum(children.values())) / ticks, ours

    def close(self) -> None:
        self.reader.close()


@dataclass
class Phase:
    name: str
    count: int
    seconds: float
    cpu: dict[str, float]  # process → CPU seconds over the phase

    @property
    def rate(self) -> float:
        return self.count / self.seconds


class Meter:
    """CPU seconds of every node process, the database server's and this process's."""

    def __init__(self, pids: dict[str, int], server: Server | None) -> None:
        self.pids = pids
        self.server = server

    def read(self) -> Reading:
        totals = {node_id: cpu_seconds(pid) for node_id, pid in self.pids.items()}
        backends: dict[int, tuple[str, float]] = {}
        if self.server is not None:
            totals[REST], backends = self.server.read()  # the whole server, until `since`
        totals[POLLER] = time.process_time()
        return Reading(totals, backends)

    def since(self, before: Reading) -> dict[str, float]:
        """CPU seconds spent since `before`: a node database's are its backends' that were
        alive at the end (a backend born since counts whole); the server's rest is the rest."""
        now = self.read()
        out = {k: v - before.totals[k] for k, v in now.totals.items() if k != POLLER}
        if self.server is not None:
            dbs = {f"{node} db": 0.0 for node in self.server.node_of.values()}
            for pid, (key, cpu) in now.backends.items():
                held = before.backends.get(pid)
                dbs[key] += cpu - (held[1] if held is not None and held[0] == key else 0.0)
            out[REST] -= sum(dbs.values())
            rest = out.pop(REST)
            out |= dbs
            out[REST] = rest
        out[POLLER] = now.totals[POLLER] - before.totals[POLLER]
        return out


class Commit:
    """The moment a seed commits (the load's progress callback, called once for its one
    chunk): CPU and clock, before the seed's own tail (releasing its code reservations)."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.cpu = Reading({}, {})
        self.start = 0.0

    def __call__(self, _residents: int) -> None:
        self.cpu, self.start = self.meter.read(), time.perf_counter()


def seed(db: str, residents: int, seed_number: int, committed: Commit) -> int:
    """`residents` written into 稲城市's registry in one transaction: the last outbox id."""
    engine = make_engine(db)
    try:
        seed_registry(
            engine,
            lg_code=INAGI,
            residents=residents,
            seed=seed_number,
            by=Actor.system("bench"),
            clock=SystemClock(),
            chunk=residents,
            progress=committed,
        )
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(outbox.c.outbox_id))).scalar_one())
    finally:
        engine.dispose()


def agree(console: Console) -> None:
    """`juki network check`: every level holds the same identity_info."""
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        code = check_network(console, repair=False, timeout=120, wait=True)
    if code != EXIT_OK:
        raise RuntimeError(f"the levels disagree after the run:\n{said.getvalue()}")


def phases(files: NetworkFiles, meter: Meter, backlog: int) -> list[Phase]:
    configs = {c.node_id: c for c in files.configs()}
    national_db = Reader(configs[NATIONAL].db)
    inagi_db = Reader(configs[INAGI].db)
    if meter.server is not None:
        meter.server.polls |= {r.pid for r in (national_db, inagi_db) if isinstance(r.pid, int)}
    limit = 300 + backlog / 50
    out: list[Phase] = []
    try:
        with Console(files, timeout=60) as console:
            _juki(
                "network", "disconnect", INAGI, "--dir", str(files.root),
                "--decided-by", "稲城市長", "--reason", "ベンチマーク (滞留の配送を測る)",
            )  # fmt: skip
            before = changes(national_db)
            at = Commit(meter)
            last = seed(configs[INAGI].db, backlog, 1, at)
            cpu, start = at.cpu, at.start
            forwarded = sa.select(outbox.c.delivered_at).where(outbox.c.outbox_id == last)
            end = wait_for(lambda: inagi_db.scalar(forwarded) is not None, limit, "queueing")
            out.append(Phase("queued at the CS while away", backlog, end - start, meter.since(cpu)))
            if changes(national_db) != before:
                raise RuntimeError("identity_info reached national during the 離脱")
            done = arrived(national_db, before + backlog)
            cpu, start = meter.read(), time.perf_counter()
            console.admin("POST", NATIONAL, f"/nodes/{INAGI}/status", {"status": "active"})
            console.refresh_directories()
            console.admin("POST", INAGI, "/reconnect", {"note": None, "operator": "bench"})
            end = wait_for(done, limit, "the drain")
            out.append(Phase("backlog after 離脱 drained", backlog, end - start, meter.since(cpu)))
            agree(console)
            done = arrived(national_db, changes(national_db) + backlog)
            at = Commit(meter)
            seed(configs[INAGI].db, backlog, 2, at)
            cpu, start = at.cpu, at.start
            end = wait_for(done, limit, "seeded while connected")
            out.append(Phase("seeded while connected", backlog, end - start, meter.since(cpu)))
            agree(console)
    finally:
        national_db.close()
        inagi_db.close()
    return out


def _runs(files: NetworkFiles, node_id: str, pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return alive(pid) and str(files.node_file(node_id)).encode() in cmdline


def stop(files: NetworkFiles, seen: dict[str, int]) -> None:
    """`juki network down`, then SIGKILL to the process group (its own session) of any node
    still running."""
    for node_id in files.node_ids():
        pid = running_pid(files, node_id)
        if pid is not None:
            seen[node_id] = pid
    _juki("network", "down", "--dir", str(files.root), "--timeout", "15", check=False)
    for node_id, pid in seen.items():
        if _runs(files, node_id, pid):
            os.killpg(pid, signal.SIGKILL)


def run_network(
    backend: Backend, backlog: int, root: Path | None = None
) -> tuple[list[Phase], dict[str, float]]:
    """Create and start the network (in a temporary directory under `root`), measure the
    phases, stop it; then the raw limits."""
    with tempfile.TemporaryDirectory(prefix="juki-bench-processes-", dir=root) as tmp:
        net = Path(tmp) / "net"
        urls = None
        if backend.name != "sqlite":
            urls = {spec.node_id: backend.new_url() for spec in three_nodes()}
        init_in_child(net, 2 * backlog + POOL_BATCH, urls)  # no pool refill while measured
        files = NetworkFiles(net)
        seen: dict[str, int] = {}
        try:
            _juki("network", "up", "--dir", str(net), "--timeout", "180")
            for node_id in files.node_ids():
                pid = running_pid(files, node_id)
                if pid is None:
                    raise RuntimeError(f"{node_id} is not running")
                seen[node_id] = pid
            with Console(files, timeout=60) as console:
                if not console.wait_quiet(timeout=300):
                    raise RuntimeError("the network did not settle in 300 s")
            server = Server(urls) if urls is not None else None
            try:
                found = phases(files, Meter(dict(seen), server), backlog)
            finally:
                if server is not None:
                    server.close()
        finally:
            stop(files, seen)
        inagi = make_engine(NodeConfig.load(files.node_file(INAGI)).db)
        try:
            rows = identity_rows(inagi, max(RAW_ROWS, backlog))  # as many as were drained
        finally:
            inagi.dispose()
        raw = raw_limits(backend.new_url, rows, durable=True)  # the nodes' own setting
    return found, raw


def _label(key: str) -> str:
    node, _, db = key.partition(" ")
    return f"{LABELS[node]} {db}".strip() if node in LABELS else key


def report(
    backend: str, found: list[Phase], raw: dict[str, float]
) -> tuple[list[list[object]], list[list[object]]]:
    limit = raw["executemany"]

    def ratios(rate: float) -> str:
        return " / ".join(f"{rate / v:.1%}" for v in raw.values())

    rates: list[list[object]] = []
    cpus: list[list[object]] = []
    for phase in found:
        flow = f"{phase.name} ({phase.count:,})"
        rates.append([backend, flow, f"{phase.rate:,.0f}", f"{limit:,.0f}", ratios(phase.rate)])
        # a node's own CPU, and on PostgreSQL its database's backends' as well
        nodes = {n: phase.cpu[n] + phase.cpu.get(f"{n} db", 0.0) for n in LABELS}
        slowest = max(nodes, key=nodes.__getitem__)
        alone = phase.count / nodes[slowest] if nodes[slowest] > 0 else float("inf")
        own = " + its database's" if f"{slowest} db" in phase.cpu else ""
        flow = f"  {LABELS[slowest]} alone: count ÷ its CPU s{own}"
        rates.append([backend, flow, f"{alone:,.0f}", f"{limit:,.0f}", ratios(alone)])
        # what this machine could carry if the phase's work kept every core busy all the time
        work = sum(v for k, v in phase.cpu.items() if k != POLLER)
        ceiling = phase.count * CORES / work if work > 0 else float("inf")
        flow = f"  all on {CORES} cores, none idle: count × {CORES} ÷ their CPU s"
        rates.append([backend, flow, f"{ceiling:,.0f}", f"{limit:,.0f}", ratios(ceiling)])
        cpu = [f"{v:.2f} ({v / phase.seconds:.0%})" for v in phase.cpu.values()]
        cpus.append([backend, phase.name, f"{phase.seconds:.2f}", *cpu])
    if "COPY" in raw:
        rates.append([backend, "  raw COPY of identity rows", f"{raw['COPY']:,.0f}", "", ""])
    level = raw[LEVEL_WRITES]
    rates.append([backend, "  raw: a level's writes (one node)", f"{level:,.0f}", "", ""])
    return rates, cpus


def run(backend: Backend, backlog: int, out: TextIO, root: Path | None = None) -> None:
    """One backend's network, measured and printed."""
    found, raw = run_network(backend, backlog, root)
    rates, cpus = report(backend.name, found, raw)
    print(table(HEADERS, rates), file=out)
    names = [_label(k) for k in found[0].cpu]
    print(table(["backend", "phase", "wall s", *(f"{n} CPU s" for n in names)], cpus), file=out)
    print(f"load average after {backend.name}: {os.getloadavg()[0]:.1f}", file=out)


def main(backlog: int, which: str) -> None:
    print(
        f"network, one process per node (national, 東京都, 稲城市; HTTPS, mutual TLS): a backlog "
        f"of {backlog:,}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    with backends(which) as found_backends:
        for backend in found_backends:
            run(backend, backlog, sys.stdout)
    print(
        "CPU s (% of the phase's wall time) per process; the node with the most CPU is the "
        "bottleneck once each node has a machine of its own. 'All on N cores' is the most this "
        "machine could carry for the phase's work: its CPU seconds (every node's, and the "
        "database server's, the poll's not counted) spread over every core with none idle. "
        + LIMITS_NOTE
        + " Here with the nodes' durability."
    )
