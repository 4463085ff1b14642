"""仮登録 → 本登録 over HTTP: the review list, one provisional change, its approval, rejection
and withdrawal; and `filed`, through which every event route enters its change provisionally
when the municipality reviews changes (202 with the provisional change) or applies it at once
when it does not (201 with the records)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Final, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from juki.registry.api.deps import API_PREFIX, UoW
from juki.registry.api.schemas import Request as Body
from juki.registry.review import services as review
from juki.registry.review.kinds import KINDS, command_json, without_items
from juki.registry.review.model import ChangeStatus, ProvisionalChange
from juki.security.actors import Actor
from juki.security.permissions import Role, hidden_items
from juki.web.auth import OperatorActor
from juki.web.errors import READ_RESPONSES, WRITE_RESPONSES, renamed_fields

T = TypeVar("T")
ChangeIdPath = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]
StatusFilter = Literal["pending", "approved", "rejected", "withdrawn", "all"]


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
    reason: str
    records: list[str] = Field(description="the records the 本登録 wrote (approved only)")

    @classmethod
    def of(cls, c: ProvisionalChange) -> ProvisionalChangeOut:
        return cls(
            change_id=c.change_id,
            kind=c.kind,
            kind_ja=c.kind_ja,
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


class ProvisionalChangeDetailOut(ProvisionalChangeOut):
    command: dict[str, Any] = Field(
        description="the change as entered; items the caller's role may not see are left out"
    )


class RejectionIn(Body):
    reason: Annotated[str, Field(max_length=500, description="却下の理由 (required)")]


def reviewing(request: Request) -> bool:
    return bool(getattr(request.app.state, "change_review", True))


def lock_minutes(request: Request) -> int:
    return int(getattr(request.app.state, "edit_lock_minutes", 30))


def filed(
    request: Request,
    by: Actor,
    uow: UoW,
    kind: str,
    cmd: Any,
    out: Callable[[Any, Role], T],
    renames: Mapping[str, str] | None = None,
) -> T | JSONResponse:
    """Enter `cmd` as a provisional change (the municipality reviews changes), else apply it
    now with the kind's own service (the one a 本登録 runs) and answer `out` of its result."""
    with renamed_fields(renames or {}):
        if not reviewing(request):
            return out(KINDS[kind].service(uow, by, cmd), by.role)
        change = review.enter_change(uow, by, KINDS[kind], cmd, lock_minutes=lock_minutes(request))
    body = ProvisionalChangeOut.of(change).model_dump(mode="json")
    return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED)


FILED_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    202: {
        "description": "Entered as a provisional change (仮登録): nothing is applied until a "
        "supervisor other than the operator approves it (`/provisional-changes/{id}/approval`)",
        "model": ProvisionalChangeOut,
    }
}


def list_changes(
    by: OperatorActor,
    uow: UoW,
    state: Annotated[StatusFilter, Query(alias="status")] = "pending",
) -> list[ProvisionalChangeOut]:
    """The review list (審査待ち by default), oldest first."""
    wanted = None if state == "all" else ChangeStatus(state)
    return [ProvisionalChangeOut.of(c) for c in review.list_changes(uow, by, wanted)]


def show_change(by: OperatorActor, uow: UoW, change_id: ChangeIdPath) -> ProvisionalChangeDetailOut:
    change = review.get_change(uow, by, change_id)
    command = without_items(command_json(change.command), hidden_items(by.role))
    return ProvisionalChangeDetailOut(
        **ProvisionalChangeOut.of(change).model_dump(), command=command
    )


def approve(by: OperatorActor, uow: UoW, change_id: ChangeIdPath) -> ProvisionalChangeOut:
    """本登録 (審査 only, never the operator who entered it): the change is applied now."""
    return ProvisionalChangeOut.of(review.approve_change(uow, by, change_id))


def reject(
    by: OperatorActor, uow: UoW, change_id: ChangeIdPath, body: RejectionIn
) -> ProvisionalChangeOut:
    """却下 with its reason: nothing is applied; the change and the reason are kept."""
    return ProvisionalChangeOut.of(review.reject_change(uow, by, change_id, body.reason))


def withdraw(by: OperatorActor, uow: UoW, change_id: ChangeIdPath) -> ProvisionalChangeOut:
    """取下げ by the operator who entered it, before review."""
    return ProvisionalChangeOut.of(review.withdraw_change(uow, by, change_id))


def review_router() -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/provisional-changes", tags=["review"])
    router.add_api_route("", list_changes, methods=["GET"], responses=READ_RESPONSES)
    router.add_api_route("/{change_id}", show_change, methods=["GET"], responses=READ_RESPONSES)
    for path, endpoint in (
        ("/{change_id}/approval", approve),
        ("/{change_id}/rejection", reject),
        ("/{change_id}/withdrawal", withdraw),
    ):
        router.add_api_route(path, endpoint, methods=["POST"], responses=WRITE_RESPONSES)
    return router
