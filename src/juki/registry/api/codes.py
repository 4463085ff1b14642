"""住民票コードの変更請求 over HTTP (住民基本台帳法第30条の4): the clerk files the resident's
request. Reviewed like any change (202 with the provisional change: no new code, no notice, no
`resident_code_changed` until another supervisor approves it; the notice is then printed from
`/provisional-changes/{id}/resident-code-notice`); applied at once when the municipality does
not review changes (201 with the record, its new code and the 住民票コード通知)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from juki.registry.api.deps import API_PREFIX, UoW
from juki.registry.api.review import FILED_RESPONSES, filed
from juki.registry.api.schemas import Note, RecordId, ResidentRecordOut
from juki.registry.api.schemas import Request as Body
from juki.registry.commands import ChangeResidentCode
from juki.registry.services.codes import ResidentCodeChange, change_resident_code
from juki.security.permissions import Role
from juki.web.auth import OperatorActor
from juki.web.errors import WRITE_RESPONSES


class ResidentCodeChangeIn(Body):
    """The request, as the resident made it in writing: whose record, why, and when."""

    record_id: RecordId
    reason: Note
    requested_on: date


class ResidentCodeChangeOut(BaseModel):
    record: ResidentRecordOut
    former_resident_code: str  # retired: never issued again
    resident_code: str
    notice_text_ja: str  # 住民票コード通知 (法第30条の4第3項), to print and hand over


def _out(change: ResidentCodeChange, role: Role) -> ResidentCodeChangeOut:
    return ResidentCodeChangeOut(
        record=ResidentRecordOut.of(change.record, role),
        former_resident_code=change.former_resident_code,
        resident_code=change.record.resident_code,
        notice_text_ja=change.notice.text_ja,
    )


def resident_code_change(
    request: Request, by: OperatorActor, uow: UoW, body: ResidentCodeChangeIn
) -> ResidentCodeChangeOut | JSONResponse:
    """住民票コードの変更請求: a new random code; the old one is retired for good."""
    cmd = ChangeResidentCode(
        record_id=body.record_id, reason=body.reason, requested_on=body.requested_on
    )
    kind = "resident-code-change"
    return filed(request, by, uow, kind, cmd, _out, apply=change_resident_code)


def code_router() -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/events", tags=["events"], responses=WRITE_RESPONSES)
    router.add_api_route(
        "/resident-code-change",
        resident_code_change,
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        response_model=ResidentCodeChangeOut,
        responses=FILED_RESPONSES,
    )
    return router
