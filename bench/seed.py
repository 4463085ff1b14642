"""Seeding throughput: `seed_registry` next to raw inserts of the same rows, same database.

For each backend: residents generated per second (pure Python, no database), juki's seeding
rate in rows/s (households + records + first changes + outbox messages) and residents/s, and the
raw rate of the same resident rows into a table with the same columns: stdlib `executemany` on
SQLite, `COPY … FROM STDIN` on PostgreSQL, once without indexes (the ceiling) and once with the
same indexes as `resident_records` (what the real table costs).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from psycopg import sql

from bench.common import Backend, backends, psycopg_connection, sqlite_connection, table, timed
from juki.core.clock import JST, FixedClock
from juki.population.addresses import municipality_from_lg_code, town_areas
from juki.population.bulk import RECORD_COLUMNS
from juki.population.seeding import seed_registry
from juki.population.synthetic import generate_population
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade

CLOCK = FixedClock(datetime(2025, 4, 1, 10, 0, tzinfo=JST))
LOADER = Actor("bench", Role.OPERATIONS_MANAGER, "bench")
CHUNK = 5000


def _chunks(rows: list[Any], size: int = CHUNK) -> list[list[Any]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _raw_sqlite(engine: sa.Engine, rows: list[Any], indexed: bool) -> float:
    """stdlib executemany into a copy of resident_records, CHUNK rows a transaction."""
    name = "raw_idx" if indexed else "raw_plain"
    raw = engine.raw_connection()
    try:
        conn = sqlite_connection(raw)
        conn.execute(f"CREATE TABLE {name} AS SELECT * FROM resident_records WHERE 0")
        if indexed:
            ddl = conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'resident_records' AND sql IS NOT NULL"
            ).fetchall()
            for (statement,) in ddl:
                statement = statement.replace("resident_records", name)
                conn.execute(re.sub(r"INDEX (\w+)", lambda m: f"INDEX {m[1]}_{name}", statement))
            conn.execute(f"CREATE UNIQUE INDEX pk_{name} ON {name} (record_id)")
        cols = ", ".join(RECORD_COLUMNS)
        insert = f"INSERT INTO {name} ({cols}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"

        def load() -> None:
            for part in _chunks(rows):
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(insert, part)
                conn.execute("COMMIT")

        seconds, _ = timed(load)
    finally:
        raw.close()
    return len(rows) / seconds


def _raw_postgres(engine: sa.Engine, rows: list[Any], indexed: bool) -> float:
    """COPY into a copy of resident_records, CHUNK rows a transaction."""
    name = "raw_idx" if indexed else "raw_plain"
    raw = engine.raw_connection()
    try:
        conn = psycopg_connection(raw)
        including = "INCLUDING ALL" if indexed else "INCLUDING DEFAULTS"
        conn.execute(f"CREATE TABLE {name} (LIKE resident_records {including})")
        conn.commit()
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, RECORD_COLUMNS))
        )

        def load() -> None:
            for part in _chunks(rows):
                with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                    for row in part:
                        copy.write_row(row)
                conn.commit()

        seconds, _ = timed(load)
    finally:
        raw.close()
    return len(rows) / seconds


def run_backend(backend: Backend, residents: int, lg_code: str, seed: int) -> list[object]:
    engine = make_engine(backend.new_url())
    try:
        upgrade(engine)  # not timed: a one-off
        seconds, result = timed(
            lambda: seed_registry(
                engine, lg_code=lg_code, residents=residents, seed=seed, by=LOADER, clock=CLOCK
            )
        )
        rows_written = result.households + 3 * result.residents
        with engine.connect() as conn:
            cols = ", ".join(RECORD_COLUMNS)
            rows = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {cols} FROM resident_records")]
        raw = _raw_sqlite if backend.name == "sqlite" else _raw_postgres
        plain = raw(engine, rows, indexed=False)
        indexed = raw(engine, rows, indexed=True)
    finally:
        engine.dispose()
    juki_rows = rows_written / seconds
    return [
        backend.name,
        juki_rows,
        result.residents / seconds,
        plain,
        indexed,
        juki_rows / plain,
        juki_rows / indexed,
    ]


def main(residents: int, backend: str, lg_code: str = "132250", seed: int = 1) -> None:
    m = municipality_from_lg_code(lg_code)
    towns = town_areas(lg_code)
    gen_seconds, _ = timed(
        lambda: sum(
            1
            for _ in generate_population(
                m,
                towns,
                residents,
                seed=seed,
                today=CLOCK.today(),
                resident_code_bodies=range(10**9, 10**9 + residents),
            )
        )
    )
    print(f"\n== seed: {residents:,} residents of {m.prefecture}{m.name} ({lg_code}) ==")
    print(
        f"generation alone (pure Python, no database): {residents / gen_seconds:,.0f} residents/s"
    )
    out = []
    with backends(backend) as available:
        for b in available:
            out.append(run_backend(b, residents, lg_code, seed))
    print(
        table(
            [
                "backend",
                "juki rows/s",
                "juki residents/s",
                "raw rows/s",
                "raw+idx rows/s",
                "ratio",
                "ratio idx",
            ],
            out,
        )
    )
    print(
        "juki rows = households + records + first changes + outbox messages; raw = the same "
        "resident rows\ninto a table with the same columns (executemany on SQLite, COPY on "
        "PostgreSQL), without and with\nresident_records' indexes; ratio = juki rows/s ÷ raw "
        "rows/s. The PostgreSQL server is a throwaway one\n(fsync=off)."
    )
