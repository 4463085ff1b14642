"""Moves as filed, over HTTP: 転出取消 and 異動取消 (the body becomes a command, the service
authorises, restores the previous state as a new change, logs and commits:
`juki.registry.services.cancellation`), and a record read as of a day (ADR 0005)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from juki.registry import services
from juki.registry.api.deps import API_PREFIX, RecordIdPath, UoW
from juki.registry.api.requests import records_out
from juki.registry.api.review import FILED_RESPONSES, filed
from juki.registry.api.schemas import Note, RecordIds, ResidentRecordOut
from juki.registry.api.schemas import Request as Body
from juki.registry.commands import CancelChanges, WithdrawMoveOut
from juki.web.auth import OperatorActor
from juki.web.errors import READ_RESPONSES, WRITE_RESPONSES


class MoveOutWithdrawalIn(Body):
    """転出取消: the residents who filed a 転出届 stay; before its planned date."""

    record_ids: RecordIds
    reason: Note
    notified_on: date


class ChangeCancellationIn(Body):
    """異動取消 (職権): each record's latest change is undone; records changed together are
    cancelled together."""

    record_ids: RecordIds
    reason: Note


def move_out_withdrawal(
    request: Request, by: OperatorActor, uow: UoW, body: MoveOutWithdrawalIn
) -> list[ResidentRecordOut] | JSONResponse:
    """転出取消: the records are 住民票 again, as they were before the 転出届 (a provisional
    change, 202, when the municipality reviews changes)."""
    cmd = WithdrawMoveOut(
        record_ids=tuple(body.record_ids), reason=body.reason, notified_on=body.notified_on
    )
    return filed(
        request,
        by,
        uow,
        "move-out-withdrawal",
        cmd,
        records_out,
    )


def change_cancellation(
    request: Request, by: OperatorActor, uow: UoW, body: ChangeCancellationIn
) -> list[ResidentRecordOut] | JSONResponse:
    """異動取消 (registry supervisors only): the state before each record's latest change
    (a provisional change, 202, approved by another supervisor, when changes are reviewed)."""
    cmd = CancelChanges(record_ids=tuple(body.record_ids), reason=body.reason)
    return filed(
        request,
        by,
        uow,
        "change-cancellation",
        cmd,
        records_out,
    )


def resident_as_of(
    by: OperatorActor,
    uow: UoW,
    record_id: RecordIdPath,
    on: Annotated[date | None, Query(description="the day (today when left out)")] = None,
) -> ResidentRecordOut:
    """The record as it stands on a day: a filed 転出 is a 住民票 (`active`, with its 転出予定)
    until the planned date and a 除票 (`removed`) from it, or from the 転入通知's confirmation."""
    return ResidentRecordOut.of(
        services.record_as_of(uow, by, record_id, on), by.role, my_number_logged=True
    )


def cancellation_router() -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/events", tags=["events"], responses=WRITE_RESPONSES)
    for path, endpoint in (
        ("/move-out-withdrawal", move_out_withdrawal),
        ("/change-cancellation", change_cancellation),
    ):
        router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            status_code=status.HTTP_201_CREATED,
            response_model=list[ResidentRecordOut],
            responses=FILED_RESPONSES,
        )
    return router


def standing_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, tags=["residents"], responses=READ_RESPONSES)
    router.add_api_route(
        "/residents/{record_id}/as-of",
        resident_as_of,
        methods=["GET"],
        response_model=ResidentRecordOut,
    )
    return router
