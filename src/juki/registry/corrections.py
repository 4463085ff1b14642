"""The counter's queue of 訂正の申出 (correction requests a resident filed through the portal).

A clerk lists the open requests, opens one (a reading of personal data, `view_record`, in the
oplog), and decides it (`decide_correction_request`): **accepted** — the change itself is entered
on one of the entry screens and filed through review like any other (仮登録 → 本登録); the
request keeps the provisional change's id — or **rejected** with a reason, which the resident
sees in the portal (`for_resident`, read by the municipality's disclosure answer). A request is
decided once; deciding it again is a conflict. Each is an action of `juki.security.actions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from juki.core.errors import NotFoundError, StateConflictError
from juki.core.text import validate_free_text
from juki.registry.tables import correction_requests
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission
from juki.security.uow import SqlUnitOfWork

REASON_MAX: Final = 400
OPEN: Final = "open"
c = correction_requests.c


@dataclass(frozen=True, slots=True)
class CorrectionRequest:
    request_id: str
    filed_at: str
    resident_code: str
    text: str
    status: str  # open | accepted | rejected | done (handled before the decisions were kept)
    handled_at: str | None = None
    decision_reason: str | None = None
    change_id: str | None = None


def _of(row: Any) -> CorrectionRequest:
    return CorrectionRequest(
        row.request_id,
        _stamp(row.filed_at),
        row.resident_code,
        row.text,
        row.status,
        None if row.handled_at is None else _stamp(row.handled_at),
        row.decision_reason,
        row.change_id,
    )


def _stamp(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def open_requests(uow: SqlUnitOfWork, by: Actor, limit: int = 200) -> list[CorrectionRequest]:
    """The open requests, oldest first."""

    def run(u: SqlUnitOfWork) -> list[CorrectionRequest]:
        rows = u.connection.execute(
            sa.select(correction_requests)
            .where(c.status == OPEN)
            .order_by(c.filed_at, c.request_id)
            .limit(limit)
        )
        return [_of(r) for r in rows]

    return perform(uow, by, Permission.VIEW_RECORD, "correction_requests", run,
                   describe=lambda rows: f"{len(rows)} open")  # fmt: skip


def _one(u: SqlUnitOfWork, request_id: str) -> CorrectionRequest:
    row = u.connection.execute(
        sa.select(correction_requests).where(c.request_id == request_id)
    ).first()
    if row is None:
        raise NotFoundError("correction request", request_id[:43])
    return _of(row)


def get_request(uow: SqlUnitOfWork, by: Actor, request_id: str) -> CorrectionRequest:
    """One request, opened to decide it."""
    return perform(uow, by, Permission.VIEW_RECORD, f"correction_request:{request_id[:43]}",
                   lambda u: _one(u, request_id),
                   describe=lambda r: f"resident_code:{r.resident_code}")  # fmt: skip


def _decide(
    uow: SqlUnitOfWork,
    by: Actor,
    request_id: str,
    status: str,
    reason: str | None,
    change_id: str | None,
) -> CorrectionRequest:
    def run(u: SqlUnitOfWork) -> CorrectionRequest:
        if _one(u, request_id).status != OPEN:
            raise StateConflictError(
                "already_decided",
                "this correction request was already decided",
                "この訂正の申出は処理済みです",
            )
        now: datetime = u.clock.now()
        u.connection.execute(
            correction_requests.update()
            .where(c.request_id == request_id)
            .values(
                status=status,
                handled_at=now.isoformat(),
                handled_by=by.actor_id,
                decision_reason=reason,
                change_id=change_id,
            )
        )
        return _one(u, request_id)

    return perform(uow, by, Permission.DECIDE_CORRECTION_REQUEST,
                   f"correction_request:{request_id[:43]}", run,
                   describe=lambda r: f"{status} resident_code:{r.resident_code}")  # fmt: skip


def reject_request(
    uow: SqlUnitOfWork, by: Actor, request_id: str, reason: str
) -> CorrectionRequest:
    """Rejected, with the reason the resident will read (1–400 characters, their language)."""
    text = validate_free_text("reason", reason, REASON_MAX, "理由")
    return _decide(uow, by, request_id, "rejected", text, None)


def accept_request(
    uow: SqlUnitOfWork, by: Actor, request_id: str, change_id: str | None
) -> CorrectionRequest:
    """Accepted: the change was filed (`change_id`, the provisional change; None when the
    municipality applies changes without review)."""
    return _decide(uow, by, request_id, "accepted", None, change_id)


def for_resident(conn: sa.Connection, resident_code: str, limit: int) -> list[CorrectionRequest]:
    """The resident's own requests, newest first, with each decision (the portal's view;
    the caller's disclosure is the logged action)."""
    rows = conn.execute(
        sa.select(correction_requests)
        .where(c.resident_code == resident_code)
        .order_by(c.filed_at.desc(), c.request_id)
        .limit(limit)
    )
    return [_of(r) for r in rows]
