"""The SQL unit of work with what every action needs: the oplog, operators, verification."""

from __future__ import annotations

import sqlalchemy as sa

from juki.security.store import SqlOperators, SqlOpLog
from juki.security.verification.store import SqlVerification
from juki.storage.uow import SqlTransaction


class SqlUnitOfWork(SqlTransaction):
    oplog: SqlOpLog
    operators: SqlOperators
    verification: SqlVerification

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.oplog = SqlOpLog(conn)
        self.operators = SqlOperators(conn)
        self.verification = SqlVerification(conn)
