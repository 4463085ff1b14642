"""Operators (操作者) and the operation log in SQL.

Only the SHA-256 of a bearer token is stored, so a copy of the database cannot be used to act
as an operator. Nothing here commits: the caller's transaction also holds the oplog entry.

An entry is chained (`juki.security.chain`) to the chain head, which is read `FOR UPDATE`: on
PostgreSQL a second transaction appending at the same time waits for the first to end, then
chains to its entry, so the chain never forks (on SQLite the writer lock already serialises).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from juki.core.errors import NotFoundError
from juki.core.ports import OpLogEntry
from juki.security.chain import GENESIS, HASHED, entry_fields, link
from juki.security.permissions import Role
from juki.security.ports import StoredOperator
from juki.security.tables import operators, oplog, oplog_head

_INSERT_OPLOG = oplog.insert()
_HEAD = sa.select(oplog_head.c.seq, oplog_head.c.entry_hash).where(oplog_head.c.head_id == 1)
_LOCKED_HEAD = _HEAD.with_for_update()
# Built once, with bound parameters, so each append reuses the compiled statements.
_MOVE_HEAD = (
    oplog_head.update()
    .where(oplog_head.c.head_id == 1)
    .values(seq=sa.bindparam("new_seq"), entry_hash=sa.bindparam("new_hash"))
)
_STORED = (*HASHED, "entry_hash")
_APPEND_AND_MOVE = _MOVE_HEAD.add_cte(  # PostgreSQL: WITH (INSERT …) UPDATE head, one trip
    oplog.insert().values({name: sa.bindparam(f"e_{name}") for name in _STORED}).cte("appended")
)


def oplog_row(entry: OpLogEntry) -> dict[str, Any]:
    """The entry's fields as stored, before it is chained."""
    return entry_fields(entry)


def append_entry(conn: sa.Connection, entry: OpLogEntry) -> int:
    """Chain `entry` to the head and write both, in the caller's transaction; its seq."""
    head = conn.execute(_LOCKED_HEAD).first()
    if head is None:  # a database emptied by hand: the head starts again from the last entry
        _restore_head(conn)
        head = conn.execute(_LOCKED_HEAD).one()
    seq = int(head.seq) + 1
    row = link(entry_fields(entry), seq, head.entry_hash)
    moved = {"new_seq": seq, "new_hash": row["entry_hash"]}
    if conn.dialect.name == "postgresql":
        conn.execute(_APPEND_AND_MOVE, moved | {f"e_{k}": row[k] for k in _STORED})
    else:
        conn.execute(_INSERT_OPLOG, row)
        conn.execute(_MOVE_HEAD, moved)
    return seq


def _restore_head(conn: sa.Connection) -> None:
    last = conn.execute(
        sa.select(oplog.c.seq, oplog.c.entry_hash).order_by(oplog.c.seq.desc()).limit(1)
    ).first()
    seq, entry_hash = (int(last.seq), str(last.entry_hash)) if last else (0, GENESIS)
    conn.execute(oplog_head.insert().values(head_id=1, seq=seq, entry_hash=entry_hash))


def chain_head(conn: sa.Connection) -> tuple[int, str]:
    """The stored head: (0, GENESIS) for an empty log; (-1, "") when its row is missing."""
    head = conn.execute(_HEAD).first()
    if head is not None:
        return int(head.seq), str(head.entry_hash)
    empty = conn.execute(sa.select(oplog.c.seq).limit(1)).first() is None
    return (0, GENESIS) if empty else (-1, "")


class SqlOpLog:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def append(self, entry: OpLogEntry) -> None:
        append_entry(self._conn, entry)


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
