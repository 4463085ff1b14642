"""The registry's SQL unit of work: records, seals, 支援措置 and the journal, beside the oplog."""

from __future__ import annotations

import sqlalchemy as sa

from juki.registry.model import Municipality
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
    _municipality: Municipality | None = None

    @property
    def municipality(self) -> Municipality:
        if self._municipality is None:
            self._municipality = load_municipality(self.connection)
        return self._municipality

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.registry = SqlRegistry(conn, self.clock.now)
        self.seals = SqlSeals(conn)
        self.outbox = SqlOutbox(conn, self.ids, self.clock.now)
        self.move_out_infos = SqlMoveOutInfos(conn, self.clock.now)
        self.support_measures = SqlSupportMeasures(conn)
