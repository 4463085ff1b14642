"""The in-memory tables under the fake unit of work (`support.fakes`): rows, constraints,
transactions and locks, as the SQL tables have them.

Rows have the SQL tables' columns (taken from the tables themselves) and are written and read
by the SQL stores' own row mappers, so the fake keeps what SQL keeps. Transactions are
PostgreSQL's READ COMMITTED: a transaction reads the committed rows under its own writes;
`commit` publishes its writes, `rollback` forgets them. Constraints are the tables': primary
keys, the partial unique indexes (one active record per resident code, one live seal per
person), `(record_id, seq)`, the outbox's message ids and the foreign keys fail with
SQLAlchemy's `IntegrityError`, which the stores translate where they do, and, as on
PostgreSQL, leave the transaction unusable until it ends.

A row (or unique key) written by another open transaction is locked. SQL makes the second
writer wait (PostgreSQL) or keeps it from beginning (SQLite's BEGIN IMMEDIATE); one thread
cannot wait, so the fake refuses at once with `ConcurrentChangeError`, the error a waiting
writer most often ends with.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

from juki.cards import tables as cards_tables
from juki.certificates import tables as certificate_tables
from juki.core.errors import ConcurrentChangeError
from juki.registry import tables as registry_tables
from juki.registry.model import RecordStatus
from juki.registry.seal import SealStatus
from juki.security import tables as security_tables
from juki.storage.counters import counters

Row = dict[str, Any]
Key = tuple[Hashable, ...]


@dataclass(frozen=True, slots=True)
class _Unique:
    """A unique constraint or partial unique index: `where` says which rows it covers."""

    name: str
    columns: tuple[str, ...]
    where: Callable[[Row], bool] = lambda _row: True


@dataclass(frozen=True, slots=True)
class _Table:
    """What the fake enforces of one SQL table; its columns come from the SQL table itself."""

    sql: sa.Table
    key: tuple[str, ...]
    autoincrement: str | None = None
    uniques: tuple[_Unique, ...] = ()
    foreign_keys: tuple[tuple[str, str], ...] = ()  # (column, referenced table)


_r, _s = registry_tables, security_tables
TABLES: Final = {
    t.sql.name: t
    for t in (
        _Table(_r.municipality, ("lg_code",)),
        _Table(_r.households, ("household_id",)),
        _Table(
            _r.resident_records,
            ("record_id",),
            uniques=(
                _Unique(
                    "uq_resident_records_active_code",
                    ("resident_code",),
                    lambda row: row["status"] == RecordStatus.ACTIVE.value,
                ),
            ),
            foreign_keys=(("household_id", "households"),),
        ),
        _Table(
            _r.record_changes,
            ("change_id",),
            autoincrement="change_id",
            uniques=(_Unique("uq_record_changes_record_id_seq", ("record_id", "seq")),),
            foreign_keys=(("record_id", "resident_records"),),
        ),
        _Table(
            _r.seal_registrations,
            ("registration_number",),
            uniques=(
                _Unique(
                    "uq_seal_registrations_live",
                    ("record_id",),
                    lambda row: row["status"] == SealStatus.LIVE.value,
                ),
            ),
            foreign_keys=(("record_id", "resident_records"),),
        ),
        _Table(_r.code_allotments, ("allotment_id",), autoincrement="allotment_id"),
        _Table(_r.code_pool_batches, ("batch_id",), autoincrement="batch_id"),
        _Table(_r.code_pool, ("resident_code",), foreign_keys=(("batch_id", "code_pool_batches"),)),
        _Table(
            _r.retired_codes, ("resident_code",), foreign_keys=(("record_id", "resident_records"),)
        ),
        _Table(
            _r.outbox,
            ("outbox_id",),
            autoincrement="outbox_id",
            uniques=(_Unique("uq_outbox_message_id", ("message_id",)),),
        ),
        _Table(_r.move_out_infos, ("resident_code", "from_lg_code")),
        _Table(
            _r.fuhyo_entries,
            ("entry_id",),
            autoincrement="entry_id",
            uniques=(_Unique("uq_fuhyo_entries_message_id", ("message_id",)),),
        ),
        _Table(_s.oplog, ("entry_id",), autoincrement="entry_id"),
        _Table(counters, ("name",)),
        _Table(_r.support_measures, ("measure_id",)),
        _Table(
            _r.support_measure_persons,
            ("measure_id", "record_id"),
            foreign_keys=(
                ("measure_id", "support_measures"),
                ("record_id", "resident_records"),
            ),
        ),
        # The card register (juki.cards): the registry asks whether a resident holds a card.
        _Table(cards_tables.cards, ("card_serial",)),
        # 本人通知: of the certificates' tables, only these two are on the fake.
        _Table(
            certificate_tables.self_notice_registrations,
            ("registration_id",),
            uniques=(
                _Unique(
                    "uq_self_notice_registrations_live",
                    ("resident_code",),
                    lambda row: row["withdrawn_at"] is None,
                ),
            ),
        ),
        _Table(
            certificate_tables.self_notices,
            ("notice_id",),
            foreign_keys=(("registration_id", "self_notice_registrations"),),
        ),
    )
}


_ABORTED: Final = "current transaction is aborted, commands ignored until end of transaction block"


class FakeTransaction:
    """One transaction's writes over the committed rows (READ COMMITTED: reads see the
    committed state under this transaction's own writes, never another's pending ones)."""

    def __init__(self, db: FakeTables) -> None:
        self._db = db
        self._writes: dict[str, dict[Key, Row | None]] = {name: {} for name in TABLES}
        self._locks: set[Hashable] = set()
        self._aborted = False
        self.active = True
        db.open_transactions.add(self)

    def _usable(self) -> None:
        """After a failed statement PostgreSQL refuses everything until the transaction ends,
        so code that swallows an `IntegrityError` and carries on fails here as it would there."""
        if self._aborted:
            raise sa.exc.InternalError("statement", None, Exception(_ABORTED))

    def _violated(self, table: str, what: str) -> sa.exc.IntegrityError:
        """The error SQL raises for a violated constraint, so callers catch what they would."""
        self._aborted = True
        return sa.exc.IntegrityError(f"write to {table}", None, Exception(what))

    def get(self, table: str, *key: Hashable) -> Row | None:
        self._usable()
        pending = self._writes[table]
        row = pending[key] if key in pending else self._db.committed[table].get(key)
        return dict(row) if row is not None else None

    def scan(self, table: str) -> list[Row]:
        """Every visible row, copied, in primary-key order (callers sort as their SQL does)."""
        self._usable()
        return [dict(row) for _, row in sorted(self._visible(table).items())]

    def _visible(self, table: str) -> dict[Key, Row]:
        rows = {**self._db.committed[table], **self._writes[table]}
        return {key: row for key, row in rows.items() if row is not None}

    def insert(self, table: str, values: Mapping[str, Any]) -> Row:
        spec = TABLES[table]
        unknown = set(values) - set(spec.sql.c.keys())
        if unknown:
            raise sa.exc.CompileError(f"unconsumed column names: {sorted(unknown)}")
        row: Row = dict.fromkeys(spec.sql.c.keys()) | dict(values)
        if spec.autoincrement and row[spec.autoincrement] is None:
            row[spec.autoincrement] = next(self._db.sequences[table])
        key = tuple(row[c] for c in spec.key)
        if self.get(table, *key) is not None:
            raise self._violated(table, f"duplicate primary key {key}")
        self._write(table, key, row)
        return row

    def update(self, table: str, row: Row) -> None:
        key = tuple(row[c] for c in TABLES[table].key)
        if self.get(table, *key) is not None:
            self._write(table, key, row)

    def delete(self, table: str, *key: Hashable) -> None:
        if self.get(table, *key) is not None:
            self._lock((table, key))
            self._writes[table][key] = None

    def _write(self, table: str, key: Key, row: Row) -> None:
        spec = TABLES[table]
        for column, parent in spec.foreign_keys:
            if row[column] is not None and self.get(parent, row[column]) is None:
                raise self._violated(table, f"foreign key {column} -> {parent}")
        self._lock((table, key))
        for unique in spec.uniques:
            if not unique.where(row):
                continue
            value = tuple(row[c] for c in unique.columns)
            self._lock((table, unique.name, value))
            for other_key, other in self._visible(table).items():
                same = tuple(other[c] for c in unique.columns) == value
                if same and other_key != key and unique.where(other):
                    raise self._violated(table, f"UNIQUE constraint failed: {unique.name}")
        self._writes[table][key] = dict(row)

    def _lock(self, what: Hashable) -> None:
        owner = self._db.locks.setdefault(what, self)
        if owner is not self:
            raise ConcurrentChangeError(
                f"{what} is being written by another open transaction (SQL would wait for it)"
            )
        self._locks.add(what)

    def commit(self) -> None:
        for table, writes in self._writes.items():
            committed = self._db.committed[table]
            for key, row in writes.items():
                if row is None:
                    committed.pop(key, None)
                else:
                    committed[key] = row
        self._end()

    def rollback(self) -> None:
        self._end()

    def _end(self) -> None:
        for what in self._locks:
            del self._db.locks[what]
        self._locks.clear()
        self._writes = {name: {} for name in TABLES}
        self._db.open_transactions.discard(self)
        self.active = False


class FakeTables:
    """The shared state of one registry: committed rows per SQL table, the sequences behind
    autoincrement keys (never rolled back, as in PostgreSQL), and the row locks held by open
    transactions."""

    def __init__(self) -> None:
        self.committed: dict[str, dict[Key, Row]] = {name: {} for name in TABLES}
        self.sequences = {name: itertools.count(1) for name in TABLES}
        self.locks: dict[Hashable, FakeTransaction] = {}
        self.open_transactions: set[FakeTransaction] = set()

    def rows(self, table: str) -> list[Row]:
        """The committed rows of `table`, ordered by primary key (what another connection sees)."""
        return [dict(row) for _, row in sorted(self.committed[table].items())]

    @contextmanager
    def begin(self) -> Iterator[FakeTransaction]:
        """A transaction committed at the end of the block, as `engine.begin()` gives."""
        tx = FakeTransaction(self)
        try:
            yield tx
        except BaseException:
            tx.rollback()
            raise
        tx.commit()


class FakeConnection:
    """A unit of work's connection, as SQLAlchemy 2 gives one: the transaction begun with it
    can be committed or rolled back once (committing it again, or after a rollback, raises
    `InvalidRequestError`); work done after that autobegins a transaction of its own, which
    nothing commits and closing the connection discards."""

    def __init__(self, db: FakeTables) -> None:
        self._db = db
        self._begun = self._tx = FakeTransaction(db)
        self._closed = False

    @property
    def tx(self) -> FakeTransaction:
        if self._closed:
            raise RuntimeError("unit of work used outside `with`")
        if not self._tx.active:
            self._tx = FakeTransaction(self._db)
        return self._tx

    def commit(self) -> None:
        if not self._begun.active:
            raise sa.exc.InvalidRequestError("This transaction is inactive")
        self._begun.commit()

    def rollback(self) -> None:
        if self._begun.active:
            self._begun.rollback()

    def close(self) -> None:
        if self._tx.active:
            self._tx.rollback()
        self._closed = True
