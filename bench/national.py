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
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TextIO

import numpy as np
import psycopg
import sqlalchemy as sa
from psycopg import sql

from bench.common import backends, table
from bench.national_schema import partition, sizes
from juki.core.clock import JST
from juki.nodes.identity_load import copy_statement, copy_text, identity_load
from juki.nodes.provide import SqlIdentitySource
from juki.nodes.tables import identity_copies
from juki.population.national import FIRST_BODY, national_pool
from juki.population.national_rows import CURRENT_COLUMNS, VERSION_COLUMNS, CopyChunk, copy_chunks
from juki.population.synthetic.my_numbers import mod11_check_digits
from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade

NOW: Final = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
# A national node's server on a 2-core, 23 GiB machine shared with other work: a tenth of the
# memory for shared buffers, checkpoints spaced so that a load does not checkpoint every
# gigabyte. fsync and full-page writes stay off as on the test server (both sides of each
# ratio run with them off).
SERVER_SETTINGS: Final = {
    "shared_buffers": "2GB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "30min",
    "effective_cache_size": "12GB",
}
RAW: Final = {"identity_copies": "bench_raw_copies", "identity_changes": "bench_raw_changes"}
BY_CODE: Final = "SELECT * FROM identity_copies WHERE resident_code = %s"
BY_ITEMS: Final = (
    "SELECT * FROM identity_copies WHERE name_kana_key = %s AND birth_date = %s "
    "AND status = 'active'"
)
BY_NUMBER: Final = "SELECT my_number FROM identity_copies WHERE my_number = %s LIMIT 1"


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
    raw_s: float = 0.0  # bare COPY of the same bytes
    sizes: list[tuple[str, int]] = field(default_factory=list)


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _timed_chunks(chunks: Iterator[CopyChunk], figures: LoadFigures) -> Iterator[CopyChunk]:
    while True:
        wall, cpu = time.perf_counter(), time.process_time()
        chunk = next(chunks, None)
        figures.generate_s += time.perf_counter() - wall
        figures.generate_cpu_s += time.process_time() - cpu
        if chunk is None:
            return
        yield chunk


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


def load(engine: sa.Engine, persons: int, seed: int) -> LoadFigures:
    """Fill the national index through juki's loader, timing the raw COPY beside it."""
    figures = LoadFigures()
    start = time.perf_counter()
    pool = national_pool(persons, seed=seed, today=NOW.date())
    figures.pool_s = time.perf_counter() - start
    chunks = copy_chunks(pool, persons, seed=seed, today=NOW.date())
    raw_conn = engine.raw_connection()
    try:
        raw: psycopg.Connection[Any] = raw_conn.driver_connection  # type: ignore[assignment]
        _raw_tables(raw)
        raw.commit()  # its locks released: the load drops and builds indexes
        load_start = time.perf_counter()
        with identity_load(engine, now=NOW) as loader:
            for chunk in _timed_chunks(chunks, figures):
                start = time.perf_counter()
                loader.write_text(chunk)
                figures.load_s += time.perf_counter() - start
                figures.raw_s += _raw_copy(raw, chunk)
                figures.bytes += len(chunk.current) + len(chunk.history)
                if loader.persons % 1_000_000 < chunk.persons:
                    _progress(f"{loader.persons:,}/{persons:,} persons loaded ({_load_average()})")
            figures.persons, figures.rows = loader.persons, loader.persons + loader.changes
            index_start = time.perf_counter()
        figures.load_s += time.perf_counter() - index_start
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
class Latencies:
    """Seconds per lookup, by kind: juki and raw."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, seconds: float, found: int) -> None:
        self.seconds.setdefault(kind, []).append(seconds)
        self.found[kind] = self.found.get(kind, 0) + found

    def ms(self, kind: str, q: float) -> float:
        return float(np.quantile(self.seconds[kind], q)) * 1000


def _samples(engine: sa.Engine, persons: int, n: int, seed: int) -> list[tuple[Any, ...]]:
    """`n` loaded persons drawn at random: code, reading key, birth date, my_number."""
    rng = np.random.default_rng(seed)
    bodies = FIRST_BODY + rng.choice(persons, size=min(n, persons), replace=False)
    codes = [f"{c:011d}" for c in (bodies * 10 + mod11_check_digits(bodies)).tolist()]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT resident_code, name_kana_key, birth_date, my_number FROM identity_copies "
            "WHERE resident_code = ANY(%(codes)s)",
            {"codes": codes},
        ).all()
    return [tuple(r) for r in rows]


Lookup = Callable[[tuple[Any, ...]], int]


def _ways(conn: sa.Connection, cur: psycopg.Cursor[Any]) -> dict[str, tuple[Lookup, Lookup]]:
    """Each kind of lookup as juki makes it and as a raw prepared SELECT: rows found."""
    source = SqlIdentitySource(conn)
    number_query = sa.select(identity_copies.c.my_number).where(
        identity_copies.c.my_number == sa.bindparam("n")
    )

    def prepared(query: str) -> Lookup:
        def run(params: tuple[Any, ...]) -> int:
            cur.execute(query, params, prepare=True)
            return len(cur.fetchall())

        return run

    def by_code(p: tuple[Any, ...]) -> int:
        return len(source.by_codes([p[0]]).get(p[0], []))

    def by_items(p: tuple[Any, ...]) -> int:
        return len(source.by_reading([(p[1], p[2])]).get((p[1], p[2]), []))

    def by_number(p: tuple[Any, ...]) -> int:
        return int(conn.execute(number_query, {"n": p[3]}).first() is not None)

    code, items, number = prepared(BY_CODE), prepared(BY_ITEMS), prepared(BY_NUMBER)
    return {
        "code": (by_code, lambda p: code((p[0],))),
        "items": (by_items, lambda p: items((p[1], p[2]))),
        "my_number": (by_number, lambda p: number((p[3],))),
    }


def lookups(engine: sa.Engine, picked: list[tuple[Any, ...]]) -> Latencies:
    """Each person looked up three ways, raw and juki alternating, one connection each."""
    out = Latencies()
    raw_conn = engine.raw_connection()
    try:
        raw: psycopg.Connection[Any] = raw_conn.driver_connection  # type: ignore[assignment]
        with engine.connect() as conn, raw.cursor() as cur:
            ways = _ways(conn, cur)
            for i, person in enumerate(picked):
                for kind, (juki, plain) in ways.items():
                    for name, way in ((f"raw {kind}", plain), (f"juki {kind}", juki)):
                        start = time.perf_counter()
                        found = way(person)
                        out.add(name, time.perf_counter() - start, found)
                if i % 1000 == 999:
                    _progress(f"lookups: {i + 1:,}/{len(picked):,}")
            conn.rollback()
        raw.rollback()
    finally:
        raw_conn.close()
    return out


def report(lf: LoadFigures, lat: Latencies, partitions: int, out: TextIO) -> None:
    load_rows, raw_rows = lf.rows / lf.load_s, lf.rows / lf.raw_s
    generation = lf.persons / lf.generate_s
    ratio = load_rows / raw_rows
    both = lf.persons / (lf.load_s + lf.generate_s)
    rows: list[list[object]] = [
        ["generation, wall", generation, "", lf.bytes / lf.generate_s / 2**20, "", ""],
        ["generation, CPU", lf.persons / lf.generate_cpu_s, "", "", "", ""],
        ["juki initial load", lf.persons / lf.load_s, load_rows, "", raw_rows, ratio],
        ["generation + load, in turn", both, "", "", "", ""],
    ]
    headers = ["load", "persons/s", "rows/s", "MB/s", "raw COPY rows/s", "ratio"]
    print(table(headers, rows), file=out)
    builds = ", ".join(f"{k} {v:.1f} s" for k, v in lf.index_s.items())
    print(
        f"{lf.persons:,} persons, {lf.rows:,} rows, {lf.bytes / 2**30:.2f} GiB of COPY text; "
        f"pool {lf.pool_s:.1f} s; hash partitions: {partitions or 'none'}\n"
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
        rows.append([name, j50, j99, r50, r99, j50 / r50, found])
    headers = ["lookup", "juki p50 ms", "juki p99 ms", "raw p50 ms", "raw p99 ms", "p50 ×", "rows"]
    print(table(headers, rows), file=out)
    print(
        f"{len(lat.seconds['raw code']):,} persons drawn at random, each looked up three ways, "
        "one at a time, juki and raw alternating. Goal: p50 × ≤ 2.\n",
        file=out,
    )
    print(table(["relation", "MB"], [[k, v / 2**20] for k, v in lf.sizes]), file=out)
    print(f"load average {_load_average()} on {os.cpu_count()} cores", file=out)


def run(url: str, persons: int, n_lookups: int, seed: int, partitions: int) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)  # not timed: a one-off
        if partitions:
            partition(engine, partitions)
        lf = load(engine, persons, seed)
        lat = lookups(engine, _samples(engine, persons, n_lookups, seed))
    finally:
        engine.dispose()
    report(lf, lat, partitions, sys.stdout)


def main(persons: int, n_lookups: int, backend: str, seed: int = 1, partitions: int = 0) -> None:
    print(f"\n== national: {persons:,} persons on PostgreSQL (load average {_load_average()}) ==")
    if backend == "sqlite":
        print("(the national node's index runs on PostgreSQL only: nothing measured)")
        return
    with backends("postgres", SERVER_SETTINGS) as available:
        if not available:
            print("(no PostgreSQL server: nothing measured)")
            return
        run(available[0].new_url(), persons, n_lookups, seed, partitions)
