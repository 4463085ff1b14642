"""A foreign resident's 通称 over HTTP: 通称の記載 and 通称の削除 (令第30条の26), each kept in the
record's 通称 history (令第30条の27) by the service (`juki.registry.services.people`); a
provisional change (202) when the municipality reviews changes (ADR 0007)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from juki.registry.api.deps import API_PREFIX, UoW
from juki.registry.api.review import FILED_RESPONSES, filed
from juki.registry.api.schemas import Kana, Name, RecordId, ResidentRecordOut
from juki.registry.api.schemas import Request as Body
from juki.registry.commands import DeleteAlias, RecordAlias
from juki.web.auth import OperatorActor
from juki.web.errors import WRITE_RESPONSES


class AliasIn(Body):
    """通称の記載: the 通称 a foreign resident asks to have recorded, and its reading."""

    record_id: RecordId
    alias_name: Name
    alias_name_kana: Kana | None = None
    effective_on: date
    notified_on: date


class AliasDeletionIn(Body):
    """通称の削除: the recorded 通称 leaves the record (its history keeps it)."""

    record_id: RecordId
    effective_on: date
    notified_on: date


def alias(
    request: Request, by: OperatorActor, uow: UoW, body: AliasIn
) -> ResidentRecordOut | JSONResponse:
    """通称の記載 (外国人住民のみ)."""
    cmd = RecordAlias(
        record_id=body.record_id,
        alias_name=body.alias_name,
        alias_name_kana=body.alias_name_kana,
        effective_on=body.effective_on,
        notified_on=body.notified_on,
    )
    return filed(
        request,
        by,
        uow,
        "alias",
        cmd,
        ResidentRecordOut.of,
    )


def alias_deletion(
    request: Request, by: OperatorActor, uow: UoW, body: AliasDeletionIn
) -> ResidentRecordOut | JSONResponse:
    """通称の削除 (外国人住民のみ)."""
    cmd = DeleteAlias(
        record_id=body.record_id, effective_on=body.effective_on, notified_on=body.notified_on
    )
    return filed(
        request,
        by,
        uow,
        "alias-deletion",
        cmd,
        ResidentRecordOut.of,
    )


def alias_router() -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/events", tags=["events"], responses=WRITE_RESPONSES)
    for path, endpoint in (("/alias", alias), ("/alias-deletion", alias_deletion)):
        router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            status_code=status.HTTP_201_CREATED,
            response_model=ResidentRecordOut,
            responses=FILED_RESPONSES,
        )
    return router
