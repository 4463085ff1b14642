"""Provisional changes and edit locks in SQL (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from juki.core.errors import ConcurrentChangeError, NotFoundError
from juki.registry.review.model import ChangeStatus, EditLock, LockHolder, ProvisionalChange
from juki.registry.review.tables import edit_locks, provisional_changes
from juki.registry.tables import resident_records
from juki.security.tables import operator_sessions, operators


def _row(change: ProvisionalChange) -> dict[str, Any]:
    return {
        "change_id": change.change_id,
        "kind": change.kind,
        "command": change.command,
        "summary": change.summary,
        "targets": json.dumps(list(change.targets)),
        "versions": json.dumps(dict(change.versions), sort_keys=True),
        "clerk_id": change.clerk_id,
        "clerk_role": change.clerk_role,
        "terminal_id": change.terminal_id,
        "session_sha256": change.session_sha256,
        "entered_at": change.entered_at.isoformat(),
        "status": change.status.value,
        "reviewer_id": change.reviewer_id,
        "reviewed_at": change.reviewed_at.isoformat() if change.reviewed_at else None,
        "reason": change.reason,
        "records": json.dumps(list(change.records)),
    }


def _change(r: Mapping[Any, Any]) -> ProvisionalChange:
    return ProvisionalChange(
        change_id=r["change_id"],
        kind=r["kind"],
        command=r["command"],
        summary=r["summary"],
        targets=tuple(json.loads(r["targets"])),
        versions={k: int(v) for k, v in json.loads(r["versions"]).items()},
        clerk_id=r["clerk_id"],
        clerk_role=r["clerk_role"],
        terminal_id=r["terminal_id"],
        session_sha256=r["session_sha256"],
        entered_at=datetime.fromisoformat(r["entered_at"]),
        status=ChangeStatus(r["status"]),
        reviewer_id=r["reviewer_id"],
        reviewed_at=datetime.fromisoformat(r["reviewed_at"]) if r["reviewed_at"] else None,
        reason=r["reason"],
        records=tuple(json.loads(r["records"])),
    )


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _lock(r: Any) -> EditLock:
    return EditLock(
        target=r.target,
        operator_id=r.operator_id,
        operator_name=r.display_name or "",
        acquired_at=datetime.fromisoformat(r.acquired_at),
        expires_at=datetime.fromisoformat(r.expires_at),
        session_sha256=r.session_sha256,
        # a lock taken in a session lives only as long as the session
        session_ended=r.session_sha256 is not None and r.ended_at is not None,
        session_last_seen=_when(r.last_seen_at),
        token_sha256=r.token_sha256,
        # … and one taken with a token, as long as that token is the operator's, unrevoked
        token_current=r.token_sha256 is not None
        and r.current_token == r.token_sha256
        and r.token_revoked_at is None,
        token_expires_at=_when(r.token_expires_at),
        change_id=r.change_id,
    )


class SqlReview:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    # -- provisional changes --------------------------------------------------------------

    def add(self, change: ProvisionalChange) -> None:
        self._conn.execute(provisional_changes.insert().values(_row(change)))

    def get(self, change_id: str) -> ProvisionalChange:
        row = (
            self._conn.execute(
                sa.select(provisional_changes).where(provisional_changes.c.change_id == change_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError("provisional change", change_id)
        return _change(row)

    def decide(self, change: ProvisionalChange) -> None:
        """Record the decision, only on a change still pending (two reviewers cannot both)."""
        pc = provisional_changes.c
        row = _row(change)
        done = self._conn.execute(
            provisional_changes.update()
            .where((pc.change_id == change.change_id) & (pc.status == ChangeStatus.PENDING.value))
            .values(
                status=row["status"],
                reviewer_id=row["reviewer_id"],
                reviewed_at=row["reviewed_at"],
                reason=row["reason"],
                records=row["records"],
            )
        )
        if done.rowcount != 1:
            raise ConcurrentChangeError(f"provisional change {change.change_id} decided already")

    def listed(
        self, status: ChangeStatus | None, limit: int, newest_first: bool = False
    ) -> Sequence[ProvisionalChange]:
        pc = provisional_changes.c
        order = (
            (pc.entered_at.desc(), pc.change_id.desc())
            if newest_first
            else (
                pc.entered_at,
                pc.change_id,
            )
        )
        query = sa.select(provisional_changes).order_by(*order).limit(limit)
        if status is not None:
            query = query.where(pc.status == status.value)
        return [_change(r) for r in self._conn.execute(query).mappings()]

    def versions(self, record_ids: Iterable[str]) -> dict[str, int]:
        ids = sorted(set(record_ids))
        if not ids:
            return {}
        rr = resident_records.c
        rows = self._conn.execute(sa.select(rr.record_id, rr.version).where(rr.record_id.in_(ids)))
        return {r.record_id: int(r.version) for r in rows}

    def households_of(self, record_ids: Iterable[str]) -> list[str]:
        ids = sorted(set(record_ids))
        if not ids:
            return []
        rr = resident_records.c
        rows = self._conn.execute(sa.select(rr.household_id).where(rr.record_id.in_(ids)))
        return sorted({r.household_id for r in rows})

    def members(self, household_ids: Iterable[str]) -> list[str]:
        ids = sorted(set(household_ids))
        if not ids:
            return []
        rr = resident_records.c
        rows = self._conn.execute(
            sa.select(rr.record_id).where(rr.household_id.in_(ids) & (rr.status == "active"))
        )
        return [r.record_id for r in rows]

    # -- edit locks -----------------------------------------------------------------------

    def locks(self, targets: Iterable[str]) -> list[EditLock]:
        """The locks on `targets`, with what decides whether each still holds: its session
        (ended, last seen) or its token (still the operator's, not revoked; its expiry)."""
        wanted = sorted(set(targets))
        if not wanted:
            return []
        el, s, o = edit_locks.c, operator_sessions.c, operators.c
        query = (
            sa.select(
                el.target,
                el.operator_id,
                el.session_sha256,
                el.token_sha256,
                el.change_id,
                el.acquired_at,
                el.expires_at,
                o.display_name,
                o.token_sha256.label("current_token"),
                o.token_revoked_at,
                o.token_expires_at,
                s.ended_at,
                s.last_seen_at,
            )
            .select_from(
                edit_locks.outerjoin(operators, o.operator_id == el.operator_id).outerjoin(
                    operator_sessions, s.session_sha256 == el.session_sha256
                )
            )
            .where(el.target.in_(wanted))
        )
        return [_lock(r) for r in self._conn.execute(query)]

    def take(
        self,
        targets: Iterable[str],
        operator_id: str,
        holder: LockHolder,
        change_id: str | None,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Hold `targets` (any lock left on them has been checked free or the operator's own)."""
        wanted = sorted(set(targets))
        if not wanted:
            return
        self._conn.execute(edit_locks.delete().where(edit_locks.c.target.in_(wanted)))
        self._conn.execute(
            edit_locks.insert(),
            [
                {
                    "target": t,
                    "operator_id": operator_id,
                    "session_sha256": holder.session_sha256,
                    "token_sha256": holder.token_sha256,
                    "change_id": change_id,
                    "acquired_at": now.isoformat(),
                    "expires_at": expires_at.isoformat(),
                }
                for t in wanted
            ],
        )

    def release(self, change_id: str) -> int:
        """Release the locks a provisional change took (its 本登録, 却下 or 取下げ)."""
        done = self._conn.execute(edit_locks.delete().where(edit_locks.c.change_id == change_id))
        return int(done.rowcount or 0)
