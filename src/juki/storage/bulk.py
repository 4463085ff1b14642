"""Many rows of one table in one statement's worth of database work.

SQLAlchemy Core's executemany costs several microseconds of Python per row (each row's
parameters processed into a new dict), and on PostgreSQL psycopg runs an executemany as one
statement per row in a pipeline. On the network's hot path — a batch of identity_info applied at
a prefecture and at national, its inbox and outbox rows — that was most of the time (issue 15).

A `BulkWrite` renders its statement once per dialect and hands the rows to the driver as tuples,
through `Connection.exec_driver_sql` (so the engine's statement events still see every write: the
simulator's faults and the benchmarks' counters rely on them):
- SQLite: one prepared INSERT stepped per row by sqlite3's executemany, in C;
- PostgreSQL: one `INSERT … SELECT FROM unnest(column arrays …)`, the arrays sent in binary
  (psycopg's text arrays escape element by element), one round trip for the run.

With `upsert_on`, a row whose key is held replaces it (ON CONFLICT … DO UPDATE), the last row of a
key winning, as rows applied one by one in order would; PostgreSQL cannot touch a row twice in one
statement, so the rows are folded by key first. With `newer_than` as well, a held row is replaced
only when that column of it is not later than the new row's (a late notice of an earlier change
leaves the copy as it is): the fold then keeps, per key, the last of the rows whose column is the
greatest — what applying them one by one would leave, whatever was held before. Values go to the
driver as they are (str, int, bool, None, `date`); sqlite3 turns dates into ISO text, as
SQLAlchemy's Date type would, by the adapter registered here (Python 3.11's own does the same,
and is deprecated from 3.12): in C's loop, not a Python copy of every row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Final, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# The array type a column's values travel in on PostgreSQL; the column's own type takes them by
# assignment (text into VARCHAR with its collation, bigint into INTEGER).
_PG_ARRAYS: Final = {str: "text", int: "bigint", bool: "boolean", date: "date"}
S = TypeVar("S")
sqlite3.register_adapter(date, date.isoformat)


class BulkWrite:
    """INSERT (or upsert) of `columns` of `table`, for rows given as tuples in that order."""

    def __init__(
        self,
        table: sa.Table,
        columns: Sequence[str],
        *,
        upsert_on: Sequence[str] = (),
        newer_than: str | None = None,
    ) -> None:
        named = (*columns, *upsert_on, *([newer_than] if newer_than else []))
        missing = [c for c in named if c not in table.c]
        if missing:
            raise ValueError(f"{table.name} has no column {', '.join(missing)}")
        if not set(upsert_on) <= set(columns):
            raise ValueError("an upsert's key columns must be among those written")
        if newer_than is not None:
            _check_newer_than(table, columns, upsert_on, newer_than)
        self.table = table
        self.columns = tuple(columns)
        self.upsert_on = tuple(upsert_on)
        self.newer_than = newer_than
        self._key = tuple(self.columns.index(c) for c in self.upsert_on)
        self._newer = None if newer_than is None else self.columns.index(newer_than)
        self._sql: dict[str, str] = {}

    def _render(self, dialect: sa.Dialect) -> str:
        found = self._sql.get(dialect.name)
        if found is not None:
            return found
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in self.columns)
        if dialect.name == "postgresql":
            arrays = ", ".join(
                f"%b::{_PG_ARRAYS[self.table.c[c].type.python_type]}[]" for c in self.columns
            )
            text = f"INSERT INTO {quote(self.table.name)} ({names}) SELECT * FROM unnest({arrays})"
        else:
            marks = ", ".join("?" for _ in self.columns)
            text = f"INSERT INTO {quote(self.table.name)} ({names}) VALUES ({marks})"
        if self.upsert_on:
            updates = ", ".join(
                f"{quote(c)} = excluded.{quote(c)}" for c in self.columns if c not in self.upsert_on
            )
            keys = ", ".join(quote(c) for c in self.upsert_on)
            text += f" ON CONFLICT ({keys}) DO UPDATE SET {updates}"
            if self.newer_than is not None:
                col = quote(self.newer_than)
                text += f" WHERE {quote(self.table.name)}.{col} <= excluded.{col}"
        self._sql[dialect.name] = text
        return text

    def write(self, conn: sa.Connection, rows: Sequence[tuple[Any, ...]]) -> int:
        """Write `rows` in the connection's transaction: how many were written."""
        if not rows:
            return 0
        text = self._render(conn.dialect)
        if conn.dialect.name == "postgresql":
            if self._key:
                rows = self._folded(rows)
            conn.exec_driver_sql(text, tuple(list(column) for column in zip(*rows, strict=True)))
            return len(rows)
        conn.exec_driver_sql(text, list(rows))
        return len(rows)

    def _folded(self, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """One row per key, leaving what the rows applied one by one in order would: the last
        row of the key, or with `newer_than` the last of those whose column is the greatest (a
        row replaces the one before unless that one's column is later, ties included)."""
        key, newer = self._key, self._newer
        if newer is None:
            return list({tuple(r[i] for i in key): r for r in rows}.values())
        kept: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for row in rows:
            k = tuple(row[i] for i in key)
            held = kept.get(k)
            if held is None or held[newer] <= row[newer]:
                kept[k] = row
        return list(kept.values())


def _check_newer_than(
    table: sa.Table, columns: Sequence[str], upsert_on: Sequence[str], newer_than: str
) -> None:
    """The fold compares the column in Python, so it must be written, never NULL (NULL compares
    to nothing) and ordered alike in Python and in SQL: a date or a number, not text (a
    collation)."""
    if not upsert_on:
        raise ValueError("newer_than goes with an upsert (upsert_on)")
    if newer_than not in columns:
        raise ValueError("newer_than must be among the columns written")
    column = table.c[newer_than]
    if column.nullable or column.type.python_type not in (date, int):
        raise ValueError(f"newer_than needs a date or integer column never NULL: {newer_than}")


def one_of(column: sa.ColumnElement[Any], name: str, dialect: str) -> sa.ColumnElement[bool]:
    """`column` is one of the list bound as `name`, one parameter whatever the list's length:
    `= ANY(array)` on PostgreSQL (the server plans it once), `IN (SELECT value FROM
    json_each(…))` on SQLite (an expanding IN is compiled again for every length, which cost
    more than the query on a batch's hundreds of ids). Statements using it are built per dialect
    (`PerDialect`)."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))
    listed = sa.func.json_each(sa.bindparam(name, type_=sa.JSON)).table_valued("value")
    return column.in_(sa.select(listed.c.value))


class PerDialect(Generic[S]):
    """A statement built once for each dialect it runs on, by `build(dialect name)`."""

    def __init__(self, build: Callable[[str], S]) -> None:
        self.build = build
        self._built: dict[str, S] = {}

    def __call__(self, conn: sa.Connection) -> S:
        name = conn.dialect.name
        found = self._built.get(name)
        if found is None:
            found = self._built[name] = self.build(name)
        return found
