"""The national node at national size on PostgreSQL (issue 15): load, lookups, size.

`python -m bench national --persons 10000000 --backend postgres [--lookups 5000]
[--partitions 0]`, on a throwaway PostgreSQL server (data directory under /tmp, on disk) started
with the settings a national node's server would have on this machine (SERVER_SETTINGS):

1. **Generation**: N synthetic persons (`juki.population.national`) rendered as COPY text by
   `juki.population.national_rows`, timed apart (wall and CPU seconds of this process).
2. **Load**: each chunk through juki's initial load (`juki.nodes.identity_load`: COPY into the
   tables without indexes, the indexes built after with ANALYZE, one transaction) and the same
   bytes COPYed into bare tables of the same columns and defaults (no index, no key): the raw
   limit. Goal: juki at least half the raw rows/s.
3. **Lookups**, one at a time on one connection, persons drawn at random, juki and raw
   alternating: by 住民票コード, by the four items (reading key + birth date, active), by
   個人番号 (the uniqueness check of my_number generation). juki = the node's own queries
   (`SqlIdentitySource`, the SQLAlchemy select of `NationalNode.my_number_for`); raw = a
   prepared SELECT of the same rows on the same index. Goal: juki p50 within 2× of raw.
4. **Size**: the database, each table and each index, after the raw tables are dropped.

`--partitions P` hash-partitions identity_copies and identity_changes on resident_code into P
partitions first (a measurement for docs/scale.md; the schema itself is not partitioned).
Figures on stdout, progress on stderr; the load average is printed beside them.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TextIO

import psycopg
import sqlalchemy as sa
from psycopg import sql

from bench.common import backends, load_average, psycopg_connection, table
from bench.national_lookups import Latencies, changes, lookups, samples
from bench.national_schema import partition, sizes
from juki.core.clock import JST
from juki.nodes.identity_load import copy_statement, copy_text, identity_load
from juki.population.national import national_pool
from juki.population.national_rows import CURRENT_COLUMNS, VERSION_COLUMNS, CopyChunk, copy_chunks
from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade

NOW: Final = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
# A national node's server on a 2-core, 23 GiB machine shared with other work: a tenth of the
# memory for shared buffers, checkpoints spaced so that a load does not checkpoint every
# gigabyte. fsync and full-page writes stay off as on the test server (both sides of each
# ratio run with them off).
SERVER_SETTINGS: Final = {
    "shared_buffers": "2GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "effective_cache_size": "12GB",
}
RAW: Final = {"identity_copies": "bench_raw_copies", "identity_changes": "bench_raw_changes"}


@dataclass
class LoadFigures:
    persons: int = 0
    rows: int = 0  # identity_copies + identity_changes rows
    bytes: int = 0  # COPY text
    pool_s: float = 0.0  # the household generator's pool (once per run)
    generate_s: float = 0.0  # rendering the COPY text, wall
    generate_cpu_s: float = 0.0  # the same, CPU seconds of this process
    load_s: float = 0.0  # juki's loader: COPY, indexes, ANALYZE
    index_s: dict[str, float] = field(default_factory=dict)
    raw_s: float = 0.0  # bare COPY of the same bytes (every `raw_every`-th chunk)
    raw_rows: int = 0
    wall_s: float = 0.0  # the whole load phase: rendering, both COPYs, indexes
    sizes: list[tuple[str, int]] = field(default_factory=list)


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _produced(chunks: Iterator[CopyChunk], figures: LoadFigures) -> Iterator[CopyChunk]:
    """The chunks, rendered by a thread of their own while the caller COPYs the previous ones:
    psycopg waits for the server without the GIL, so Python and PostgreSQL work at once."""
    ready: queue.Queue[CopyChunk | None] = queue.Queue(maxsize=4)

    def produce() -> None:
        try:
            while True:
                wall, cpu = time.perf_counter(), time.thread_time()
                chunk = next(chunks, None)
                figures.generate_s += time.perf_counter() - wall
                figures.generate_cpu_s += time.thread_time() - cpu
                ready.put(chunk)
                if chunk is None:
                    return
        except BaseException:
            ready.put(None)
            raise

    thread = threading.Thread(target=produce, name="national-rows", daemon=True)
    thread.start()
    while (chunk := ready.get()) is not None:
        yield chunk
    thread.join()


def _raw_tables(raw: psycopg.Connection[Any]) -> None:
    """Bare tables of the node's columns, with the defaults the load gives its own columns."""
    at = sql.Literal(NOW.isoformat())
    for source, name in RAW.items():
        raw.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(
                sql.Identifier(name), sql.Identifier(source)
            )
        )
    raw.execute(
        sql.SQL("ALTER TABLE bench_raw_copies ALTER COLUMN updated_at SET DEFAULT {}").format(at)
    )
    raw.execute(
        sql.SQL(
            "ALTER TABLE bench_raw_changes ALTER COLUMN received_at SET DEFAULT {}, "
            "ALTER COLUMN message_id SET DEFAULT 'raw'"
        ).format(at)
    )


def _raw_copy(raw: psycopg.Connection[Any], chunk: CopyChunk) -> float:
    start = time.perf_counter()
    copy_text(raw, copy_statement(RAW["identity_copies"], CURRENT_COLUMNS), chunk.current)
    copy_text(raw, copy_statement(RAW["identity_changes"], VERSION_COLUMNS), chunk.history)
    return time.perf_counter() - start


def load(engine: sa.Engine, persons: int, seed: int, raw_every: int = 1) -> LoadFigures:
    """Fill the national index through juki's loader, timing the raw COPY beside it."""
    figures = LoadFigures()
    start = time.perf_counter()
    pool = national_pool(persons, seed=seed, today=NOW.date())
    figures.pool_s = time.perf_counter() - start
    chunks = copy_chunks(pool, persons, seed=seed, today=NOW.date())
    raw_conn = engine.raw_connection()
    try:
        raw = psycopg_connection(raw_conn)
        _raw_tables(raw)
        raw.commit()  # its locks released: the load drops and builds indexes
        load_start = time.perf_counter()
        with identity_load(engine, now=NOW) as loader:
            for i, chunk in enumerate(_produced(chunks, figures)):
                # Taking a chunk wakes the rendering thread, which then competes with whichever
                # COPY comes first: of the chunks COPYed twice, juki's is first on every other.
                raw_first = i % raw_every == 0 and (i // raw_every) % 2 == 1
                if raw_first:
                    figures.raw_s += _raw_copy(raw, chunk)
                start = time.perf_counter()
                loader.write_text(chunk)
                figures.load_s += time.perf_counter() - start
                if i % raw_every == 0 and not raw_first:
                    figures.raw_s += _raw_copy(raw, chunk)
                if i % raw_every == 0:
                    figures.raw_rows += chunk.persons + chunk.versions
                figures.bytes += len(chunk.current) + len(chunk.history)
                if loader.persons % 1_000_000 < chunk.persons:
                    _progress(f"{loader.persons:,}/{persons:,} persons loaded ({load_average()})")
            figures.persons, figures.rows = loader.persons, loader.persons + loader.changes
            index_start = time.perf_counter()
        figures.load_s += time.perf_counter() - index_start
        figures.wall_s = time.perf_counter() - load_start
        figures.index_s = dict(loader.index_seconds)
        figures.index_s["ANALYZE"] = (
            time.perf_counter() - index_start - sum(loader.index_seconds.values())
        )
        raw.commit()
        _progress(f"loaded in {time.perf_counter() - load_start:,.0f} s; dropping raw tables")
    finally:
        raw.rollback()
        for name in RAW.values():
            raw.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
        raw.commit()
        raw_conn.close()
    figures.sizes = sizes(engine)
    return figures


@dataclass
class Figures:
    """Everything one run measured."""

    load: LoadFigures
    lookups: Latencies
    changes: Latencies
    partitions: int
    raw_every: int


def report(figures: Figures, out: TextIO) -> None:
    lf, lat, raw_every, partitions = (
        figures.load,
        figures.lookups,
        figures.raw_every,
        figures.partitions,
    )
    load_rows, raw_rows = lf.rows / lf.load_s, lf.raw_rows / lf.raw_s
    generation = lf.persons / lf.generate_s
    ratio = load_rows / raw_rows
    both = lf.persons / lf.wall_s
    rows: list[list[object]] = [
        ["generation, wall", generation, "", lf.bytes / lf.generate_s / 2**20, "", ""],
        ["generation, CPU", lf.persons / lf.generate_cpu_s, "", "", "", ""],
        ["juki initial load", lf.persons / lf.load_s, load_rows, "", raw_rows, ratio],
        ["the load phase, overlapped", both, "", "", "", ""],
    ]
    headers = ["load", "persons/s", "rows/s", "MB/s", "raw COPY rows/s", "ratio"]
    print(table(headers, rows), file=out)
    builds = ", ".join(f"{k} {v:.1f} s" for k, v in lf.index_s.items())
    print(
        f"{lf.persons:,} persons, {lf.rows:,} rows, {lf.bytes / 2**30:.2f} GiB of COPY text; "
        f"pool {lf.pool_s:.1f} s; hash partitions: {partitions or 'none'}; raw COPY of "
        f"{lf.raw_rows:,} of the rows (every {raw_every} chunk(s)); load phase {lf.wall_s:,.0f} s "
        "(rendering in a thread, beside the COPYs)\n"
        f"of the load's {lf.load_s:,.0f} s, index builds: {builds}\n",
        file=out,
    )
    rows = []
    for kind, name in (
        ("code", "by 住民票コード"),
        ("items", "by the four items"),
        ("my_number", "by 個人番号"),
    ):
        j50, j99 = lat.ms(f"juki {kind}", 0.5), lat.ms(f"juki {kind}", 0.99)
        r50, r99 = lat.ms(f"raw {kind}", 0.5), lat.ms(f"raw {kind}", 0.99)
        found = f"{lat.found[f'juki {kind}']:,} / {lat.found[f'raw {kind}']:,}"
        rates = (lat.rate(f"juki {kind}"), lat.rate(f"raw {kind}"))
        rows.append([name, j50, j99, r50, r99, j50 / r50, *rates, found])
    headers = ["lookup", "juki p50 ms", "juki p99 ms", "raw p50 ms", "raw p99 ms", "p50 ×"]
    headers += ["juki /s", "raw /s", "rows"]
    print(table(headers, rows), file=out)
    print(
        f"{len(lat.seconds['raw code']):,} persons drawn at random, each looked up three ways, "
        "one at a time, juki and raw alternating. Goal: p50 × ≤ 2.\n",
        file=out,
    )
    _report_changes(figures.changes, out)
    print(table(["relation", "MB"], [[k, v / 2**20] for k, v in lf.sizes]), file=out)
    print(f"load average {load_average()} on {os.cpu_count()} cores", file=out)


def _report_changes(writes: Latencies, out: TextIO) -> None:
    rows: list[list[object]] = []
    for kind in ("juki change", "raw change"):
        rows.append([kind, writes.ms(kind, 0.5), writes.ms(kind, 0.99), writes.rate(kind)])
    print(table(["one change, one commit", "p50 ms", "p99 ms", "changes/s"], rows), file=out)
    print(
        "a 転居 applied to a person drawn at random: juki = apply_identity in its own "
        "transaction; raw = a prepared UPDATE + INSERT and commit (synchronous_commit off, "
        "as the test server runs).\n",
        file=out,
    )


def run(
    url: str,
    persons: int,
    n_lookups: int,
    seed: int,
    partitions: int,
    raw_every: int,
    out: TextIO = sys.stdout,
) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)  # not timed: a one-off
        if partitions:
            partition(engine, partitions)
        lf = load(engine, persons, seed, raw_every)
        picked = samples(engine, persons, n_lookups, seed)
        lat = lookups(engine, picked)
        writes = changes(engine, picked, NOW)
    finally:
        engine.dispose()
    report(Figures(lf, lat, writes, partitions, raw_every), out)


def main(
    persons: int,
    n_lookups: int,
    backend: str,
    seed: int = 1,
    partitions: int = 0,
    raw_every: int = 1,
) -> None:
    print(f"\n== national: {persons:,} persons on PostgreSQL (load average {load_average()}) ==")
    if backend == "sqlite":
        print("(the national node's index runs on PostgreSQL only: nothing measured)")
        return
    with backends("postgres", SERVER_SETTINGS) as available:
        if not available:
            print("(no PostgreSQL server: nothing measured)")
            return
        run(available[0].new_url(), persons, n_lookups, seed, partitions, raw_every)
