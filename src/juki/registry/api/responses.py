"""The registry API's response bodies (pydantic v2): what a route returns, built from the model.

Apart from the request bodies (`schemas`) so each stays a readable size; `schemas` re-exports
these names, so a route module imports its bodies from one place.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from juki.registry.alias import AliasAction
from juki.registry.model import (
    ChangeReason,
    ForeignResidentCategory,
    Household,
    HouseholdStatus,
    RecordedChange,
    RecordStatus,
    Relationship,
    ResidentRecord,
    Sex,
    encode_fields,
)
from juki.registry.seal import SealRegistration, SealStatus
from juki.security.permissions import Role, hidden_items


def hidden_from(role: Role, *, my_number_logged: bool = False) -> frozenset[str]:
    """The record items a view for `role` leaves out: those the role may not see, and the
    個人番号 also wherever the view's oplog entry does not say it was shown (only the record
    views and its assignment mark it)."""
    hidden = hidden_items(role)
    return hidden if my_number_logged else hidden | {"my_number"}


def _values(record: object, names: Iterable[str], hidden: frozenset[str]) -> dict[str, Any]:
    return {n: None if n in hidden else getattr(record, n) for n in names}


# -- responses ------------------------------------------------------------------------------


class ResidentSummaryOut(BaseModel):
    """A search hit: enough to pick the right person, without 個人番号 or other items."""

    record_id: str
    resident_code: str | None  # None: the role may not see it
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    household_id: str
    relationship: Relationship
    address: str
    status: RecordStatus

    @classmethod
    def of(cls, record: ResidentRecord, role: Role) -> ResidentSummaryOut:
        return cls(**_values(record, cls.model_fields, hidden_from(role)))


class AliasEntryOut(BaseModel):
    """One entry of a foreign resident's 通称 history: recorded or deleted, when, and where."""

    alias_name: str
    action: AliasAction
    on: date
    municipality: str


class ResidentRecordOut(BaseModel):
    """住民票: every item of the record the role may see; the others are null
    (`juki.security.permissions.SENSITIVE_ITEMS`)."""

    record_id: str
    lg_code: str
    resident_code: str | None
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    household_id: str
    relationship: Relationship
    resident_since: date
    address: str
    address_since: date
    my_number: str | None
    former_surname: str | None
    former_surname_kana: str | None
    honseki: str | None
    koseki_head: str | None
    notified_on: date | None
    previous_address: str | None
    move_out_planned_address: str | None
    move_out_planned_on: date | None
    move_out_confirmed_address: str | None
    move_out_confirmed_on: date | None
    electoral_registered: bool
    nhi_insured_since: date | None
    late_elderly_insured_since: date | None
    ltc_insured_since: date | None
    national_pension_category: str | None
    national_pension_since: date | None
    child_allowance_since: date | None
    is_foreign: bool
    nationality: str | None
    foreign_category: ForeignResidentCategory | None
    residence_status: str | None
    period_of_stay: str | None
    stay_expiry: date | None
    residence_card_number: str | None
    alias_name: str | None
    alias_name_kana: str | None
    alias_history: list[AliasEntryOut]  # 通称の記載及び削除に関する事項
    status: RecordStatus
    removal_reason: ChangeReason | None
    removed_on: date | None

    @classmethod
    def of(
        cls, record: ResidentRecord, role: Role, *, my_number_logged: bool = False
    ) -> ResidentRecordOut:
        hidden = hidden_from(role, my_number_logged=my_number_logged)
        values = _values(record, cls.model_fields, hidden)
        values["alias_history"] = [AliasEntryOut(**e.to_json()) for e in record.alias_history]
        return cls(**values)


class HouseholdOut(BaseModel):
    """世帯 and its active members, householder first."""

    household_id: str
    lg_code: str
    address: str
    formed_on: date
    status: HouseholdStatus
    dissolved_on: date | None
    members: list[ResidentSummaryOut]

    @classmethod
    def of(cls, household: Household, members: list[ResidentRecord], role: Role) -> HouseholdOut:
        return cls(
            household_id=household.household_id,
            lg_code=household.lg_code,
            address=household.address,
            formed_on=household.formed_on,
            status=household.status,
            dissolved_on=household.dissolved_on,
            members=[ResidentSummaryOut.of(m, role) for m in members],
        )


class RecordedChangeOut(BaseModel):
    """One 異動 in a record's history: the items it set, why, when, and by whom."""

    record_id: str
    seq: int
    reason: ChangeReason
    reason_ja: str
    effective_on: date
    notified_on: date
    fields: dict[str, Any]
    note: str
    actor_id: str
    recorded_at: str
    approved_by: str | None = None  # 本登録: the supervisor who approved the operator's change

    @classmethod
    def of(
        cls, recorded: RecordedChange, role: Role, *, my_number_logged: bool = False
    ) -> RecordedChangeOut:
        change = recorded.change
        hidden = hidden_from(role, my_number_logged=my_number_logged)
        return cls(
            record_id=recorded.record_id,
            seq=recorded.seq,
            reason=change.reason,
            reason_ja=change.reason.label_ja,
            effective_on=change.effective_on,
            notified_on=change.notified_on,
            fields={k: v for k, v in encode_fields(change.fields).items() if k not in hidden},
            note=change.note,
            actor_id=recorded.actor_id,
            recorded_at=recorded.recorded_at,
            approved_by=recorded.approved_by,
        )


class SealRegistrationOut(BaseModel):
    """印鑑登録: the registration's metadata; the impression only on the single-seal endpoint."""

    registration_number: str
    record_id: str
    image_sha256: str
    registered_on: date
    status: SealStatus
    abolished_on: date | None
    abolish_reason: str | None

    @classmethod
    def of(cls, seal: SealRegistration) -> SealRegistrationOut:
        return cls(**{name: getattr(seal, name) for name in cls.model_fields})


class SealDetailOut(SealRegistrationOut):
    image_png_base64: str

    @classmethod
    def of(cls, seal: SealRegistration) -> SealDetailOut:
        return cls(
            **SealRegistrationOut.of(seal).model_dump(),
            image_png_base64=base64.b64encode(seal.image_png).decode("ascii"),
        )


class StatsOut(BaseModel):
    """Counts for the registry's overview; no personal data."""

    residents: int
    households: int
    foreign_residents: int
    removed_records: int
    male: int
    female: int
    without_my_number: int


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    lg_code: str | None
