"""Reading the registry: search, records, their history, households, seals and counts;
and the health probe. Reads are logged like changes (who looked at whom)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from juki.core.errors import JukiError, NotFoundError
from juki.registry import services
from juki.registry.api.deps import API_PREFIX, RecordIdPath, UoW
from juki.registry.api.schemas import (
    HealthOut,
    HouseholdOut,
    RecordedChangeOut,
    ResidentRecordOut,
    ResidentSummaryOut,
    SealDetailOut,
    StatsOut,
)
from juki.registry.ports import SearchQuery
from juki.registry.store.municipality import load_municipality
from juki.web.auth import PUBLIC, OperatorActor
from juki.web.errors import READ_RESPONSES
from juki.web.text import CleanStr


def health(request: Request) -> HealthOut | JSONResponse:
    """Is the registry database reachable, and which municipality is this?"""
    try:
        with request.app.state.engine.connect() as conn:
            lg_code = load_municipality(conn).lg_code
    except (JukiError, sa.exc.SQLAlchemyError):
        body = HealthOut(status="unavailable", lg_code=None).model_dump()
        return JSONResponse(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, content=body)
    return HealthOut(status="ok", lg_code=lg_code)


def search_residents(
    by: OperatorActor,
    uow: UoW,
    name_kana: Annotated[
        CleanStr | None, Query(max_length=128, description="Reading; hiragana or katakana")
    ] = None,
    name: Annotated[CleanStr | None, Query(max_length=128, description="Name prefix")] = None,
    birth_date: date | None = None,
    resident_code: Annotated[str | None, Query(pattern=r"^[0-9]{11}$")] = None,
    include_removed: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ResidentSummaryOut]:
    """Search by reading (kana-normalised prefix), name prefix, birth date or resident code."""
    query = SearchQuery(
        name_kana=name_kana or None,
        name=name or None,
        birth_date=birth_date,
        resident_code=resident_code,
        include_removed=include_removed,
        limit=limit,
    )
    return [ResidentSummaryOut.of(r, by.role) for r in services.search_records(uow, by, query)]


def get_resident(by: OperatorActor, uow: UoW, record_id: RecordIdPath) -> ResidentRecordOut:
    """One resident record (住民票), removed ones (除票) included."""
    return ResidentRecordOut.of(
        services.get_record(uow, by, record_id), by.role, my_number_logged=True
    )


def get_history(by: OperatorActor, uow: UoW, record_id: RecordIdPath) -> list[RecordedChangeOut]:
    """Every change (異動) of the record, oldest first."""
    changes = services.record_history(uow, by, record_id)
    return [RecordedChangeOut.of(c, by.role, my_number_logged=True) for c in changes]


def get_live_seal(by: OperatorActor, uow: UoW, record_id: RecordIdPath) -> SealDetailOut:
    """The resident's live seal registration with its impression; 404 when there is none."""
    seal = services.live_seal(uow, by, record_id)
    if seal is None:
        raise NotFoundError("seal_registration", f"record:{record_id}")
    return SealDetailOut.of(seal)


def get_household(by: OperatorActor, uow: UoW, household_id: RecordIdPath) -> HouseholdOut:
    """A household and its active members, householder first."""
    household, members = services.household_view(uow, by, household_id)
    return HouseholdOut.of(household, list(members), by.role)


def get_stats(by: OperatorActor, uow: UoW) -> StatsOut:
    """Counts of residents, households and removed records."""
    return StatsOut.model_validate(dict(services.registry_stats(uow, by)))


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])
    router.add_api_route(
        "/health",
        health,
        methods=["GET"],
        dependencies=[PUBLIC],
        response_model=HealthOut,
        responses={503: {"description": "The database is unreachable", "model": HealthOut}},
    )
    return router


def read_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, responses=READ_RESPONSES)
    router.add_api_route(
        "/residents",
        search_residents,
        methods=["GET"],
        tags=["residents"],
        response_model=list[ResidentSummaryOut],
    )
    router.add_api_route(
        "/residents/{record_id}",
        get_resident,
        methods=["GET"],
        tags=["residents"],
        response_model=ResidentRecordOut,
    )
    router.add_api_route(
        "/residents/{record_id}/history",
        get_history,
        methods=["GET"],
        tags=["residents"],
        response_model=list[RecordedChangeOut],
    )
    router.add_api_route(
        "/residents/{record_id}/seal",
        get_live_seal,
        methods=["GET"],
        tags=["seals"],
        response_model=SealDetailOut,
    )
    router.add_api_route(
        "/households/{household_id}",
        get_household,
        methods=["GET"],
        tags=["households"],
        response_model=HouseholdOut,
    )
    router.add_api_route(
        "/stats", get_stats, methods=["GET"], tags=["stats"], response_model=StatsOut
    )
    return router
