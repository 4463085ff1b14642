"""Life events and actions by authority over HTTP: each route turns its body into a command
(`juki.registry.api.requests`) and the service authorises, changes, logs and commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from juki.registry import services
from juki.registry.api.deps import API_PREFIX, UoW
from juki.registry.api.requests import (
    BIRTH_FIELDS,
    DEATH_FIELDS,
    ENTRY_FIELDS,
    MOVE_IN_FIELDS,
    RELOCATION_FIELDS,
    REMOVAL_FIELDS,
    move_out_certificate,
    personal_items,
    placement,
    records_out,
)
from juki.registry.api.review import FILED_RESPONSES, filed
from juki.registry.api.schemas import (
    BirthIn,
    CorrectionByAuthorityIn,
    DeathIn,
    EntryByAuthorityIn,
    HouseholderChangeIn,
    HouseholdMergeIn,
    HouseholdSplitIn,
    MoveInIn,
    MoveOutConfirmationIn,
    MoveOutIn,
    MyNumberAssignmentIn,
    NameChangeIn,
    RelocationIn,
    RemovalByAuthorityIn,
    ResidentRecordOut,
)
from juki.registry.commands import (
    AssignMyNumber,
    ChangeHouseholder,
    ChangeName,
    ConfirmMoveOut,
    CorrectByAuthority,
    EnterByAuthority,
    MergeHouseholds,
    RecordBirth,
    RecordDeath,
    RecordMoveIn,
    RecordMoveOut,
    RecordRelocation,
    RemoveByAuthority,
    SplitHousehold,
)
from juki.web.auth import OperatorActor
from juki.web.errors import WRITE_RESPONSES


def birth(
    request: Request, by: OperatorActor, uow: UoW, body: BirthIn
) -> ResidentRecordOut | JSONResponse:
    """出生: a newborn joins an existing household."""
    cmd = RecordBirth(
        person=personal_items(body.person),
        household_id=body.household_id,
        relationship=body.relationship,
        notified_on=body.notified_on,
    )
    return filed(
        request,
        by,
        uow,
        "birth",
        cmd,
        ResidentRecordOut.of,
        BIRTH_FIELDS,
    )


def death(
    request: Request, by: OperatorActor, uow: UoW, body: DeathIn
) -> ResidentRecordOut | JSONResponse:
    """死亡: the record is removed; a sole remaining member becomes householder."""
    cmd = RecordDeath(
        record_id=body.record_id,
        died_on=body.died_on,
        notified_on=body.notified_on,
        new_householder_id=body.new_householder_id,
        relationships=body.relationships,
    )
    return filed(
        request,
        by,
        uow,
        "death",
        cmd,
        ResidentRecordOut.of,
        DEATH_FIELDS,
    )


def move_in(
    request: Request, by: OperatorActor, uow: UoW, body: MoveInIn
) -> ResidentRecordOut | JSONResponse:
    """転入 / 転入届の特例 / 国外転入."""
    cmd = RecordMoveIn(
        person=personal_items(body.person),
        origin=body.origin,
        address=body.address,
        moved_on=body.moved_on,
        notified_on=body.notified_on,
        previous_address=body.previous_address,
        placement=placement(body.placement),
        resident_code=body.resident_code,
        my_number=body.my_number,
        move_out_certificate_number=body.move_out_certificate_number,
        previous_lg_code=body.previous_lg_code,
        move_out_certificate=move_out_certificate(body.move_out_certificate),
    )
    return filed(
        request,
        by,
        uow,
        "move-in",
        cmd,
        ResidentRecordOut.of,
        MOVE_IN_FIELDS,
    )


def move_out(
    request: Request, by: OperatorActor, uow: UoW, body: MoveOutIn
) -> list[ResidentRecordOut] | JSONResponse:
    """転出 / 国外転出: the records stay 住民票 until the planned date, then are 除票."""
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
    return filed(
        request,
        by,
        uow,
        "move-out",
        cmd,
        records_out,
    )


def move_out_confirmation(
    request: Request, by: OperatorActor, uow: UoW, body: MoveOutConfirmationIn
) -> ResidentRecordOut | JSONResponse:
    """転出確定: record where a moved-out resident arrived."""
    cmd = ConfirmMoveOut(
        resident_code=body.resident_code,
        confirmed_address=body.confirmed_address,
        confirmed_on=body.confirmed_on,
        notified_on=body.notified_on,
    )
    return filed(
        request,
        by,
        uow,
        "move-out-confirmation",
        cmd,
        ResidentRecordOut.of,
    )


def relocation(
    request: Request, by: OperatorActor, uow: UoW, body: RelocationIn
) -> list[ResidentRecordOut] | JSONResponse:
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
    return filed(
        request,
        by,
        uow,
        "relocation",
        cmd,
        records_out,
        RELOCATION_FIELDS,
    )


def household_split(
    request: Request, by: OperatorActor, uow: UoW, body: HouseholdSplitIn
) -> list[ResidentRecordOut] | JSONResponse:
    """世帯分離."""
    cmd = SplitHousehold(
        record_ids=tuple(body.record_ids),
        new_householder_id=body.new_householder_id,
        relationships=body.relationships,
        effective_on=body.effective_on,
        notified_on=body.notified_on,
        remaining_householder_id=body.remaining_householder_id,
    )
    return filed(
        request,
        by,
        uow,
        "household-split",
        cmd,
        records_out,
    )


def household_merge(
    request: Request, by: OperatorActor, uow: UoW, body: HouseholdMergeIn
) -> list[ResidentRecordOut] | JSONResponse:
    """世帯合併."""
    cmd = MergeHouseholds(
        from_household_id=body.from_household_id,
        into_household_id=body.into_household_id,
        relationships=body.relationships,
        effective_on=body.effective_on,
        notified_on=body.notified_on,
    )
    return filed(
        request,
        by,
        uow,
        "household-merge",
        cmd,
        records_out,
    )


def householder_change(
    request: Request, by: OperatorActor, uow: UoW, body: HouseholderChangeIn
) -> list[ResidentRecordOut] | JSONResponse:
    """世帯主変更."""
    cmd = ChangeHouseholder(
        household_id=body.household_id,
        new_householder_id=body.new_householder_id,
        relationships=body.relationships,
        effective_on=body.effective_on,
        notified_on=body.notified_on,
    )
    return filed(
        request,
        by,
        uow,
        "householder-change",
        cmd,
        records_out,
    )


def name_change(
    request: Request, by: OperatorActor, uow: UoW, body: NameChangeIn
) -> ResidentRecordOut | JSONResponse:
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
    return filed(
        request,
        by,
        uow,
        "name-change",
        cmd,
        ResidentRecordOut.of,
    )


def entry_by_authority(
    request: Request, by: OperatorActor, uow: UoW, body: EntryByAuthorityIn
) -> ResidentRecordOut | JSONResponse:
    """職権記載 (registry supervisors only)."""
    cmd = EnterByAuthority(
        person=personal_items(body.person),
        address=body.address,
        resident_since=body.resident_since,
        placement=placement(body.placement),
        note=body.note,
        resident_code=body.resident_code,
        my_number=body.my_number,
    )
    return filed(
        request,
        by,
        uow,
        "entry-by-authority",
        cmd,
        ResidentRecordOut.of,
        ENTRY_FIELDS,
    )


def correction_by_authority(
    request: Request, by: OperatorActor, uow: UoW, body: CorrectionByAuthorityIn
) -> ResidentRecordOut | JSONResponse:
    """職権修正 (registry supervisors only)."""
    cmd = CorrectByAuthority(
        record_id=body.record_id,
        fields=body.fields,
        effective_on=body.effective_on,
        note=body.note,
    )
    return filed(
        request,
        by,
        uow,
        "correction-by-authority",
        cmd,
        ResidentRecordOut.of,
    )


def removal_by_authority(
    request: Request, by: OperatorActor, uow: UoW, body: RemovalByAuthorityIn
) -> ResidentRecordOut | JSONResponse:
    """職権消除 (registry supervisors only)."""
    cmd = RemoveByAuthority(
        record_id=body.record_id,
        removed_on=body.removed_on,
        note=body.note,
        new_householder_id=body.new_householder_id,
        relationships=body.relationships,
    )
    return filed(
        request,
        by,
        uow,
        "removal-by-authority",
        cmd,
        ResidentRecordOut.of,
        REMOVAL_FIELDS,
    )


def my_number_assignment(
    by: OperatorActor, uow: UoW, body: MyNumberAssignmentIn
) -> ResidentRecordOut:
    """個人番号の指定: record the number the national node generated."""
    cmd = AssignMyNumber(record_id=body.record_id, my_number=body.my_number)
    return ResidentRecordOut.of(
        services.assign_my_number(uow, by, cmd), by.role, my_number_logged=True
    )


def event_router() -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/events", tags=["events"], responses=WRITE_RESPONSES)
    one, many = ResidentRecordOut, list[ResidentRecordOut]
    routes: list[tuple[str, Callable[..., Any], Any]] = [
        ("/birth", birth, one),
        ("/death", death, one),
        ("/move-in", move_in, one),
        ("/move-out", move_out, many),
        ("/move-out-confirmation", move_out_confirmation, one),
        ("/relocation", relocation, many),
        ("/household-split", household_split, many),
        ("/household-merge", household_merge, many),
        ("/householder-change", householder_change, many),
        ("/name-change", name_change, one),
        ("/entry-by-authority", entry_by_authority, one),
        ("/correction-by-authority", correction_by_authority, one),
        ("/removal-by-authority", removal_by_authority, one),
        ("/my-number-assignment", my_number_assignment, one),
    ]
    for path, endpoint, response_model in routes:
        router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            status_code=status.HTTP_201_CREATED,
            response_model=response_model,
            # 個人番号の指定 is the node's: applied at once; every other change may be reviewed
            responses=None if endpoint is my_number_assignment else FILED_RESPONSES,
        )
    return router
