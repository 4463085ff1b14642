"""Fast loading of a generated population: raw DBAPI batches, one transaction per chunk.

Seeding a city of a million goes through the same tables as the services but not through
SQLAlchemy's per-row machinery, which costs 3–12× (STACK-NOTES: SQLite stdlib `executemany`
≈ 610 k rows/s vs SQLAlchemy ≈ 166 k; PostgreSQL COPY ≈ 750 k vs executemany ≈ 60 k). The rows
are exactly what `SqlRegistry.add_record` and `SqlOutbox.put` would write: the projection (with
its kana search key, version 1), the first change (seq 1), and one identity_info message per
resident in the outbox, so the network issue sends what it would have sent one by one.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import typing
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from operator import attrgetter, itemgetter
from typing import Any, Final, cast

import psycopg
import sqlalchemy as sa
from psycopg import sql

from juki.population.synthetic import SyntheticHousehold
from juki.registry.alias import history_to_json
from juki.registry.events import identity_info_changed
from juki.registry.model import ALIAS_HISTORY, RecordChange, ResidentRecord
from juki.registry.store.journal import outbox_row
from juki.registry.store.records import change_row, household_row, name_kana_key
from juki.registry.tables import households, outbox, record_changes, resident_records
from juki.storage.watch import NOTIFY_SQL


@dataclass(frozen=True, slots=True)
class LoadResult:
    households: int
    residents: int
    foreign_residents: int

    @property
    def rows(self) -> int:
        """Rows written: households, and per resident its record, first change and message."""
        return self.households + 3 * self.residents


def _columns(table: sa.Table) -> tuple[str, ...]:
    """The columns we fill: all but the autoincrement surrogate keys."""
    return tuple(c.name for c in table.columns if not (c.primary_key and c.autoincrement is True))


HOUSEHOLD_COLUMNS: Final = _columns(households)
RECORD_COLUMNS: Final = _columns(resident_records)
CHANGE_COLUMNS: Final = _columns(record_changes)
OUTBOX_COLUMNS: Final = _columns(outbox)
_TABLES: Final = (
    (households, HOUSEHOLD_COLUMNS),
    (resident_records, RECORD_COLUMNS),
    (record_changes, CHANGE_COLUMNS),
    (outbox, OUTBOX_COLUMNS),
)


# The record's fields in dataclass order, and where dates and enums sit among them.
_FIELD_NAMES: Final = tuple(f.name for f in dataclasses.fields(ResidentRecord))
_FIELD_VALUES: Final = attrgetter(*_FIELD_NAMES)


def _is_enum_field(hint: Any) -> bool:
    kinds = typing.get_args(hint) or (hint,)
    return any(isinstance(k, type) and issubclass(k, StrEnum) for k in kinds)


_ENUMS: Final = frozenset(
    name for name, hint in typing.get_type_hints(ResidentRecord).items() if _is_enum_field(hint)
)
_DATE_AT: Final = tuple(
    i for i, f in enumerate(_FIELD_NAMES) if isinstance(resident_records.c[f].type, sa.Date)
)
_ENUM_AT: Final = tuple(i for i, f in enumerate(_FIELD_NAMES) if f in _ENUMS)
# 通称履歴: a list in the change's JSON, JSON text (or NULL when empty) in the projection row.
_ALIAS_AT: Final = _FIELD_NAMES.index(ALIAS_HISTORY)


def _record_row_source(column: str) -> int:
    """Where a projection column comes from in [*encoded fields, name_kana_key, version]."""
    extra = {"name_kana_key": len(_FIELD_NAMES), "version": len(_FIELD_NAMES) + 1}
    if column in extra:
        return extra[column]
    if column not in _FIELD_NAMES:
        raise RuntimeError(f"resident_records.{column} is neither a record field nor derived")
    return _FIELD_NAMES.index(column)


_RECORD_ROW: Final = itemgetter(*(_record_row_source(c) for c in RECORD_COLUMNS))
# The change's JSON fields in sorted key order, as `change_row` writes them (sort_keys=True).
_SORTED_NAMES: Final = tuple(sorted(_FIELD_NAMES))
_SORTED_VALUES: Final = itemgetter(*(_FIELD_NAMES.index(n) for n in _SORTED_NAMES))


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(slots=True)
class _Chunk:
    """One transaction's rows, as tuples in each table's column order.

    Dates are ISO text, as SQLAlchemy stores them in SQLite and as COPY's text format reads
    them, so one row serves both backends.
    """

    rows: tuple[list[tuple[Any, ...]], ...] = field(default_factory=lambda: ([], [], [], []))
    households: int = 0
    residents: int = 0
    foreign: int = 0


class _RowBuilder:
    """The rows `SqlRegistry.add_record` and `SqlOutbox.put` would write, built without dicts.

    A first change normally carries every field of its record (`initial_fields`); its JSON is
    then encoded from the record's values once. Any other change goes through `change_row`.
    """

    def __init__(self, actor_id: str, now: datetime, message_ids: Callable[[], str]) -> None:
        self.actor_id = actor_id
        self.now = now
        self.created_at = now.isoformat()
        self.message_ids = message_ids

    def _change(
        self,
        record: ResidentRecord,
        change: RecordChange,
        values: tuple[Any, ...],
        encoded: list[Any],
    ) -> tuple[Any, ...]:
        row: dict[str, Any]
        if dict(zip(_FIELD_NAMES, values, strict=True)) == change.fields:
            fields = dict(zip(_SORTED_NAMES, _SORTED_VALUES(encoded), strict=True))
            row = {
                "record_id": record.record_id,
                "seq": 1,
                "reason": change.reason.value,
                "effective_on": change.effective_on,
                "notified_on": change.notified_on,
                "fields": json.dumps(fields, ensure_ascii=False),
                "note": change.note,
                "actor_id": self.actor_id,
                "recorded_at": self.created_at,
                "approved_by": None,
            }
        else:
            row = change_row(record.record_id, 1, change, self.actor_id, self.now)
        row["effective_on"] = _iso(row["effective_on"])
        row["notified_on"] = _iso(row["notified_on"])
        return tuple(row[c] for c in CHANGE_COLUMNS)

    def add(self, chunk: _Chunk, hh: SyntheticHousehold) -> None:
        h_rows, r_rows, c_rows, o_rows = chunk.rows
        h = household_row(hh.household)
        h["formed_on"], h["dissolved_on"] = _iso(h["formed_on"]), _iso(h["dissolved_on"])
        h_rows.append(tuple(h[c] for c in HOUSEHOLD_COLUMNS))
        for record, change in hh.members:
            values: tuple[Any, ...] = _FIELD_VALUES(record)
            encoded = list(values)
            for i in _DATE_AT:
                if encoded[i] is not None:
                    encoded[i] = encoded[i].isoformat()
            for i in _ENUM_AT:
                if encoded[i] is not None:
                    encoded[i] = encoded[i].value
            history = history_to_json(record.alias_history)
            encoded[_ALIAS_AT] = history
            c_rows.append(self._change(record, change, values, encoded))
            encoded[_ALIAS_AT] = json.dumps(history, ensure_ascii=False) if history else None
            encoded.append(name_kana_key(record.family_name_kana, record.given_name_kana))
            encoded.append(1)  # version
            r_rows.append(_RECORD_ROW(encoded))
            event = identity_info_changed(record, change)
            message = outbox_row(self.message_ids(), event, record.resident_code, self.now)
            message["delivered_at"] = None
            o_rows.append(tuple(message[c] for c in OUTBOX_COLUMNS))
            chunk.foreign += record.is_foreign
        chunk.households += 1
        chunk.residents += len(hh.members)


class _SqliteWriter:
    """stdlib sqlite3 `executemany`, in BEGIN IMMEDIATE … COMMIT of our own.

    make_engine's connections run in autocommit mode (isolation_level=None) and only SQLAlchemy's
    begin event issues BEGIN IMMEDIATE; on the raw connection we take the write lock ourselves.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.inserts = [_sqlite_insert(t.name, cols) for t, cols in _TABLES]

    def write(self, chunk: _Chunk) -> None:
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for statement, rows in zip(self.inserts, chunk.rows, strict=True):
                cur.executemany(statement, rows)
            cur.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                cur.execute("ROLLBACK")
            raise
        finally:
            cur.close()


def _sqlite_insert(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'


class _PostgresWriter:
    """psycopg `COPY … FROM STDIN` per table, then commit: the fastest path into PostgreSQL."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.copies = [
            sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(t.name), sql.SQL(", ").join(map(sql.Identifier, cols))
            )
            for t, cols in _TABLES
        ]

    def write(self, chunk: _Chunk) -> None:
        try:
            with self.conn.cursor() as cur:
                for statement, rows in zip(self.copies, chunk.rows, strict=True):
                    with cur.copy(statement) as copy:
                        for row in rows:
                            copy.write_row(row)
                cur.execute(NOTIFY_SQL)  # the CS, if it runs, forwards the outbox rows at once
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise


def _random_message_id() -> str:
    return str(uuid.uuid4())


def load_population(
    engine: sa.Engine,
    households_iter: Iterable[SyntheticHousehold],
    *,
    actor_id: str,
    now: datetime,
    chunk: int = 5000,
    progress: Callable[[int], None] | None = None,
    message_ids: Callable[[], str] | None = None,
) -> LoadResult:
    """Write households, records, first changes and outbox messages, `chunk` residents a commit.

    The database must be migrated, and every resident code must be reserved for this load
    (`juki.registry.store.codes.reserve_codes`: the caller reserves first, and releases the
    reservations after), so no counter hands one out meanwhile. A failure rolls back the
    current chunk only: earlier chunks stay, complete and consistent.
    `progress` is called with the number of residents each committed chunk added.
    """
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    builder = _RowBuilder(actor_id, now, message_ids or _random_message_id)
    totals = [0, 0, 0]
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        writer: _SqliteWriter | _PostgresWriter
        if engine.dialect.name == "sqlite":
            writer = _SqliteWriter(cast(sqlite3.Connection, driver))
        elif engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
            writer = _PostgresWriter(cast("psycopg.Connection[Any]", driver))
        else:
            raise ValueError(
                f"bulk loading supports sqlite and postgresql+psycopg, not {engine.url}"
            )

        def flush(c: _Chunk) -> None:
            if not c.residents and not c.households:
                return
            writer.write(c)
            totals[0] += c.households
            totals[1] += c.residents
            totals[2] += c.foreign
            if progress is not None:
                progress(c.residents)

        current = _Chunk()
        for hh in households_iter:
            builder.add(current, hh)
            if current.residents >= chunk:
                flush(current)
                current = _Chunk()
        flush(current)
    finally:
        raw.close()
    return LoadResult(households=totals[0], residents=totals[1], foreign_residents=totals[2])
