"""Provision at the national node with a national-size index, next to plain SQL (issue 13).

`python -m bench provision [--persons 1000000] [--batch 10000]`, on a throwaway PostgreSQL server:

1. **Load**: N synthetic persons' identity_info (`juki.population.national`) into the national
   node's `identity_copies` and `identity_changes` through the initial load
   (`juki.nodes.identity_load`: COPY into tables without indexes, indexes built after, one
   transaction), chunk by chunk; each chunk's same rows are also COPYed into bare tables (no
   index, no key) in the same run: the raw limit. Generation (Python) is timed apart.
2. **Lookups**: `--batch` persons drawn at random, looked up as one batch by 住民票コード and
   one by the four items (reading + birth date + sex + address), two rounds, alternating:
   - **juki**: the agency's JSONL lines through `juki.provision.requests.parse_lines` and
     `juki.nodes.provide.provide_batch` (the agency and task judged by the register, the items
     filtered, one `provision_records` row per lookup, one oplog entry per batch, one
     transaction), and each answer written back as a JSON line;
   - **raw**: the same lookups in plain SQL, one prepared SELECT each on the same indexes
     (by code; by kana key + birth date + sex + address prefix, active only), one transaction
     per batch — the database's limit for these lookups.
   The goal (issue 13): juki at least half of raw.

Figures on stdout, progress on stderr.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, Final, TextIO

import psycopg
import sqlalchemy as sa
from psycopg import sql

from bench.common import backends, load_average, psycopg_connection, table
from juki.core.clock import JST, FixedClock
from juki.nodes.identity_load import (
    CHANGE_COLUMNS,
    COPY_COLUMNS,
    change_row,
    copy_row,
    copy_rows,
    copy_statement,
    identity_load,
)
from juki.nodes.provide import SqlProvideUnitOfWork, provide_batch
from juki.nodes.provision_register import shipped_register
from juki.population.national import PersonHistory, national_population
from juki.provision import services
from juki.provision.commands import AddAgency, LoadTasks
from juki.provision.register_file import parse_register
from juki.provision.requests import parse_lines
from juki.provision.tables import provision_records
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade

NOW: Final = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
CHUNK: Final = 10_000
ROUNDS: Final = 2
OPERATOR: Final = Actor("bench-national", Role.NATIONAL_OPERATOR, "bench")
# 日本年金機構's 年金給付: a 個人番号利用事務 allowed every item, so the answers are full-size.
AGENCY, TASK, PURPOSE = "nenkin", "別表第一 の 九十一", "年金給付 (bench)"
RAW_COPIES: Final = "bench_raw_copies"
RAW_CHANGES: Final = "bench_raw_changes"
# What a lookup returns: identity_info and its change information, as the national node keeps it.
ANSWER: Final = (
    "lg_code, resident_code, my_number, family_name, given_name, family_name_kana, "
    "given_name_kana, former_surname, former_surname_kana, alias_name, alias_name_kana, "
    "birth_date, sex, address, status, change_reason, changed_on"
)
BY_CODE: Final = f"SELECT {ANSWER} FROM identity_copies WHERE resident_code = %s"
BY_ITEMS: Final = (
    f"SELECT {ANSWER} FROM identity_copies WHERE name_kana_key = %s AND birth_date = %s "
    "AND status = 'active' AND sex = %s AND address LIKE %s ORDER BY lg_code, resident_code "
    "LIMIT 20"
)


@dataclass
class LoadFigures:
    persons: int = 0
    rows: int = 0  # identity_copies + identity_changes rows
    generate_s: float = 0.0
    load_s: float = 0.0  # juki's loader: rows built, COPY, indexes built, ANALYZE
    index_s: float = 0.0  # of which: indexes and ANALYZE
    raw_s: float = 0.0  # bare COPY of the same rows
    database_mb: float = 0.0


@dataclass(frozen=True, slots=True)
class Sample:
    """One person to look up, as an agency's request would name them."""

    resident_code: str
    kana: str  # the reading as written (カナ with a space), not the search key
    kana_key: str
    birth_date: Any
    sex: str
    address: str


@dataclass
class LookupFigures:
    lookups: int = 0
    found: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def rate(self, what: str) -> float:
        return ROUNDS * self.lookups / self.seconds[what]

    def add(self, what: str, seconds: float, found: int) -> None:
        self.seconds[what] = self.seconds.get(what, 0.0) + seconds
        self.found[what] = found


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _chunks(people: Iterator[PersonHistory], figures: LoadFigures) -> Iterator[list[PersonHistory]]:
    while True:
        start = time.perf_counter()
        chunk = list(islice(people, CHUNK))
        figures.generate_s += time.perf_counter() - start
        if not chunk:
            return
        yield chunk


def _raw_tables(raw: psycopg.Connection[Any]) -> None:
    for name, source, columns in (
        (RAW_COPIES, "identity_copies", COPY_COLUMNS),
        (RAW_CHANGES, "identity_changes", CHANGE_COLUMNS),
    ):
        raw.execute(
            sql.SQL("CREATE TABLE {} AS SELECT {} FROM {} WITH NO DATA").format(
                sql.Identifier(name),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.Identifier(source),
            )
        )
    raw.commit()


def _raw_copy(raw: psycopg.Connection[Any], chunk: list[PersonHistory]) -> float:
    """The same rows the loader wrote for `chunk`, COPYed into the bare tables: seconds."""
    at = NOW.isoformat()
    copies = [copy_row(p.current, at) for p in chunk]
    changes = [change_row(v, "raw", at) for p in chunk for v in p.versions]
    start = time.perf_counter()
    copy_rows(raw, copy_statement(RAW_COPIES, COPY_COLUMNS), copies)
    copy_rows(raw, copy_statement(RAW_CHANGES, CHANGE_COLUMNS), changes)
    raw.commit()
    return time.perf_counter() - start


def load(engine: sa.Engine, persons: int, seed: int) -> LoadFigures:
    """Fill the national index through juki's loader, timing the raw COPY beside it."""
    figures = LoadFigures()
    people = national_population(persons, seed=seed, today=NOW.date())
    raw_conn = engine.raw_connection()
    try:
        raw = psycopg_connection(raw_conn)
        try:
            _raw_tables(raw)
            with identity_load(engine, now=NOW) as loader:
                for chunk in _chunks(people, figures):
                    start = time.perf_counter()
                    loader.write(chunk)
                    figures.load_s += time.perf_counter() - start
                    figures.raw_s += _raw_copy(raw, chunk)
                    _progress(f"{loader.persons:,}/{persons:,} persons loaded")
                figures.persons, figures.rows = loader.persons, loader.persons + loader.changes
                index_start = time.perf_counter()
            figures.index_s = time.perf_counter() - index_start
            figures.load_s += figures.index_s
        finally:
            _drop_raw_tables(raw)
    finally:
        raw_conn.close()
    with engine.connect() as conn:
        size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
    figures.database_mb = size / 2**20
    return figures


def _drop_raw_tables(raw: psycopg.Connection[Any]) -> None:
    raw.rollback()
    for name in (RAW_COPIES, RAW_CHANGES):
        raw.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
    raw.commit()


def samples(engine: sa.Engine, n: int, seed: int) -> list[Sample]:
    """`n` loaded persons drawn at random (repeatably for a seed), as requests would name them."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT setseed(%(s)s)", {"s": (seed % 1000) / 1000})
        rows = conn.exec_driver_sql(
            "SELECT resident_code, family_name_kana, given_name_kana, name_kana_key, birth_date, "
            "sex, address FROM identity_copies ORDER BY random() LIMIT %(n)s",
            {"n": n},
        ).all()
    return [Sample(r[0], f"{r[1]}\u3000{r[2]}", r[3], r[4], r[5], r[6]) for r in rows]


def register(engine: sa.Engine) -> None:
    """The shipped register of agencies and tasks, as `juki network init --demo` loads it
    (the bench authenticates no one: the agency's credential is a stand-in fingerprint)."""
    uow = SqlProvideUnitOfWork(engine, clock=FixedClock(NOW))
    shipped = parse_register(shipped_register())
    for i, entry in enumerate(shipped.agencies):
        cmd = AddAgency(entry.agency_id, entry.name, entry.kind, f"{i + 1:064x}")
        services.add_agency(uow, OPERATOR, cmd)
    services.load_tasks(uow, OPERATOR, LoadTasks(shipped.tasks))


def request_lines(picked: list[Sample]) -> dict[str, list[str]]:
    """The agency's batches, as JSONL lines: by 住民票コード, and by the four items."""
    return {
        "code": [json.dumps({"resident_code": s.resident_code}) for s in picked],
        "items": [
            json.dumps(
                {
                    "name_kana": s.kana,
                    "birth_date": s.birth_date.isoformat(),
                    "sex": s.sex,
                    "address": s.address,
                },
                ensure_ascii=False,
            )
            for s in picked
        ],
    }


def juki_batch(engine: sa.Engine, lines: list[str]) -> tuple[float, int]:
    """One batch through juki, from the agency's lines to its answer lines: seconds, provided."""
    start = time.perf_counter()
    good, bad = parse_lines(lines)
    result = provide_batch(
        engine, AGENCY, TASK, PURPOSE, good, clock=FixedClock(NOW), bad_lines=len(bad)
    )
    answer = [json.dumps(a.as_json(), ensure_ascii=False) for a in result.answers]
    seconds = time.perf_counter() - start
    if bad or len(answer) != len(lines):
        raise RuntimeError(f"bench batch: {len(bad)} bad lines, {len(answer)} answers")
    return seconds, result.counts()["provided"]


def raw_batch(
    conn: psycopg.Connection[Any], query: str, params: list[tuple[Any, ...]]
) -> tuple[float, int]:
    """One batch in plain SQL: a prepared SELECT per lookup, one transaction: seconds, rows."""
    found = 0
    start = time.perf_counter()
    with conn.cursor() as cur:
        for p in params:
            cur.execute(query, p, prepare=True)
            found += len(cur.fetchall())
    conn.commit()
    return time.perf_counter() - start, found


def lookups(engine: sa.Engine, picked: list[Sample]) -> LookupFigures:
    """Both kinds of batch through juki and in plain SQL, alternating, after a warm-up."""
    figures = LookupFigures(lookups=len(picked))
    lines = request_lines(picked)
    raw_params: dict[str, tuple[str, list[tuple[Any, ...]]]] = {
        "code": (BY_CODE, [(s.resident_code,) for s in picked]),
        "items": (BY_ITEMS, [(s.kana_key, s.birth_date, s.sex, s.address + "%") for s in picked]),
    }
    raw_conn = engine.raw_connection()
    try:
        conn = psycopg_connection(raw_conn)
        for query, params in raw_params.values():  # warm-up: the rows into the cache
            raw_batch(conn, query, params)
        for round_ in range(ROUNDS):
            for kind, (query, params) in raw_params.items():
                figures.add(f"raw {kind}", *raw_batch(conn, query, params))
                figures.add(f"juki {kind}", *juki_batch(engine, lines[kind]))
            _progress(f"lookups: round {round_ + 1}/{ROUNDS}")
    finally:
        raw_conn.close()
    return figures


def recorded(engine: sa.Engine) -> tuple[int, int]:
    """provision_records rows and provision oplog entries written by the run."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(provision_records))
        entries = conn.execute(
            sa.select(sa.func.count())
            .select_from(oplog)
            .where(oplog.c.action == "provide_identity_info")
        )
        return rows.scalar_one(), entries.scalar_one()


def report(lf: LoadFigures, figures: LookupFigures, recorded: tuple[int, int], out: TextIO) -> None:
    load_rows = lf.rows / lf.load_s
    raw_rows = lf.rows / lf.raw_s
    print(
        table(
            ["load", "persons/s", "rows/s", "raw COPY rows/s", "ratio"],
            [
                ["generation (Python)", lf.persons / lf.generate_s, "", "", ""],
                [
                    "juki initial load",
                    lf.persons / lf.load_s,
                    load_rows,
                    raw_rows,
                    load_rows / raw_rows,
                ],
            ],
        ),
        file=out,
    )
    print(
        f"{lf.persons:,} persons, {lf.rows:,} rows (identity_copies + identity_changes); "
        f"indexes + ANALYZE {lf.index_s:.1f} s of the load; database {lf.database_mb:,.0f} MB\n",
        file=out,
    )
    rows = []
    for kind, key in (("by resident code", "code"), ("by the four items", "items")):
        juki, raw = figures.rate(f"juki {key}"), figures.rate(f"raw {key}")
        rows.append(
            [kind, juki, raw, juki / raw, figures.found[f"juki {key}"], figures.found[f"raw {key}"]]
        )
    headers = [
        "batch lookup",
        "juki lookups/s",
        "raw SQL lookups/s",
        "ratio",
        "provided",
        "raw rows",
    ]
    print(table(headers, rows), file=out)
    print(
        f"{figures.lookups:,} lookups a batch, persons drawn at random, {ROUNDS} rounds "
        "alternating juki and raw after a warm-up;\njuki = JSONL lines parsed, judged, answered "
        "with the allowed items, recorded and logged, answers as JSONL;\nraw = a prepared "
        "SELECT per lookup, one transaction per batch, on the same indexes. Goal: ratio ≥ 0.5."
        f"\nprovision_records rows {recorded[0]:,} for {2 * ROUNDS * figures.lookups:,} lookups; "
        f"oplog entries {recorded[1]:,} for {2 * ROUNDS} batches. load average "
        f"{load_average()}",
        file=out,
    )


def run(url: str, persons: int, batch: int, seed: int, out: TextIO = sys.stdout) -> None:
    """The whole benchmark on the (empty) database at `url`."""
    engine = make_engine(url)
    try:
        upgrade(engine)  # not timed: a one-off
        register(engine)
        lf = load(engine, persons, seed)
        figures = lookups(engine, samples(engine, batch, seed))
        written = recorded(engine)
    finally:
        engine.dispose()
    report(lf, figures, written, out)


def main(persons: int, batch: int, seed: int = 1) -> None:
    print(f"\n== provision: national node, {persons:,} persons, batches of {batch:,} ==")
    with backends("postgres") as available:
        if not available:
            print("(no PostgreSQL server: nothing measured)")
            return
        run(available[0].new_url(), persons, batch, seed)
