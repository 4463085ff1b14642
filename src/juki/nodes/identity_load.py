"""The initial load of a node's identity_info by COPY: an empty national index filled at the
speed of the database.

Applying identity_info one message at a time (`identity.apply_identity`) is right for changes as
they come, and far too slow to fill a national index of millions (STACK-NOTES: PostgreSQL COPY
≈ 750 k rows/s, into an indexed table ≈ 110 k rows/s, SQLAlchemy executemany ≈ 60 k). An
initial load therefore writes the same rows `apply_identity` would — the current version into
`identity_copies` (with its kana search key), every version into `identity_changes` (its body
the message body's JSON, so an as-of read parses a loaded change like a received one) — with
`COPY … FROM STDIN`, into tables whose indexes and primary keys are dropped first and built
again at the end ("load first, index after").

A national-size load writes rows already rendered as COPY text (`write_text`, from
`population.national_rows`): no model per person, and the columns that are the same for the
whole load (when, which message) take a default set for the load's transaction only. Index
builds sort in MAINTENANCE_WORK_MEM; a partitioned table's indexes are built on every partition.

All of it is one transaction: DDL is transactional in PostgreSQL, so a load that fails at any
point leaves the tables empty and indexed as they were. It is refused on a node whose tables
already hold identity_info: there, changes arrive as messages (or a repair snapshot).
PostgreSQL only: SQLite nodes are the embedded default for a municipality, not a national index.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any, Final

import psycopg
import sqlalchemy as sa
from psycopg import sql

from juki.core.text import normalize_kana
from juki.network.messages import IdentityInfoBody
from juki.nodes.tables import identity_changes, identity_copies
from juki.population.national import PersonHistory
from juki.population.national_rows import CURRENT_COLUMNS, VERSION_COLUMNS, CopyChunk

# identity_copies' columns as COPY names them: the body's fields first, then those derived.
_DERIVED: Final = ("name_kana_key", "updated_at", "snapshot_id")
_BODY_COLUMNS: Final = tuple(c.name for c in identity_copies.columns if c.name not in _DERIVED)
COPY_COLUMNS: Final = (*_BODY_COLUMNS, *_DERIVED)
CHANGE_COLUMNS: Final = tuple(c.name for c in identity_changes.columns if c.name != "change_id")
_TABLES: Final = (identity_copies.name, identity_changes.name)
# Sorting for the index builds in memory: at 10 M persons the largest index sorts ≈ 600 MB.
MAINTENANCE_WORK_MEM: Final = "1GB"
_body_values: Final = attrgetter(*_BODY_COLUMNS)
# Readings repeat (a national index has far fewer readings than people): normalise each once.
_kana_key: Final = lru_cache(maxsize=1 << 16)(normalize_kana)


class IdentityLoadError(RuntimeError):
    """The load cannot start here: not PostgreSQL, or the index is not empty."""


@dataclass(frozen=True, slots=True)
class IndexDefinition:
    """How to build one index (or primary key) again after the load."""

    table: str
    name: str
    create: str  # CREATE INDEX …, or the constraint's definition (PRIMARY KEY (…))
    constraint: bool

    def drop(self) -> sql.Composed:
        if self.constraint:
            return sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(self.table), sql.Identifier(self.name)
            )
        return sql.SQL("DROP INDEX {}").format(sql.Identifier(self.name))

    def build(self) -> sql.Composed:
        # The definition is PostgreSQL's own text (pg_get_indexdef, pg_get_constraintdef).
        definition = sql.SQL(self.create)
        if self.constraint:
            return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(self.table), sql.Identifier(self.name), definition
            )
        return sql.Composed([definition])


_INDEXES: Final = """
SELECT t.relname, i.relname, pg_get_indexdef(i.oid), con.oid IS NOT NULL,
       pg_get_constraintdef(con.oid)
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
LEFT JOIN pg_constraint AS con ON con.conindid = i.oid AND con.conrelid = t.oid
WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace
ORDER BY t.relname, i.relname
"""


def index_definitions(conn: psycopg.Connection[Any]) -> list[IndexDefinition]:
    """Every index and primary key of identity_copies and identity_changes, as built now."""
    rows = conn.execute(_INDEXES, (list(_TABLES),)).fetchall()
    return [
        IndexDefinition(
            table, name, condef if is_constraint else _on_every_partition(indexdef), is_constraint
        )
        for table, name, indexdef, is_constraint, condef in rows
    ]


def _on_every_partition(indexdef: str) -> str:
    """A partitioned table's index reads `CREATE INDEX … ON ONLY t …` (the parent alone,
    invalid until each partition has its own): built again after a load it must cover them."""
    return indexdef.replace(" ON ONLY ", " ON ", 1)


def copy_row(info: IdentityInfoBody, updated_at: str) -> tuple[Any, ...]:
    """The identity_copies row `apply_identity` writes for `info`, in COPY_COLUMNS order."""
    key = _kana_key(info.family_name_kana + info.given_name_kana)
    return (*_body_values(info), key, updated_at, None)


def change_row(info: IdentityInfoBody, message_id: str, received_at: str) -> tuple[Any, ...]:
    """The identity_changes row `apply_identity` writes for `info`, in CHANGE_COLUMNS order: a
    version in the history, with its reading key and birth date (a lookup by the four items
    `as_of` a day finds who had them then)."""
    return (
        info.lg_code,
        info.resident_code,
        message_id,
        info.model_dump_json(),
        received_at,
        _kana_key(info.family_name_kana + info.given_name_kana),
        info.birth_date,
    )


def copy_statement(table: str, columns: Iterable[str]) -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )


def copy_rows(conn: psycopg.Connection[Any], statement: sql.Composed, rows: Iterable[Any]) -> None:
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


_STAGING: Final = "identity_snapshot_staging"
_UPSERT_STAGED: Final = sql.SQL(
    "INSERT INTO {copies} ({columns}) SELECT {columns} FROM {staging} "
    "ON CONFLICT (lg_code, resident_code) DO UPDATE SET {updates}"
).format(
    copies=sql.Identifier(identity_copies.name),
    staging=sql.Identifier(_STAGING),
    columns=sql.SQL(", ").join(map(sql.Identifier, COPY_COLUMNS)),
    updates=sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
        for c in COPY_COLUMNS
        if c not in ("lg_code", "resident_code")
    ),
)


def copy_snapshot_part(
    conn: sa.Connection,
    entries: Iterable[IdentityInfoBody],
    *,
    message_id: str,
    now: datetime,
    snapshot_id: str,
) -> None:
    """A repair snapshot's part streamed in by COPY, in the caller's transaction: what
    `apply_identity` would write for each entry (their codes are distinct), the history rows
    straight into identity_changes, the copies through a session-local staging table and one
    upsert (COPY cannot replace a row)."""
    at = now.isoformat()
    listed = list(entries)
    raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    copy_rows(
        raw,
        copy_statement(identity_changes.name, CHANGE_COLUMNS),
        (change_row(e, message_id, at) for e in listed),
    )
    raw.execute(
        sql.SQL(
            "CREATE TEMPORARY TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        ).format(sql.Identifier(_STAGING), sql.Identifier(identity_copies.name))
    )
    raw.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(_STAGING)))
    copy_rows(
        raw,
        copy_statement(_STAGING, COPY_COLUMNS),
        ((*copy_row(e, at)[:-1], snapshot_id) for e in listed),
    )
    raw.execute(_UPSERT_STAGED)


@dataclass
class IdentityLoad:
    """An open load: `write` the people (or `write_text` them, rendered by
    `population.national_rows`), chunk by chunk; the context that opened it builds the indexes
    and commits when it ends, or rolls everything back on an error."""

    conn: psycopg.Connection[Any]
    message_id: str
    at: str
    persons: int = 0
    changes: int = 0
    index_seconds: dict[str, float] = field(default_factory=dict)  # each build, as it ran

    def write(self, people: Iterable[PersonHistory]) -> None:
        """COPY one chunk: the current version of each person, then all their versions."""
        chunk = list(people)
        copy_rows(
            self.conn,
            copy_statement(identity_copies.name, COPY_COLUMNS),
            (copy_row(p.current, self.at) for p in chunk),
        )
        changes = [change_row(v, self.message_id, self.at) for p in chunk for v in p.versions]
        copy_rows(self.conn, copy_statement(identity_changes.name, CHANGE_COLUMNS), changes)
        self.persons += len(chunk)
        self.changes += len(changes)

    def write_text(self, chunk: CopyChunk) -> None:
        """COPY one chunk already rendered as COPY text; the load's own columns (when, which
        message) take the defaults the load set for them."""
        copy_text(self.conn, copy_statement(identity_copies.name, CURRENT_COLUMNS), chunk.current)
        copy_text(self.conn, copy_statement(identity_changes.name, VERSION_COLUMNS), chunk.history)
        self.persons += chunk.persons
        self.changes += chunk.versions

    def build(self, indexes: Iterable[IndexDefinition]) -> None:
        for index in indexes:
            start = time.perf_counter()
            self.conn.execute(index.build())
            self.index_seconds[index.name] = time.perf_counter() - start


def copy_text(conn: psycopg.Connection[Any], statement: sql.Composed, text: bytes) -> None:
    """COPY rows already in PostgreSQL's text format."""
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(text)


# While a load runs, the columns that are the same for every row it writes default to it.
_LOAD_DEFAULTS: Final = (
    (identity_copies.name, "updated_at", "at"),
    (identity_changes.name, "message_id", "message_id"),
    (identity_changes.name, "received_at", "at"),
)


def _set_load_defaults(load: IdentityLoad, *, on: bool) -> None:
    for table, column, attribute in _LOAD_DEFAULTS:
        action = (
            sql.SQL("SET DEFAULT {}").format(sql.Literal(getattr(load, attribute)))
            if on
            else sql.SQL("DROP DEFAULT")
        )
        load.conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} {}").format(
                sql.Identifier(table), sql.Identifier(column), action
            )
        )


def _require_empty(conn: psycopg.Connection[Any]) -> None:
    for table in _TABLES:
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        row = conn.execute(query).fetchone()
        if row is not None and row[0]:
            raise IdentityLoadError(
                f"{table} already holds identity_info: an initial load fills an empty index "
                "only (changes arrive as messages, divergence is repaired by a snapshot)"
            )


@contextmanager
def identity_load(engine: sa.Engine, *, now: datetime) -> Iterator[IdentityLoad]:
    """Open an initial load on `engine`'s (empty, migrated) PostgreSQL database."""
    if engine.dialect.name != "postgresql":
        raise IdentityLoadError(
            "the initial load uses PostgreSQL's COPY; this node's database is "
            f"{engine.dialect.name}"
        )
    raw = engine.raw_connection()
    try:
        conn: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
        conn.rollback()
        try:
            _require_empty(conn)
            indexes = index_definitions(conn)
            for index in sorted(indexes, key=lambda i: not i.constraint):
                conn.execute(index.drop())
            conn.execute(
                sql.SQL("SET LOCAL maintenance_work_mem = {}").format(
                    sql.Literal(MAINTENANCE_WORK_MEM)
                )
            )
            load = IdentityLoad(conn, str(uuid.uuid4()), now.isoformat())
            _set_load_defaults(load, on=True)
            yield load
            _set_load_defaults(load, on=False)
            load.build(indexes)
            for table in _TABLES:
                conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    finally:
        raw.close()
