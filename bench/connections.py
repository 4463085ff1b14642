"""What one PostgreSQL connection costs the national node's server, for docs/scale.md's case for
a connection pooler (issue 15).

`python -m bench connections [--persons 100000] [--clients 200]`, on a throwaway PostgreSQL
server with the national bench's settings (`bench.national.SERVER_SETTINGS`, so shared memory
is what a national node's server would have):

1. The national index is loaded as `bench provision` loads it, and the shipped register.
2. `--clients` connections are opened, each from an engine of its own as a node process holds
   its pool (the national node's clients reach it over HTTPS, never its database), and each
   answers a provision batch of 200 lookups by
   住民票コード and 200 by the four items (`provide_batch`: the register read, lookups,
   records, the oplog), so each backend holds the catalog and plan caches real work fills.
3. Each backend's memory is read from /proc/PID/smaps_rollup: its proportional share (PSS:
   shared buffers split between the processes that touched them) and what is its own alone
   (private, clean + dirty). The same for one idle connection that only connected.

Figures on stdout, progress on stderr.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

import sqlalchemy as sa

from bench.common import TESTS, load_average, table
from bench.national import SERVER_SETTINGS
from bench.provision import AGENCY, NOW, PURPOSE, TASK, load, register, request_lines, samples
from juki.core.clock import FixedClock
from juki.nodes.provide import provide_batch
from juki.provision.requests import parse_lines
from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade

LOOKUPS: Final = 200
CONNECTIONS_JAPAN: Final = 2_000  # 130 node processes of 15 pooled connections, and more


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Memory:
    """One backend's memory, in KiB."""

    pss: int
    private: int


def memory(pid: int) -> Memory:
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value)
    return Memory(fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"])


def backends(engine: sa.Engine) -> list[int]:
    """The pids of the client backends of this database, the asking one excepted."""
    with engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).scalars()
        )


def _work(engine: sa.Engine, lines: dict[str, list[str]]) -> None:
    for kind in ("code", "items"):
        good, bad = parse_lines(lines[kind])
        provide_batch(engine, AGENCY, TASK, PURPOSE, good, clock=FixedClock(NOW))
        if bad:
            raise RuntimeError(f"bench connections: {len(bad)} bad lines")


def _mean(values: list[Memory]) -> tuple[float, float]:
    """Mean PSS and private memory, in MiB."""
    n = len(values)
    return sum(v.pss for v in values) / n / 1024, sum(v.private for v in values) / n / 1024


def measure(url: str, persons: int, clients: int, seed: int, out: TextIO) -> None:
    engine = make_engine(url)
    held: list[sa.Engine] = []
    try:
        upgrade(engine)
        register(engine)
        load(engine, persons, seed)
        lines = request_lines(samples(engine, LOOKUPS, seed))
        idle = make_engine(url)
        with idle.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
            idle_pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            idle_memory = memory(idle_pid)
        idle.dispose()
        for i in range(clients):
            client = make_engine(url)
            held.append(client)
            _work(client, lines)
            if (i + 1) % 50 == 0:
                _progress(f"{i + 1}/{clients} connections working")
        working = [memory(pid) for pid in backends(engine)]
        report(idle_memory, working, clients, out)
    finally:
        for client in held:
            client.dispose()
        engine.dispose()


def report(idle: Memory, working: list[Memory], clients: int, out: TextIO) -> None:
    pss, private = _mean(working)
    rows = [
        ["connected, nothing asked", idle.pss / 1024, idle.private / 1024, 1],
        [f"after {2 * LOOKUPS} lookups (provide_batch)", pss, private, len(working)],
    ]
    print(table(["backend", "PSS MiB", "private MiB", "backends"], rows), file=out)
    japan = CONNECTIONS_JAPAN * private / 1024
    print(
        f"{clients} connections opened, each by an engine of its own; PSS shares the shared "
        "buffers a backend touched between the processes that did, private is its own alone.\n"
        f"{CONNECTIONS_JAPAN:,} connections (130 node processes of 15) held directly: "
        f"≈ {japan:,.1f} GiB of private backend memory alone; behind a pooler with a few "
        f"server connections per core, that of a few dozen. load average "
        f"{load_average()}",
        file=out,
    )


def main(persons: int, clients: int, seed: int = 1, out: TextIO = sys.stdout) -> None:
    print(f"\n== connections: a backend's memory, {persons:,} persons, {clients} clients ==")
    sys.path.insert(0, str(TESTS))
    from support.pgserver import PostgresServer  # type: ignore[import-not-found]

    settings = {**SERVER_SETTINGS, "max_connections": str(clients + 20)}
    with PostgresServer(settings=settings) as server:
        measure(server.url, persons, clients, seed, out)
