"""住民票コードの変更請求 over HTTP (住民基本台帳法第30条の4): the clerk files the resident's
request; the answer carries the record with its new code and the 住民票コード通知 to print."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, status
from pydantic import BaseModel

from juki.registry.api.deps import API_PREFIX, UoW
from juki.registry.api.schemas import Note, RecordId, Request, ResidentRecordOut
from juki.registry.commands import ChangeResidentCode
from juki.registry.services.codes import change_resident_code
from juki.web.auth import OperatorActor
from juki.web.errors import WRITE_RESPONSES


class ResidentCodeChangeIn(Request):
    """The request, as the resident made it in writing: whose record, why, and when."""

    record_id: RecordId
    reason: Note
    requested_on: date


class ResidentCodeChangeOut(BaseModel):
    record: ResidentRecordOut
    former_resident_code: str  # retired: never issued again
    resident_code: str
    notice_text_ja: str  # 住民票コード通知 (法第30条の4第3項), to print and hand over


def resident_code_change(
    by: OperatorActor, uow: UoW, body: ResidentCodeChangeIn
) -> ResidentCodeChangeOut:
    """住民票コードの変更請求: a new random code; the old one is retired for good."""
    cmd = ChangeResidentCode(
        record_id=body.record_id, reason=body.reason, requested_on=body.requested_on
    )
    change = change_resident_code(uow, by, cmd)
    return ResidentCodeChangeOut(
        record=ResidentRecordOut.of(change.record, by.role),
        former_resident_code=change.former_resident_code,
        resident_code=change.record.resident_code,
        notice_text_ja=change.notice.text_ja,
    )


def code_router() -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/events", tags=["events"], responses=WRITE_RESPONSES)
    router.add_api_route(
        "/resident-code-change",
        resident_code_change,
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        response_model=ResidentCodeChangeOut,
    )
    return router
