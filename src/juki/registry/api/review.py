"""仮登録 → 本登録 over HTTP: the review list, one provisional change, its approval, rejection
and withdrawal; and `filed`, through which every event route enters its change provisionally
when the municipality reviews changes (202 with the provisional change) or applies it at once
when it does not (201 with the records)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from juki.registry.api.deps import API_PREFIX, UoW
from juki.registry.api.schemas import Request as Body
from juki.registry.review import services as review
from juki.registry.review.kinds import KINDS, visible_command
from juki.registry.review.model import ChangeStatus, LockHolder, ProvisionalChange, ReviewPolicy
from juki.registry.review.schemas import ProvisionalChangeOut
from juki.security.actors import Actor
from juki.security.operators import token_sha256
from juki.security.permissions import Role
from juki.web.auth import OperatorActor
from juki.web.errors import READ_RESPONSES, WRITE_RESPONSES, renamed_fields

T = TypeVar("T")
ChangeIdPath = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]
StatusFilter = Literal["pending", "approved", "rejected", "withdrawn", "expired", "all"]


class ProvisionalChangeDetailOut(ProvisionalChangeOut):
    command: dict[str, Any] = Field(
        description="the change as entered; items the caller's role may not see are left out"
    )


class RejectionIn(Body):
    reason: Annotated[str, Field(max_length=500, description="却下の理由 (required)")]


def policy_of(request: Request) -> ReviewPolicy:
    """The municipality's review settings, set on the app from its Settings when it is built."""
    policy: ReviewPolicy = request.app.state.review_policy
    return policy


def token_holder(request: Request) -> LockHolder:
    """A lock taken over the API lives no longer than the bearer token it was taken with."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return LockHolder(token_sha256=token_sha256(token) if scheme.lower() == "bearer" else None)


def filed(
    request: Request,
    by: Actor,
    uow: UoW,
    kind: str,
    cmd: Any,
    out: Callable[[Any, Role], T],
    renames: Mapping[str, str] | None = None,
    apply: Callable[[Any, Actor, Any], Any] | None = None,
) -> T | JSONResponse:
    """Enter `cmd` as a provisional change (the municipality reviews changes: 202), else apply
    it now (`review.file_change`) and answer `out` of its result."""
    with renamed_fields(renames or {}):
        result = review.file_change(
            uow,
            by,
            KINDS[kind],
            cmd,
            policy=policy_of(request),
            holder=token_holder(request),
            apply=apply,
        )
    if not isinstance(result, ProvisionalChange):
        return out(result, by.role)
    body = ProvisionalChangeOut.of(result).model_dump(mode="json")
    return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED)


FILED_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    202: {
        "description": "Entered as a provisional change (仮登録): nothing is applied until a "
        "supervisor other than the operator approves it (`/provisional-changes/{id}/approval`)",
        "model": ProvisionalChangeOut,
    }
}


def list_changes(
    request: Request,
    by: OperatorActor,
    uow: UoW,
    state: Annotated[StatusFilter, Query(alias="status")] = "pending",
) -> list[ProvisionalChangeOut]:
    """The review list (審査待ち by default), oldest first. Changes left undecided longer than
    the municipality allows are expired first (`expired`, with the reason)."""
    wanted = None if state == "all" else ChangeStatus(state)
    found = review.list_changes(uow, by, wanted, policy=policy_of(request))
    return [ProvisionalChangeOut.of(c) for c in found]


def show_change(by: OperatorActor, uow: UoW, change_id: ChangeIdPath) -> ProvisionalChangeDetailOut:
    change = review.get_change(uow, by, change_id)
    return ProvisionalChangeDetailOut(
        **ProvisionalChangeOut.of(change).model_dump(), command=visible_command(change, by.role)
    )


def approve(
    request: Request, by: OperatorActor, uow: UoW, change_id: ChangeIdPath
) -> ProvisionalChangeOut:
    """本登録 (審査 only, never the operator who entered it): the change is applied now."""
    applied = review.approve_change(uow, by, change_id, policy=policy_of(request))
    return ProvisionalChangeOut.of(applied)


def reject(
    by: OperatorActor, uow: UoW, change_id: ChangeIdPath, body: RejectionIn
) -> ProvisionalChangeOut:
    """却下 with its reason: nothing is applied; the change and the reason are kept."""
    return ProvisionalChangeOut.of(review.reject_change(uow, by, change_id, body.reason))


def withdraw(by: OperatorActor, uow: UoW, change_id: ChangeIdPath) -> ProvisionalChangeOut:
    """取下げ by the operator who entered it, before review."""
    return ProvisionalChangeOut.of(review.withdraw_change(uow, by, change_id))


class ResidentCodeNoticeOut(BaseModel):
    change_id: str
    record_id: str
    resident_code: str
    notice_text_ja: str = Field(
        description="住民票コード通知 (法第30条の4第3項), to print and hand over or post"
    )


def resident_code_notice(
    by: OperatorActor, uow: UoW, change_id: ChangeIdPath
) -> ResidentCodeNoticeOut:
    """The 住民票コード通知 of an approved 住民票コードの変更 (409 before its 本登録)."""
    record_id, notice = review.resident_code_notice(uow, by, change_id)
    return ResidentCodeNoticeOut(
        change_id=change_id,
        record_id=record_id,
        resident_code=notice.resident_code,
        notice_text_ja=notice.text_ja,
    )


def review_router() -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/provisional-changes", tags=["review"])
    router.add_api_route("", list_changes, methods=["GET"], responses=READ_RESPONSES)
    router.add_api_route("/{change_id}", show_change, methods=["GET"], responses=READ_RESPONSES)
    router.add_api_route(
        "/{change_id}/resident-code-notice",
        resident_code_notice,
        methods=["GET"],
        responses=READ_RESPONSES,
    )
    for path, endpoint in (
        ("/{change_id}/approval", approve),
        ("/{change_id}/rejection", reject),
        ("/{change_id}/withdrawal", withdraw),
    ):
        router.add_api_route(path, endpoint, methods=["POST"], responses=WRITE_RESPONSES)
    return router
