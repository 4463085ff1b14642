"""Provision read on a hot standby, next to the same reads on the primary and to plain SQL on the
standby (issue 15: streaming replicas serving provision reads).

`python -m bench standby [--persons 1000000] [--batch 10000]`, on a throwaway PostgreSQL server:

1. The national index is loaded as `bench provision` loads it (`juki.nodes.identity_load`),
   then a streaming standby is made of it (`pg_basebackup -R`) and started.
2. **Lookups**: `--batch` persons at random, one batch by 住民票コード and one by the four
   items, two rounds after a warm-up, each through `provide_batch`:
   - **on the primary**: read, recorded and logged on the primary, as without a standby;
   - **on the standby** (`juki.storage.standby`): read on the standby once it has replayed the
     primary's WAL insert position, recorded and logged on the primary;
   - **raw on the standby**: a prepared SELECT per lookup, one transaction: the standby's limit.
   Each batch's CPU seconds of the primary's and the standby's server processes are read from
   /proc: what a standby takes off the primary is the figure that matters (on this machine both
   servers share two cores, so the rates cannot add up).
3. **Catch-up under writes**: while a writer applies identity_info runs to the primary as the
   network does (`apply_identities`, runs of 400), requests ask for the standby again and again;
   how long each waited for the standby to replay the primary's position, against the writes/s.

Figures on stdout, progress on stderr.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final, TextIO

import sqlalchemy as sa

from bench.common import TESTS, load_average, psycopg_connection, table
from bench.provision import (
    AGENCY,
    BY_CODE,
    BY_ITEMS,
    NOW,
    PURPOSE,
    ROUNDS,
    TASK,
    Sample,
    load,
    raw_batch,
    register,
    request_lines,
    samples,
)
from juki.core.clock import FixedClock
from juki.network.messages import IdentityInfoBody
from juki.nodes.identity import apply_identities
from juki.nodes.provide import provide_batch
from juki.provision.requests import parse_lines
from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade
from juki.storage.standby import DEFAULT_MAX_WAIT_S, Standby

TICKS: Final = os.sysconf("SC_CLK_TCK")
RUN: Final = 400  # identity_info changes a writer applies per transaction (a network run)
WAITS: Final = 200  # requests that wait for the standby while the writer writes
_BODY: Final = tuple(IdentityInfoBody.model_fields)
SETTINGS: Final = {"synchronous_commit": "on"}


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def server_cpu(data_dir: Path) -> float:
    """CPU seconds of a PostgreSQL server so far: the postmaster, the children it reaped, and
    the children alive now."""
    postmaster = int(data_dir.joinpath("postmaster.pid").read_text().split()[0])
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(proc.name) == postmaster:
            total += sum(int(v) for v in fields[11:15])
        elif int(fields[1]) == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


@dataclass
class Lookups:
    lookups: int
    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, tuple[float, float]] = field(default_factory=dict)  # (primary, standby)
    read_on: dict[str, set[str]] = field(default_factory=dict)

    def add(self, what: str, seconds: float, cpu: tuple[float, float]) -> None:
        self.seconds[what] = self.seconds.get(what, 0.0) + seconds
        p, s = self.cpu.get(what, (0.0, 0.0))
        self.cpu[what] = (p + cpu[0], s + cpu[1])

    def rate(self, what: str) -> float:
        return ROUNDS * self.lookups / self.seconds[what]

    def per_10k(self, what: str) -> tuple[float, float]:
        """The servers' CPU seconds per 10,000 lookups: (primary, standby)."""
        n = ROUNDS * self.lookups / 10_000
        p, s = self.cpu[what]
        return p / n, s / n


class Servers:
    def __init__(self, primary: Any, standby: Any) -> None:
        self.dirs = (primary.data_dir, standby.data_dir)

    def cpu(self) -> tuple[float, float]:
        return server_cpu(self.dirs[0]), server_cpu(self.dirs[1])


def _juki(engine: sa.Engine, lines: list[str], standby: Standby | None) -> None:
    good, bad = parse_lines(lines)
    result = provide_batch(engine, AGENCY, TASK, PURPOSE, good, clock=FixedClock(NOW),
                           bad_lines=len(bad), standby=standby)  # fmt: skip
    if bad or len(result.answers) != len(lines) or result.refusal:
        raise RuntimeError(f"bench batch: {len(bad)} bad lines, {result.refusal}")


def _read_on(engine: sa.Engine) -> str:
    """Where the last batch was read, as its oplog entry says (untimed)."""
    with engine.connect() as conn:
        detail = conn.exec_driver_sql(
            "SELECT detail FROM oplog WHERE action = 'provide_identity_info' "
            "ORDER BY seq DESC LIMIT 1"
        ).scalar_one()
    return "standby" if "read on the standby" in detail else "primary"


def lookups(engine: sa.Engine, standby: Standby, servers: Servers, picked: list[Sample]) -> Lookups:
    figures = Lookups(len(picked))
    lines = request_lines(picked)
    raw_params: dict[str, tuple[str, list[tuple[Any, ...]]]] = {
        "code": (BY_CODE, [(s.resident_code,) for s in picked]),
        "items": (BY_ITEMS, [(s.kana_key, s.birth_date, s.sex, s.address + "%") for s in picked]),
    }
    raw_conn, warm_conn = standby.engine.raw_connection(), engine.raw_connection()
    try:
        conn = psycopg_connection(raw_conn)
        for query, params in raw_params.values():  # warm-up: the rows into both caches
            raw_batch(conn, query, params)
            raw_batch(psycopg_connection(warm_conn), query, params)
        for round_ in range(ROUNDS):
            for kind, (query, params) in raw_params.items():
                for what, on in (("primary", None), ("standby", standby)):
                    before, start = servers.cpu(), time.perf_counter()
                    _juki(engine, lines[kind], on)
                    seconds, after = time.perf_counter() - start, servers.cpu()
                    figures.add(f"{what} {kind}", seconds, _minus(after, before))
                    figures.read_on.setdefault(f"{what} {kind}", set()).add(_read_on(engine))
                before = servers.cpu()
                seconds, _ = raw_batch(conn, query, params)
                figures.add(f"raw {kind}", seconds, _minus(servers.cpu(), before))
            _progress(f"lookups: round {round_ + 1}/{ROUNDS}")
    finally:
        raw_conn.close()
        warm_conn.close()
    return figures


def _minus(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return a[0] - b[0], a[1] - b[1]


def _people(engine: sa.Engine, n: int) -> list[IdentityInfoBody]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(f"SELECT {', '.join(_BODY)} FROM identity_copies LIMIT :n"), {"n": n}
        ).mappings()
        return [IdentityInfoBody.model_validate(dict(r)) for r in rows]


def _moved(person: IdentityInfoBody, n: int) -> IdentityInfoBody:
    update = {"address": f"{person.address}{n % 10}", "changed_on": date(2025, 4, 1)}
    return person.model_copy(update=update)


@dataclass
class CatchUp:
    waits: list[float]
    fell_back: int
    writes: int
    seconds: float


def catch_up(engine: sa.Engine, standby: Standby) -> CatchUp:
    """Requests asking for the standby while a writer applies runs of identity_info changes to
    the primary (each a new address): how long each waited."""
    people, stop, written = _people(engine, 20 * RUN), threading.Event(), [0]

    def writer() -> None:
        n = 0
        while not stop.is_set():
            run = people[(n * RUN) % len(people) :][:RUN]
            changed = [(_moved(p, n), f"w{n}-{i}") for i, p in enumerate(run)]
            with engine.begin() as conn:
                apply_identities(conn, changed, now=NOW)
            written[0] += len(changed)
            n += 1

    thread = threading.Thread(target=writer, daemon=True)
    waits, fell_back = [], 0
    start = time.perf_counter()
    thread.start()
    try:
        with engine.connect() as conn:
            for _ in range(WAITS):
                asked = time.perf_counter()
                read = standby.caught_up(conn)
                waits.append(time.perf_counter() - asked)
                conn.rollback()
                if read.connection is None:
                    fell_back += 1
                else:
                    read.connection.close()
                time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    return CatchUp(waits, fell_back, written[0], time.perf_counter() - start)


def report(figures: Lookups, wait: CatchUp, out: TextIO) -> None:
    rows = []
    for kind, key in (("by resident code", "code"), ("by the four items", "items")):
        on_primary, on_standby, raw = (
            figures.rate(f"{w} {key}") for w in ("primary", "standby", "raw")
        )
        alone, (sp, ss) = figures.per_10k(f"primary {key}")[0], figures.per_10k(f"standby {key}")
        rows.append([kind, on_primary, on_standby, raw, on_standby / raw, alone, sp, ss])
    headers = ["batch lookup", "juki, primary /s", "juki, standby /s", "raw on standby /s",
               "standby/raw", "primary CPU", "primary CPU (standby)", "standby CPU"]  # fmt: skip
    print(table(headers, rows), file=out)
    read_on = {k: sorted(v) for k, v in figures.read_on.items() if k.startswith("standby")}
    waits = sorted(wait.waits)
    p99 = waits[min(len(waits) - 1, round(0.99 * len(waits)))]
    print(
        f"{figures.lookups:,} lookups a batch, {ROUNDS} rounds after a warm-up; CPU s = the "
        "server's CPU seconds per 10,000 lookups (primary: every batch's provision_records and "
        f"oplog entry are written there either way).\nbatches read on: {read_on}\n"
        f"catch-up under writes: {wait.writes / wait.seconds:,.0f} identity_info changes/s "
        f"applied to the primary in runs of {RUN}; {len(waits)} requests waited for the standby "
        f"p50 {1000 * statistics.median(waits):.1f} ms, p99 {1000 * p99:.1f} ms, "
        f"max {1000 * waits[-1]:.1f} ms; {wait.fell_back} read on the primary instead "
        f"(limit {DEFAULT_MAX_WAIT_S:g} s).\n"
        f"load average {load_average()}",
        file=out,
    )


def main(persons: int, batch: int, seed: int = 1, out: TextIO = sys.stdout) -> None:
    print(
        f"\n== standby: provision read on a hot standby, {persons:,} persons, "
        f"batches of {batch:,} =="
    )
    sys.path.insert(0, str(TESTS))
    from support.pgserver import PostgresServer  # type: ignore[import-not-found]

    # A commit waits for its WAL to be flushed, as in production: with the test servers'
    # synchronous_commit=off the standby would only see it at the WAL writer's next round
    # (wal_writer_delay, 200 ms), and every read would wait for that.
    with PostgresServer(settings=SETTINGS) as primary_server:
        url = primary_server.url
        engine = make_engine(url)
        try:
            upgrade(engine)
            register(engine)
            load(engine, persons, seed)
            picked = samples(engine, batch, seed)
            _progress("base backup for the standby")
            standby_server = primary_server.standby(settings=SETTINGS)
            try:
                standby = Standby(make_engine(standby_server.url))
                standby.check(engine)
                figures = lookups(engine, standby, Servers(primary_server, standby_server), picked)
                _progress("catch-up under writes")
                wait = catch_up(engine, standby)
                standby.engine.dispose()
            finally:
                standby_server.stop()
        finally:
            engine.dispose()
    report(figures, wait, out)
