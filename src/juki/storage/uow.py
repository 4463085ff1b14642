"""The SQL transaction every feature's unit of work is built on.

A feature's unit of work subclasses `SqlTransaction` and binds its repositories to the
connection in `_bind`; `juki.security.uow.SqlUnitOfWork` adds the oplog, each feature adds its
own stores on top. Nothing here knows a table.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Self

import sqlalchemy as sa

from juki.core.clock import Clock, SystemClock
from juki.core.ports import IdSource


class RandomIds:
    """Random UUIDs; the simulator passes a seeded source instead."""

    def new_id(self) -> str:
        return str(uuid.uuid4())


class SqlTransaction:
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
        self._conn: sa.Connection | None = None
        self._tx: sa.RootTransaction | sa.NestedTransaction | None = None

    @property
    def connection(self) -> sa.Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside `with`")
        return self._conn

    def _bind(self, conn: sa.Connection) -> None:
        """Bind the repositories to this transaction's connection."""

    def _unbind(self) -> None:
        """Release what `_bind` (or a repository since) opened beside the connection: called
        when the transaction ends, however it ends."""

    def __enter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("unit of work is already in a transaction")
        if self._outer is not None:
            self._conn = self._outer
            self._tx = self._outer.begin_nested()
        else:
            self._conn = self.engine.connect()
            self._tx = self._conn.begin()
        self._bind(self._conn)
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
            self._unbind()
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
