"""The registry's SQL unit of work: records, seals, 支援措置 and the journal, beside the oplog."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from juki.core.clock import Clock
from juki.core.ports import IdSource
from juki.registry.model import Municipality
from juki.registry.review.store import SqlReview
from juki.registry.store.cards import SqlCardHolders
from juki.registry.store.journal import SqlMoveOutInfos, SqlOutbox
from juki.registry.store.municipality import load_municipality
from juki.registry.store.records import SqlRegistry
from juki.registry.store.seals import SqlSeals
from juki.registry.support.store import SqlSupportMeasures
from juki.security.uow import SqlUnitOfWork


class SqlRegistryUnitOfWork(SqlUnitOfWork):
    registry: SqlRegistry
    seals: SqlSeals
    outbox: SqlOutbox
    move_out_infos: SqlMoveOutInfos
    support_measures: SqlSupportMeasures
    card_holders: SqlCardHolders
    review: SqlReview
    _municipality: Municipality | None = None

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Clock | None = None,
        ids: IdSource | None = None,
        connection: sa.Connection | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`rng` draws resident codes (ADR 0006): the OS CSPRNG unless a seeded source is
        passed (the simulator's, a node's own), as message ids are drawn."""
        super().__init__(engine, clock=clock, ids=ids, connection=connection)
        self.rng = rng or random.SystemRandom()

    @property
    def municipality(self) -> Municipality:
        if self._municipality is None:
            self._municipality = load_municipality(self.connection)
        return self._municipality

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.registry = SqlRegistry(conn, self.clock.now, self.rng)
        self.seals = SqlSeals(conn)
        self.outbox = SqlOutbox(conn, self.ids, self.clock.now)
        self.move_out_infos = SqlMoveOutInfos(conn, self.clock.now)
        self.support_measures = SqlSupportMeasures(conn)
        self.card_holders = SqlCardHolders(conn)
        self.review = SqlReview(conn)

    def inner(self) -> SqlRegistryUnitOfWork:
        """A unit of work on this one's connection: its transactions are savepoints inside this
        one's, so a 本登録 applies the change and decides it together."""
        return SqlRegistryUnitOfWork(
            self.engine, clock=self.clock, ids=self.ids, connection=self.connection, rng=self.rng
        )

    @contextmanager
    def trial(self) -> Iterator[None]:
        """A savepoint always rolled back: a provisional change is tried, never kept."""
        savepoint = self.connection.begin_nested()
        try:
            yield
        finally:
            if savepoint.is_active:
                savepoint.rollback()
