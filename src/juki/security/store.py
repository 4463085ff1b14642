"""Operators (操作者) and the operation log in SQL.

Only the SHA-256 of a bearer token is stored, so a copy of the database cannot be used to act
as an operator. Nothing here commits: the caller's transaction also holds the oplog entry.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from juki.core.errors import NotFoundError
from juki.core.ports import OpLogEntry
from juki.security.permissions import Role
from juki.security.ports import StoredOperator
from juki.security.tables import operators, oplog

_INSERT_OPLOG = oplog.insert()


def oplog_row(entry: OpLogEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "role": entry.role,
        "terminal_id": entry.terminal_id,
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "detail": entry.detail,
    }


class SqlOpLog:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def append(self, entry: OpLogEntry) -> None:
        self._conn.execute(_INSERT_OPLOG, oplog_row(entry))


def _operator(row: sa.RowMapping) -> StoredOperator:
    return StoredOperator(
        operator_id=row["operator_id"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
        token_expires_at=row["token_expires_at"] or "",
        token_revoked_at=row["token_revoked_at"],
        token_purpose=row["token_purpose"],
        status=row["status"],
        enrolment_sha256=row["enrolment_sha256"],
        enrolment_expires_at=row["enrolment_expires_at"],
        failed_logins=int(row["failed_logins"]),
        locked_at=row["locked_at"],
    )


class SqlOperators:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def add(
        self,
        *,
        operator_id: str,
        display_name: str,
        role: Role,
        created_at: str,
        token_sha256: str | None = None,
        token_expires_at: str = "",
        token_purpose: str | None = None,
    ) -> None:
        self._conn.execute(
            operators.insert().values(
                operator_id=operator_id,
                display_name=display_name,
                role=role.value,
                token_sha256=token_sha256,
                active=True,
                status="active",
                created_at=created_at,
                token_expires_at=token_expires_at or created_at,
                token_purpose=token_purpose,
                failed_logins=0,
            )
        )

    def find(self, operator_id: str) -> StoredOperator | None:
        row = (
            self._conn.execute(sa.select(operators).where(operators.c.operator_id == operator_id))
            .mappings()
            .first()
        )
        return _operator(row) if row is not None else None

    def find_by_token_hash(self, token_sha256: str) -> StoredOperator | None:
        """Look up by the token's hash: the index does the comparison, so no timing oracle.
        Inactive operators and expired or revoked tokens are found too, to say why they fail."""
        row = (
            self._conn.execute(sa.select(operators).where(operators.c.token_sha256 == token_sha256))
            .mappings()
            .first()
        )
        return _operator(row) if row is not None else None

    def set_token(
        self, operator_id: str, token_sha256: str, token_expires_at: str, purpose: str
    ) -> None:
        self._update(
            operator_id,
            token_sha256=token_sha256,
            token_expires_at=token_expires_at,
            token_revoked_at=None,
            token_purpose=purpose,
        )

    def revoke_token(self, operator_id: str, revoked_at: str) -> None:
        self._update(operator_id, token_revoked_at=revoked_at)

    def _update(self, operator_id: str, **values: Any) -> None:
        updated = self._conn.execute(
            operators.update().where(operators.c.operator_id == operator_id).values(**values)
        )
        if updated.rowcount != 1:
            raise NotFoundError("operator", operator_id)

    def set_active(self, operator_id: str, active: bool) -> None:
        self._update(operator_id, active=active, status="active" if active else "suspended")

    def set_status(self, operator_id: str, status: str) -> None:
        self._update(operator_id, status=status, active=status == "active")

    def set_role(self, operator_id: str, role: Role) -> None:
        self._update(operator_id, role=role.value)

    def set_enrolment(self, operator_id: str, code_sha256: str | None, expires_at: str) -> None:
        self._update(operator_id, enrolment_sha256=code_sha256, enrolment_expires_at=expires_at)

    def count_failure(self, operator_id: str) -> int:
        c = operators.c
        self._update(operator_id, failed_logins=c.failed_logins + 1)
        count = self._conn.execute(
            sa.select(c.failed_logins).where(c.operator_id == operator_id)
        ).scalar_one()
        return int(count)

    def set_lock(self, operator_id: str, locked_at: str | None) -> None:
        self._update(operator_id, locked_at=locked_at, failed_logins=0)
