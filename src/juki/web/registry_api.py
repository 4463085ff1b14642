"""The registry's JSON API for terminals: search and read records, file life events, seals.

Routes only translate: a request model becomes a command dataclass (in one place per route),
the service authorises, changes, logs and commits, and its result becomes a response model.
Services are synchronous, so routes are plain `def` and run in FastAPI's threadpool; each
request gets its own unit of work.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, status
from fastapi.responses import JSONResponse

from juki.certificates.ports import ContentSource
from juki.certificates.web import install_certificates
from juki.core.clock import Clock, SystemClock
from juki.core.errors import JukiError, NotFoundError
from juki.registry import services
from juki.registry.commands import (
    AbolishSeal,
    AssignMyNumber,
    ChangeHouseholder,
    ChangeName,
    ConfirmMoveOut,
    CorrectByAuthority,
    EnterByAuthority,
    ForeignItems,
    JoinHousehold,
    MergeHouseholds,
    NewHousehold,
    PersonalItems,
    Placement,
    RecordBirth,
    RecordDeath,
    RecordMoveIn,
    RecordMoveOut,
    RecordRelocation,
    RegisterSeal,
    RemoveByAuthority,
    SplitHousehold,
)
from juki.registry.model import ResidentRecord
from juki.registry.ports import SearchQuery
from juki.settings import Settings
from juki.storage.registry_store import load_municipality
from juki.storage.uow import SqlUnitOfWork
from juki.web.auth import PUBLIC, OperatorActor
from juki.web.errors import (
    READ_RESPONSES,
    WRITE_RESPONSES,
    install_error_handlers,
    renamed_fields,
)
from juki.web.schemas import (
    BirthIn,
    CorrectionByAuthorityIn,
    DeathIn,
    EntryByAuthorityIn,
    HealthOut,
    HouseholderChangeIn,
    HouseholdMergeIn,
    HouseholdOut,
    HouseholdSplitIn,
    MoveInIn,
    MoveOutConfirmationIn,
    MoveOutIn,
    MyNumberAssignmentIn,
    NameChangeIn,
    NewHouseholdIn,
    PersonalItemsIn,
    PlacementIn,
    RecordedChangeOut,
    RelocationIn,
    RemovalByAuthorityIn,
    ResidentRecordOut,
    ResidentSummaryOut,
    SealAbolitionIn,
    SealDetailOut,
    SealRegistrationIn,
    SealRegistrationOut,
    StatsOut,
    decode_base64,
)

API_PREFIX = "/api/v1"

DESCRIPTION = """\
The municipal resident registry (住民基本台帳) of one municipality, for counter terminals:
search and read resident records, households and their change history; file life events
(birth, death, move-in, move-out, relocation, household changes, actions by authority);
register and abolish seals.

Every call but `/health` needs an operator's bearer token; an optional `X-Juki-Terminal`
header names the terminal. Every authenticated, well-formed call is written to the operation
log, whether the registry allowed, refused or rejected it. Errors: 422 uses FastAPI's
validation shape (`loc` = where the field is in the request, `type` = rule, `msg`) plus
`msg_ja`; 401/403/404/409 return `detail`, `type` and `msg_ja`.

**概要（日本語）**: 住民基本台帳の統合端末向けAPIです。住民票・世帯・異動履歴の検索と照会、
出生・死亡・転入・転出・転居・世帯変更・職権記載等の異動届の記録、印鑑登録と廃止を行います。
`/health` 以外は操作者の認証（Bearerトークン）が必要です。
操作は拒否されたものも含め操作履歴に記録されます。
入力誤りは項目名と規則名を付けて返し、何も変更しません。
"""

TAGS = [
    {"name": "health", "description": "Liveness for load balancers (死活監視)."},
    {"name": "residents", "description": "Search and read resident records (住民票の検索・照会)."},
    {"name": "households", "description": "Households and their members (世帯)."},
    {"name": "stats", "description": "Registry counts (統計)."},
    {"name": "events", "description": "Life events and actions by authority (異動届・職権)."},
    {"name": "seals", "description": "Seal registration (印鑑登録)."},
]

RecordIdPath = Annotated[str, Path(min_length=1, max_length=36)]
SealNumberPath = Annotated[str, Path(pattern=r"^[0-9]{1,16}$")]


# Domain field names → where the field sits in the request body (see `renamed_fields`).
_PERSON: Final = {
    name: f"person.{name}"
    for name in (
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
        "honseki",
        "koseki_head",
        "former_surname",
        "former_surname_kana",
    )
}
_FOREIGN: Final = {
    "foreign_category": "person.foreign.category",
    **{
        name: f"person.foreign.{name}"
        for name in (
            "nationality",
            "residence_status",
            "period_of_stay",
            "residence_card_number",
            "alias_name",
            "alias_name_kana",
        )
    },
}
BIRTH_FIELDS: Final = {**_PERSON, **_FOREIGN, "effective_on": "person.birth_date"}
MOVE_IN_FIELDS: Final = {**_PERSON, **_FOREIGN, "effective_on": "moved_on"}
ENTRY_FIELDS: Final = {**_PERSON, **_FOREIGN, "effective_on": "resident_since"}
DEATH_FIELDS: Final = {"effective_on": "died_on"}
RELOCATION_FIELDS: Final = {"effective_on": "moved_on"}
REMOVAL_FIELDS: Final = {"effective_on": "removed_on"}
SEAL_FIELDS: Final = {"image_png": "image_png_base64"}


def new_uow(request: Request) -> SqlUnitOfWork:
    """A fresh unit of work per request; the service opens and commits its transaction."""
    return SqlUnitOfWork(request.app.state.engine, clock=request.app.state.clock)


UoW = Annotated[SqlUnitOfWork, Depends(new_uow)]


# -- request → command ----------------------------------------------------------------------


def _person(p: PersonalItemsIn) -> PersonalItems:
    f = p.foreign
    return PersonalItems(
        family_name=p.family_name,
        given_name=p.given_name,
        family_name_kana=p.family_name_kana,
        given_name_kana=p.given_name_kana,
        birth_date=p.birth_date,
        sex=p.sex,
        honseki=p.honseki,
        koseki_head=p.koseki_head,
        former_surname=p.former_surname,
        former_surname_kana=p.former_surname_kana,
        foreign=None
        if f is None
        else ForeignItems(
            nationality=f.nationality,
            category=f.category,
            residence_status=f.residence_status,
            period_of_stay=f.period_of_stay,
            stay_expiry=f.stay_expiry,
            residence_card_number=f.residence_card_number,
            alias_name=f.alias_name,
            alias_name_kana=f.alias_name_kana,
        ),
    )


def _placement(p: PlacementIn) -> Placement:
    if isinstance(p, NewHouseholdIn):
        return NewHousehold()
    return JoinHousehold(household_id=p.household_id, relationship=p.relationship)


def _records(records: list[ResidentRecord]) -> list[ResidentRecordOut]:
    return [ResidentRecordOut.of(r) for r in records]


# -- routes ---------------------------------------------------------------------------------


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(
        "/health",
        dependencies=[PUBLIC],
        response_model=HealthOut,
        responses={503: {"description": "The database is unreachable", "model": HealthOut}},
    )
    def health(request: Request) -> HealthOut | JSONResponse:
        """Is the registry database reachable, and which municipality is this?"""
        try:
            with request.app.state.engine.connect() as conn:
                lg_code = load_municipality(conn).lg_code
        except (JukiError, sa.exc.SQLAlchemyError):
            body = HealthOut(status="unavailable", lg_code=None).model_dump()
            return JSONResponse(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, content=body)
        return HealthOut(status="ok", lg_code=lg_code)

    return router


def _read_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, responses=READ_RESPONSES)

    @router.get("/residents", tags=["residents"], response_model=list[ResidentSummaryOut])
    def search_residents(
        by: OperatorActor,
        uow: UoW,
        name_kana: Annotated[
            str | None, Query(max_length=128, description="Reading; hiragana or katakana")
        ] = None,
        name: Annotated[str | None, Query(max_length=128, description="Name prefix")] = None,
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
        return [ResidentSummaryOut.of(r) for r in services.search_records(uow, by, query)]

    @router.get("/residents/{record_id}", tags=["residents"], response_model=ResidentRecordOut)
    def get_resident(by: OperatorActor, uow: UoW, record_id: RecordIdPath) -> ResidentRecordOut:
        """One resident record (住民票), removed ones (除票) included."""
        return ResidentRecordOut.of(services.get_record(uow, by, record_id))

    @router.get(
        "/residents/{record_id}/history",
        tags=["residents"],
        response_model=list[RecordedChangeOut],
    )
    def get_history(
        by: OperatorActor, uow: UoW, record_id: RecordIdPath
    ) -> list[RecordedChangeOut]:
        """Every change (異動) of the record, oldest first."""
        return [RecordedChangeOut.of(c) for c in services.record_history(uow, by, record_id)]

    @router.get("/residents/{record_id}/seal", tags=["seals"], response_model=SealDetailOut)
    def get_live_seal(by: OperatorActor, uow: UoW, record_id: RecordIdPath) -> SealDetailOut:
        """The resident's live seal registration with its impression; 404 when there is none."""
        seal = services.live_seal(uow, by, record_id)
        if seal is None:
            raise NotFoundError("seal_registration", f"record:{record_id}")
        return SealDetailOut.of(seal)

    @router.get("/households/{household_id}", tags=["households"], response_model=HouseholdOut)
    def get_household(by: OperatorActor, uow: UoW, household_id: RecordIdPath) -> HouseholdOut:
        """A household and its active members, householder first."""
        household, members = services.household_view(uow, by, household_id)
        return HouseholdOut.of(household, list(members))

    @router.get("/stats", tags=["stats"], response_model=StatsOut)
    def get_stats(by: OperatorActor, uow: UoW) -> StatsOut:
        """Counts of residents, households and removed records."""
        return StatsOut.model_validate(dict(services.registry_stats(uow, by)))

    return router


def _event_router() -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/events", tags=["events"], responses=WRITE_RESPONSES)
    created = status.HTTP_201_CREATED

    @router.post("/birth", status_code=created, response_model=ResidentRecordOut)
    def birth(by: OperatorActor, uow: UoW, body: BirthIn) -> ResidentRecordOut:
        """出生: a newborn joins an existing household."""
        cmd = RecordBirth(
            person=_person(body.person),
            household_id=body.household_id,
            relationship=body.relationship,
            notified_on=body.notified_on,
        )
        with renamed_fields(BIRTH_FIELDS):
            return ResidentRecordOut.of(services.record_birth(uow, by, cmd))

    @router.post("/death", status_code=created, response_model=ResidentRecordOut)
    def death(by: OperatorActor, uow: UoW, body: DeathIn) -> ResidentRecordOut:
        """死亡: the record is removed; a sole remaining member becomes householder."""
        cmd = RecordDeath(
            record_id=body.record_id,
            died_on=body.died_on,
            notified_on=body.notified_on,
            new_householder_id=body.new_householder_id,
            relationships=body.relationships,
        )
        with renamed_fields(DEATH_FIELDS):
            return ResidentRecordOut.of(services.record_death(uow, by, cmd))

    @router.post("/move-in", status_code=created, response_model=ResidentRecordOut)
    def move_in(by: OperatorActor, uow: UoW, body: MoveInIn) -> ResidentRecordOut:
        """転入 / 転入届の特例 / 国外転入."""
        cmd = RecordMoveIn(
            person=_person(body.person),
            origin=body.origin,
            address=body.address,
            moved_on=body.moved_on,
            notified_on=body.notified_on,
            previous_address=body.previous_address,
            placement=_placement(body.placement),
            resident_code=body.resident_code,
            my_number=body.my_number,
            move_out_certificate_number=body.move_out_certificate_number,
            previous_lg_code=body.previous_lg_code,
        )
        with renamed_fields(MOVE_IN_FIELDS):
            return ResidentRecordOut.of(services.record_move_in(uow, by, cmd))

    @router.post("/move-out", status_code=created, response_model=list[ResidentRecordOut])
    def move_out(by: OperatorActor, uow: UoW, body: MoveOutIn) -> list[ResidentRecordOut]:
        """転出 / 国外転出: the records are removed as of the planned date."""
        cmd = RecordMoveOut(
            record_ids=tuple(body.record_ids),
            destination_address=body.destination_address,
            planned_on=body.planned_on,
            notified_on=body.notified_on,
            abroad=body.abroad,
            new_householder_id=body.new_householder_id,
            relationships=body.relationships,
            destination_lg_code=body.destination_lg_code,
            card=body.card,
        )
        return _records(services.record_move_out(uow, by, cmd))

    @router.post("/move-out-confirmation", status_code=created, response_model=ResidentRecordOut)
    def move_out_confirmation(
        by: OperatorActor, uow: UoW, body: MoveOutConfirmationIn
    ) -> ResidentRecordOut:
        """転出確定: record where a moved-out resident arrived."""
        cmd = ConfirmMoveOut(
            resident_code=body.resident_code,
            confirmed_address=body.confirmed_address,
            confirmed_on=body.confirmed_on,
            notified_on=body.notified_on,
        )
        return ResidentRecordOut.of(services.confirm_move_out(uow, by, cmd))

    @router.post("/relocation", status_code=created, response_model=list[ResidentRecordOut])
    def relocation(by: OperatorActor, uow: UoW, body: RelocationIn) -> list[ResidentRecordOut]:
        """転居 within the municipality, of a whole household or part of one."""
        cmd = RecordRelocation(
            record_ids=tuple(body.record_ids),
            new_address=body.new_address,
            moved_on=body.moved_on,
            notified_on=body.notified_on,
            new_householder_id=body.new_householder_id,
            join_household_id=body.join_household_id,
            remaining_householder_id=body.remaining_householder_id,
            relationships=body.relationships,
        )
        with renamed_fields(RELOCATION_FIELDS):
            return _records(services.record_relocation(uow, by, cmd))

    @router.post("/household-split", status_code=created, response_model=list[ResidentRecordOut])
    def household_split(
        by: OperatorActor, uow: UoW, body: HouseholdSplitIn
    ) -> list[ResidentRecordOut]:
        """世帯分離."""
        cmd = SplitHousehold(
            record_ids=tuple(body.record_ids),
            new_householder_id=body.new_householder_id,
            relationships=body.relationships,
            effective_on=body.effective_on,
            notified_on=body.notified_on,
            remaining_householder_id=body.remaining_householder_id,
        )
        return _records(services.split_household(uow, by, cmd))

    @router.post("/household-merge", status_code=created, response_model=list[ResidentRecordOut])
    def household_merge(
        by: OperatorActor, uow: UoW, body: HouseholdMergeIn
    ) -> list[ResidentRecordOut]:
        """世帯合併."""
        cmd = MergeHouseholds(
            from_household_id=body.from_household_id,
            into_household_id=body.into_household_id,
            relationships=body.relationships,
            effective_on=body.effective_on,
            notified_on=body.notified_on,
        )
        return _records(services.merge_households(uow, by, cmd))

    @router.post("/householder-change", status_code=created, response_model=list[ResidentRecordOut])
    def householder_change(
        by: OperatorActor, uow: UoW, body: HouseholderChangeIn
    ) -> list[ResidentRecordOut]:
        """世帯主変更."""
        cmd = ChangeHouseholder(
            household_id=body.household_id,
            new_householder_id=body.new_householder_id,
            relationships=body.relationships,
            effective_on=body.effective_on,
            notified_on=body.notified_on,
        )
        return _records(services.change_householder(uow, by, cmd))

    @router.post("/name-change", status_code=created, response_model=ResidentRecordOut)
    def name_change(by: OperatorActor, uow: UoW, body: NameChangeIn) -> ResidentRecordOut:
        """氏名の変更."""
        cmd = ChangeName(
            record_id=body.record_id,
            family_name=body.family_name,
            given_name=body.given_name,
            family_name_kana=body.family_name_kana,
            given_name_kana=body.given_name_kana,
            effective_on=body.effective_on,
            notified_on=body.notified_on,
            former_surname=body.former_surname,
            former_surname_kana=body.former_surname_kana,
        )
        return ResidentRecordOut.of(services.change_name(uow, by, cmd))

    @router.post("/entry-by-authority", status_code=created, response_model=ResidentRecordOut)
    def entry_by_authority(
        by: OperatorActor, uow: UoW, body: EntryByAuthorityIn
    ) -> ResidentRecordOut:
        """職権記載 (registry supervisors only)."""
        cmd = EnterByAuthority(
            person=_person(body.person),
            address=body.address,
            resident_since=body.resident_since,
            placement=_placement(body.placement),
            note=body.note,
            resident_code=body.resident_code,
            my_number=body.my_number,
        )
        with renamed_fields(ENTRY_FIELDS):
            return ResidentRecordOut.of(services.enter_by_authority(uow, by, cmd))

    @router.post("/correction-by-authority", status_code=created, response_model=ResidentRecordOut)
    def correction_by_authority(
        by: OperatorActor, uow: UoW, body: CorrectionByAuthorityIn
    ) -> ResidentRecordOut:
        """職権修正 (registry supervisors only)."""
        cmd = CorrectByAuthority(
            record_id=body.record_id,
            fields=body.fields,
            effective_on=body.effective_on,
            note=body.note,
        )
        return ResidentRecordOut.of(services.correct_by_authority(uow, by, cmd))

    @router.post("/removal-by-authority", status_code=created, response_model=ResidentRecordOut)
    def removal_by_authority(
        by: OperatorActor, uow: UoW, body: RemovalByAuthorityIn
    ) -> ResidentRecordOut:
        """職権消除 (registry supervisors only)."""
        cmd = RemoveByAuthority(
            record_id=body.record_id,
            removed_on=body.removed_on,
            note=body.note,
            new_householder_id=body.new_householder_id,
            relationships=body.relationships,
        )
        with renamed_fields(REMOVAL_FIELDS):
            return ResidentRecordOut.of(services.remove_by_authority(uow, by, cmd))

    @router.post("/my-number-assignment", status_code=created, response_model=ResidentRecordOut)
    def my_number_assignment(
        by: OperatorActor, uow: UoW, body: MyNumberAssignmentIn
    ) -> ResidentRecordOut:
        """個人番号の指定: record the number the national node generated."""
        cmd = AssignMyNumber(record_id=body.record_id, my_number=body.my_number)
        return ResidentRecordOut.of(services.assign_my_number(uow, by, cmd))

    return router


def _seal_router() -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/seals", tags=["seals"], responses=WRITE_RESPONSES)

    @router.post("", status_code=status.HTTP_201_CREATED, response_model=SealRegistrationOut)
    def register_seal(by: OperatorActor, uow: UoW, body: SealRegistrationIn) -> SealRegistrationOut:
        """印鑑登録: one live seal per resident aged 15 or over; the impression is a PNG."""
        cmd = RegisterSeal(
            record_id=body.record_id,
            image_png=decode_base64(body.image_png_base64),
            registered_on=body.registered_on,
        )
        with renamed_fields(SEAL_FIELDS):
            return SealRegistrationOut.of(services.register_seal(uow, by, cmd))

    @router.post("/{registration_number}/abolition", response_model=SealRegistrationOut)
    def abolish_seal(
        by: OperatorActor,
        uow: UoW,
        registration_number: SealNumberPath,
        body: SealAbolitionIn,
    ) -> SealRegistrationOut:
        """印鑑登録の廃止."""
        cmd = AbolishSeal(
            registration_number=registration_number,
            abolished_on=body.abolished_on,
            reason=body.reason,
        )
        return SealRegistrationOut.of(services.abolish_seal(uow, by, cmd))

    return router


def create_registry_app(
    engine: sa.Engine,
    *,
    clock: Clock | None = None,
    wide_area: ContentSource | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """Build the registry API around an engine; tests and the node wiring pass their own clock.

    A municipality node passes its CS as `wide_area` (広域交付 asks home municipalities through
    it) and its own `settings` (the network-issued signing key); otherwise they come from the
    environment."""
    app = FastAPI(
        title="juki registry API",
        description=DESCRIPTION,
        version="1",
        openapi_tags=TAGS,
    )
    app.state.engine = engine
    app.state.clock = clock or SystemClock()
    install_error_handlers(app)
    app.include_router(_health_router())
    app.include_router(_read_router())
    app.include_router(_event_router())
    app.include_router(_seal_router())
    install_certificates(app, wide_area=wide_area, settings=settings)
    return app
