"""What a registry scenario runs on: the fake (unit tests, milliseconds) or a migrated SQL
database (integration and contract tests), behind one small interface, and what a test reads
back from either.

A test written against `Backend` runs unchanged on both, so a scenario can move between the
unit and integration suites without being rewritten, and the contract tests can compare the
rows the fake keeps with the rows SQL keeps.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa

from juki.cards import tables as cards_tables
from juki.core.clock import JST, FixedClock
from juki.core.ports import IdSource
from juki.network.messages import FuhyoNotice, MoveOutCertificateInfo
from juki.registry.model import Municipality, fold
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.store import journal
from juki.registry.store import municipality as municipality_store
from juki.registry.store.codes import NATIONAL, receive_pool
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.storage.engine import is_sqlite, make_engine
from juki.storage.migrate import create_migrated
from support.fakedb import TABLES
from support.fakes import CountingIds, FakeDatabase, FakeRegistryUnitOfWork
from support.schema import all_tables

# The time every scenario happens at: the counter's clock on 2025-04-01, in Japan.
NOW = datetime(2025, 4, 1, 10, 0, tzinfo=JST)

# The tables a refused action must leave as they were (the oplog is the one it writes to).
REGISTRY_TABLES = (
    "resident_records",
    "record_changes",
    "households",
    "outbox",
    "seal_registrations",
)


class Backend(Protocol):
    """A registry to run scenarios on: units of work, the committed rows, and the set-up a
    node does outside the services (each named after the SQL function it mirrors)."""

    @property
    def clock(self) -> FixedClock: ...

    def uow(self) -> RegistryUnitOfWork: ...

    def rows(self, table: str) -> list[dict[str, Any]]: ...

    def save_municipality(self, m: Municipality) -> None: ...

    def add_allotment(self, first_body: int, last_body: int, allotted_by: str) -> None: ...

    def add_pool(self, codes: Sequence[str]) -> None: ...

    def keep_move_out_info(self, info: MoveOutCertificateInfo, now: str) -> None: ...

    def record_fuhyo(self, notice: FuhyoNotice, message_id: str, now: str) -> None: ...
    def withdraw_move_out_info(self, resident_code: str, from_lg_code: str, on: date) -> None: ...

    def give_card(self, resident_code: str) -> None: ...


class FakeBackend:
    """A `FakeDatabase` with a fixed clock and counted ids, so a scenario reads the same on
    every run."""

    def __init__(self, clock: FixedClock | None = None, ids: IdSource | None = None) -> None:
        self.db = FakeDatabase()
        self._clock = clock or FixedClock(NOW)
        self.ids = ids or CountingIds()
        self.rng = random.Random(0)  # draws resident codes as the SQL backend's does

    @property
    def clock(self) -> FixedClock:
        return self._clock

    def uow(self) -> FakeRegistryUnitOfWork:
        return FakeRegistryUnitOfWork(self.db, clock=self._clock, ids=self.ids, rng=self.rng)

    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.db.rows(table)

    def save_municipality(self, m: Municipality) -> None:
        self.db.save_municipality(m)

    def add_allotment(self, first_body: int, last_body: int, allotted_by: str) -> None:
        self.db.add_allotment(first_body, last_body, allotted_by)

    def add_pool(self, codes: Sequence[str]) -> None:
        self.db.add_pool(codes)

    def keep_move_out_info(self, info: MoveOutCertificateInfo, now: str) -> None:
        self.db.keep_move_out_info(info, now)

    def record_fuhyo(self, notice: FuhyoNotice, message_id: str, now: str) -> None:
        self.db.record_fuhyo(notice, message_id, now)

    def withdraw_move_out_info(self, resident_code: str, from_lg_code: str, on: date) -> None:
        self.db.withdraw_move_out_info(resident_code, from_lg_code, on)

    def give_card(self, resident_code: str) -> None:
        with self.db.begin() as tx:
            tx.insert("cards", card_row(resident_code, self._clock.now().isoformat()))


class SqlBackend:
    """A migrated database and the SQL unit of work, with the same clock and ids as the fake."""

    def __init__(
        self, engine: sa.Engine, clock: FixedClock | None = None, ids: IdSource | None = None
    ) -> None:
        self.engine = engine
        self._clock = clock or FixedClock(NOW)
        self.ids = ids or CountingIds()
        self.rng = random.Random(0)
        # juki's SQLite engine begins every transaction, reads too, with BEGIN IMMEDIATE, so
        # it could not look at the committed rows while a unit of work is open; a plain
        # engine reads them beside the writer (WAL), as another connection would.
        self._reader = (
            sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
            if is_sqlite(engine.url)
            else engine
        )

    def dispose(self) -> None:
        self._reader.dispose()
        self.engine.dispose()

    @property
    def clock(self) -> FixedClock:
        return self._clock

    def uow(self) -> SqlRegistryUnitOfWork:
        return SqlRegistryUnitOfWork(self.engine, clock=self._clock, ids=self.ids, rng=self.rng)

    def rows(self, table: str) -> list[dict[str, Any]]:
        t = all_tables().tables[table]
        with self._reader.connect() as conn:
            result = conn.execute(sa.select(t).order_by(*t.primary_key.columns)).mappings()
            return [dict(row) for row in result]

    def save_municipality(self, m: Municipality) -> None:
        with self.engine.begin() as conn:
            municipality_store.save_municipality(conn, m)

    def add_allotment(self, first_body: int, last_body: int, allotted_by: str) -> None:
        with self.engine.begin() as conn:
            municipality_store.add_allotment(conn, first_body, last_body, allotted_by)

    def add_pool(self, codes: Sequence[str]) -> None:
        with self.engine.begin() as conn:
            receive_pool(conn, codes, source=NATIONAL, allotted_by=NATIONAL, now="")

    def keep_move_out_info(self, info: MoveOutCertificateInfo, now: str) -> None:
        with self.engine.begin() as conn:
            journal.keep_move_out_info(conn, info, now)

    def record_fuhyo(self, notice: FuhyoNotice, message_id: str, now: str) -> None:
        with self.engine.begin() as conn:
            journal.record_fuhyo(conn, notice, message_id, now)

    def withdraw_move_out_info(self, resident_code: str, from_lg_code: str, on: date) -> None:
        with self.engine.begin() as conn:
            journal.withdraw_move_out_info(conn, resident_code, from_lg_code, on)

    def give_card(self, resident_code: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                cards_tables.cards.insert().values(
                    card_row(resident_code, self._clock.now().isoformat())
                )
            )


@contextmanager
def sql_backend(url: str) -> Iterator[SqlBackend]:
    """A fresh database at `url`, built by the migrations as everywhere else."""
    create_migrated(url)
    backend = SqlBackend(make_engine(url))
    try:
        yield backend
    finally:
        backend.dispose()


def card_row(resident_code: str, now: str, lg_code: str = "132250") -> dict[str, Any]:
    """A working card in the register, as `juki.cards.services.issue_card` leaves it (its
    certificates are the card CA's business: tests/integration/cards)."""
    return {
        "card_serial": f"CARD-{resident_code}",
        "resident_code": resident_code,
        "lg_code": lg_code,
        "status": "issued",
        "backend": "soft",
        "applied_on": date(2025, 1, 6),
        "issued_on": date(2025, 1, 6),
        "expires_on": date(2030, 1, 6),
        "auth_cert_serial": "a1",
        "signing_cert_serial": None,
        "abolished_on": None,
        "abolition_reason": None,
        "continued_from": None,
        "updated_at": now,
    }


# -- what a test reads back ---------------------------------------------------------------


def snapshot(backend: Backend) -> dict[str, list[dict[str, Any]]]:
    """Every committed row of the registry's tables but the oplog's."""
    return {table: backend.rows(table) for table in TABLES if table != "oplog"}


@contextmanager
def refused(backend: Backend, outcome: str = "rejected") -> Iterator[None]:
    """A refused action leaves no trace but its oplog entry (written in a transaction of its
    own by the action runner): wrap the call, and the block checks both on the way out."""
    before, logged = snapshot(backend), len(backend.rows("oplog"))
    yield
    assert snapshot(backend) == before, "the refused action changed the registry"
    assert oplog_outcomes(backend)[logged:] == [outcome]


def counts(backend: Backend) -> dict[str, int]:
    return {table: len(backend.rows(table)) for table in REGISTRY_TABLES}


def outbox_types(backend: Backend) -> list[str]:
    return [row["message_type"] for row in backend.rows("outbox")]


def outbox_payloads(backend: Backend, message_type: str) -> list[dict[str, Any]]:
    rows = backend.rows("outbox")
    return [json.loads(r["payload"]) for r in rows if r["message_type"] == message_type]


def oplog_outcomes(backend: Backend) -> list[str]:
    return [row["outcome"] for row in backend.rows("oplog")]


def assert_projection_is_fold(backend: Backend) -> None:
    """ADR 0001: every record's stored row is the fold of its history."""
    with backend.uow() as uow:
        for row in backend.rows("resident_records"):
            history = uow.registry.history(row["record_id"])
            assert fold(h.change for h in history) == uow.registry.get(row["record_id"])
