"""The SQL unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Self

import sqlalchemy as sa

from juki.core.clock import Clock, SystemClock
from juki.registry.ports import IdSource, Municipality
from juki.storage.journal import SqlMoveOutInfos, SqlOpLog, SqlOutbox
from juki.storage.registry_store import SqlRegistry, load_municipality
from juki.storage.seal_store import SqlSeals


class RandomIds:
    """Random UUIDs; the simulator passes a seeded source instead."""

    def new_id(self) -> str:
        return str(uuid.uuid4())


class SqlUnitOfWork:
    registry: SqlRegistry
    seals: SqlSeals
    outbox: SqlOutbox
    oplog: SqlOpLog
    move_out_infos: SqlMoveOutInfos

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Clock | None = None,
        ids: IdSource | None = None,
        connection: sa.Connection | None = None,
    ) -> None:
        """With `connection`, every `with uow:` is a savepoint inside the caller's transaction:
        a network handler applies a registry service and its inbox row atomically."""
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self.ids: IdSource = ids or RandomIds()
        self._outer = connection
        self._municipality: Municipality | None = None
        self._conn: sa.Connection | None = None
        self._tx: sa.RootTransaction | sa.NestedTransaction | None = None

    @property
    def connection(self) -> sa.Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside `with`")
        return self._conn

    @property
    def municipality(self) -> Municipality:
        if self._municipality is None:
            self._municipality = load_municipality(self.connection)
        return self._municipality

    def __enter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("unit of work is already in a transaction")
        if self._outer is not None:
            self._conn = self._outer
            self._tx = self._outer.begin_nested()
        else:
            self._conn = self.engine.connect()
            self._tx = self._conn.begin()
        self.registry = SqlRegistry(self._conn, self.clock.now)
        self.seals = SqlSeals(self._conn)
        self.outbox = SqlOutbox(self._conn, self.ids, self.clock.now)
        self.oplog = SqlOpLog(self._conn)
        self.move_out_infos = SqlMoveOutInfos(self._conn, self.clock.now)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        finally:
            if self._conn is not None and self._outer is None:
                self._conn.close()
            self._conn = None
            self._tx = None

    def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("no transaction to commit")
        self._tx.commit()

    def rollback(self) -> None:
        if self._tx is not None:
            self._tx.rollback()
