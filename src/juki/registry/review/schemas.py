"""A provisional change as it is shown outside: one shape for the API's answers and the command
line's JSON (which leaves out `targets`, as it always has)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from juki.registry.review.kinds import kind_ja
from juki.registry.review.model import ChangeStatus, ProvisionalChange


class ProvisionalChangeOut(BaseModel):
    """A provisional change (仮登録) and its decision; not applied unless `approved`."""

    change_id: str
    kind: str
    kind_ja: str
    summary: str
    status: ChangeStatus
    status_ja: str
    clerk_id: str
    terminal_id: str
    entered_at: datetime
    targets: list[str]
    reviewer_id: str | None
    reviewed_at: datetime | None
    reason: str = Field(description="why it was rejected or expired")
    records: list[str] = Field(description="the records the 本登録 wrote (approved only)")

    @classmethod
    def of(cls, c: ProvisionalChange) -> ProvisionalChangeOut:
        return cls(
            change_id=c.change_id,
            kind=c.kind,
            kind_ja=kind_ja(c.kind),
            summary=c.summary,
            status=c.status,
            status_ja=c.status_ja,
            clerk_id=c.clerk_id,
            terminal_id=c.terminal_id,
            entered_at=c.entered_at,
            targets=list(c.targets),
            reviewer_id=c.reviewer_id,
            reviewed_at=c.reviewed_at,
            reason=c.reason,
            records=list(c.records),
        )


def change_json(c: ProvisionalChange) -> dict[str, Any]:
    """The command line's JSON of a change: the API's shape but `targets`, times as ISO 8601."""
    out = ProvisionalChangeOut.of(c).model_dump(exclude={"targets"})
    out["status"] = c.status.value
    out["entered_at"] = c.entered_at.isoformat()
    out["reviewed_at"] = c.reviewed_at.isoformat() if c.reviewed_at else None
    return out
