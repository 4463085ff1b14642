"""支援措置 over HTTP: record, renew, release for a while, terminate, and read (supervisors);
whether a person is protected on a day (clerks). Bodies become commands here; the services
authorise, check, log and commit (`juki.registry.support.services`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from juki.registry.api.deps import API_PREFIX, RecordIdPath, UoW
from juki.registry.api.schemas import Address, Kana, Name, Note, RecordId, Request
from juki.registry.support import services
from juki.registry.support.commands import (
    RecordSupportMeasure,
    ReleaseSupportMeasure,
    RenewSupportMeasure,
    TerminateSupportMeasure,
)
from juki.registry.support.model import RestrainedParty, SupportKind, SupportMeasure
from juki.registry.support.rules import MAX_PROTECTED, MAX_RESTRAINED
from juki.web.auth import OperatorActor
from juki.web.errors import READ_RESPONSES, WRITE_RESPONSES
from juki.web.text import CleanStr

MeasureIdPath = Annotated[CleanStr, Path(min_length=1, max_length=36)]


class RestrainedPartyIn(Request):
    """加害者: the name is required; the rest as far as known (the address may be anywhere)."""

    family_name: Name
    given_name: Name
    name_kana: Kana | None = None
    birth_date: date | None = None
    address: Address | None = None
    relation: Annotated[str, Field(max_length=64)] | None = None


class SupportMeasureIn(Request):
    """支援措置の申出 and its decision (the period starts on `starts_on`, today if omitted)."""

    kind: SupportKind
    requested_on: date
    record_ids: Annotated[list[RecordId], Field(min_length=1, max_length=MAX_PROTECTED)]
    restrained: Annotated[list[RestrainedPartyIn], Field(min_length=1, max_length=MAX_RESTRAINED)]
    note: Note
    starts_on: date | None = None


class RenewalIn(Request):
    requested_on: date


class ReleaseIn(Request):
    released_from: date
    released_until: date
    purpose: Note
    requested_on: date


class TerminationIn(Request):
    terminated_on: date
    reason: Note


class PeriodOut(BaseModel):
    starts_on: date
    ends_on: date
    requested_on: date
    renewal: bool


class ReleaseOut(BaseModel):
    released_from: date
    released_until: date
    purpose: str
    requested_on: date


class RestrainedPartyOut(BaseModel):
    family_name: str
    given_name: str
    name_kana: str | None
    birth_date: date | None
    address: str | None
    relation: str | None


class SupportMeasureOut(BaseModel):
    measure_id: str
    kind: SupportKind
    kind_ja: str
    requested_on: date
    record_ids: list[str]
    restrained: list[RestrainedPartyOut]
    periods: list[PeriodOut]
    releases: list[ReleaseOut]
    terminated_on: date | None
    termination_reason: str | None
    last_day: date
    in_force_today: bool
    note: str

    @classmethod
    def of(cls, m: SupportMeasure, today: date) -> SupportMeasureOut:
        return cls(
            measure_id=m.measure_id,
            kind=m.kind,
            kind_ja=m.kind.label_ja,
            requested_on=m.requested_on,
            record_ids=list(m.protected),
            restrained=[
                RestrainedPartyOut(
                    family_name=p.family_name,
                    given_name=p.given_name,
                    name_kana=p.name_kana,
                    birth_date=p.birth_date,
                    address=p.address,
                    relation=p.relation,
                )
                for p in m.restrained
            ],
            periods=[
                PeriodOut(
                    starts_on=p.starts_on,
                    ends_on=p.ends_on,
                    requested_on=p.requested_on,
                    renewal=p.renewal,
                )
                for p in m.periods
            ],
            releases=[
                ReleaseOut(
                    released_from=r.released_from,
                    released_until=r.released_until,
                    purpose=r.purpose,
                    requested_on=r.requested_on,
                )
                for r in m.releases
            ],
            terminated_on=m.terminated_on,
            termination_reason=m.termination_reason,
            last_day=m.last_day,
            in_force_today=m.in_force(today),
            note=m.note,
        )


class ProtectionOut(BaseModel):
    """What a clerk may know before issuing: protected on the day or not, and until when."""

    record_id: str
    on: date
    protected: bool
    until: date | None


def record_measure(by: OperatorActor, uow: UoW, body: SupportMeasureIn) -> SupportMeasureOut:
    """支援措置の申出を受け、措置を開始する（管理者）."""
    cmd = RecordSupportMeasure(
        kind=body.kind,
        requested_on=body.requested_on,
        record_ids=tuple(body.record_ids),
        restrained=tuple(
            RestrainedParty(
                family_name=p.family_name,
                given_name=p.given_name,
                name_kana=p.name_kana,
                birth_date=p.birth_date,
                address=p.address,
                relation=p.relation,
            )
            for p in body.restrained
        ),
        note=body.note,
        starts_on=body.starts_on,
    )
    return SupportMeasureOut.of(services.record_support_measure(uow, by, cmd), uow.clock.today())


def renew_measure(
    by: OperatorActor, uow: UoW, measure_id: MeasureIdPath, body: RenewalIn
) -> SupportMeasureOut:
    """延長の申出: one more year from the day after the end (from one month before the end)."""
    cmd = RenewSupportMeasure(measure_id=measure_id, requested_on=body.requested_on)
    return SupportMeasureOut.of(services.renew_support_measure(uow, by, cmd), uow.clock.today())


def release_measure(
    by: OperatorActor, uow: UoW, measure_id: MeasureIdPath, body: ReleaseIn
) -> SupportMeasureOut:
    """一時的な解除: for a stated purpose and period within the measure's."""
    cmd = ReleaseSupportMeasure(
        measure_id=measure_id,
        released_from=body.released_from,
        released_until=body.released_until,
        purpose=body.purpose,
        requested_on=body.requested_on,
    )
    return SupportMeasureOut.of(services.release_support_measure(uow, by, cmd), uow.clock.today())


def terminate_measure(
    by: OperatorActor, uow: UoW, measure_id: MeasureIdPath, body: TerminationIn
) -> SupportMeasureOut:
    """支援措置の終了: not in force from `terminated_on` (today or later)."""
    cmd = TerminateSupportMeasure(
        measure_id=measure_id, terminated_on=body.terminated_on, reason=body.reason
    )
    return SupportMeasureOut.of(services.terminate_support_measure(uow, by, cmd), uow.clock.today())


def get_measure(by: OperatorActor, uow: UoW, measure_id: MeasureIdPath) -> SupportMeasureOut:
    """The whole measure, 加害者 included (管理者のみ)."""
    return SupportMeasureOut.of(services.support_measure(uow, by, measure_id), uow.clock.today())


def measures_of(by: OperatorActor, uow: UoW, record_id: RecordIdPath) -> list[SupportMeasureOut]:
    """Every measure that protects the person, past ones included (管理者のみ)."""
    today = uow.clock.today()
    return [
        SupportMeasureOut.of(m, today) for m in services.support_measures_of(uow, by, record_id)
    ]


def protection(
    by: OperatorActor,
    uow: UoW,
    record_id: RecordIdPath,
    on: Annotated[date | None, Query(description="The day asked; today if omitted")] = None,
) -> ProtectionOut:
    """支援措置の有無: whether the person is protected on the day (窓口担当者も可)."""
    p = services.protection(uow, by, record_id, on)
    return ProtectionOut(record_id=p.record_id, on=p.on, protected=p.protected, until=p.until)


def support_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, tags=["support-measures"])
    base = "/support-measures"
    router.add_api_route(
        base,
        record_measure,
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        response_model=SupportMeasureOut,
        responses=WRITE_RESPONSES,
    )
    for path, endpoint in (
        ("/renewal", renew_measure),
        ("/release", release_measure),
        ("/termination", terminate_measure),
    ):
        router.add_api_route(
            f"{base}/{{measure_id}}{path}",
            endpoint,
            methods=["POST"],
            response_model=SupportMeasureOut,
            responses=WRITE_RESPONSES,
        )
    router.add_api_route(
        f"{base}/{{measure_id}}",
        get_measure,
        methods=["GET"],
        response_model=SupportMeasureOut,
        responses=READ_RESPONSES,
    )
    router.add_api_route(
        "/residents/{record_id}/support-measures",
        measures_of,
        methods=["GET"],
        response_model=list[SupportMeasureOut],
        responses=READ_RESPONSES,
    )
    router.add_api_route(
        "/residents/{record_id}/protection",
        protection,
        methods=["GET"],
        response_model=ProtectionOut,
        responses=READ_RESPONSES,
    )
    return router
