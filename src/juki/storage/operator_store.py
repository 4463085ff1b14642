"""Operators (操作者) in SQL: who may sign in, with which role, by the hash of which token.

Only the SHA-256 of a bearer token is stored, so a copy of the database cannot be used to act
as an operator. These helpers never commit: the caller's transaction also holds the oplog entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from juki.core.errors import NotFoundError
from juki.security.permissions import Role
from juki.storage.tables import operators


@dataclass(frozen=True, slots=True)
class StoredOperator:
    operator_id: str
    display_name: str
    role: Role
    active: bool
    created_at: str


def _operator(row: sa.RowMapping) -> StoredOperator:
    return StoredOperator(
        operator_id=row["operator_id"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


def add_operator(
    conn: sa.Connection,
    *,
    operator_id: str,
    display_name: str,
    role: Role,
    token_sha256: str,
    created_at: str,
) -> None:
    conn.execute(
        operators.insert().values(
            operator_id=operator_id,
            display_name=display_name,
            role=role.value,
            token_sha256=token_sha256,
            active=True,
            created_at=created_at,
        )
    )


def find_operator(conn: sa.Connection, operator_id: str) -> StoredOperator | None:
    row = (
        conn.execute(sa.select(operators).where(operators.c.operator_id == operator_id))
        .mappings()
        .first()
    )
    return _operator(row) if row is not None else None


def find_active_by_token_hash(conn: sa.Connection, token_sha256: str) -> StoredOperator | None:
    """Look up by the token's hash: the index does the comparison, so no timing oracle remains."""
    row = (
        conn.execute(
            sa.select(operators).where(
                (operators.c.token_sha256 == token_sha256) & operators.c.active.is_(True)
            )
        )
        .mappings()
        .first()
    )
    return _operator(row) if row is not None else None


def set_active(conn: sa.Connection, operator_id: str, active: bool) -> None:
    updated = conn.execute(
        operators.update().where(operators.c.operator_id == operator_id).values(active=active)
    )
    if updated.rowcount != 1:
        raise NotFoundError("operator", operator_id)
