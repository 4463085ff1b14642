"""The registry API's request bodies (pydantic v2); the response bodies are in `responses`.

These bound what may arrive — lengths, digit patterns, dates, enums, no unknown fields — so a
malformed request fails before a transaction starts. The domain still checks everything that
has a rule behind it (check digits, kana, dates against today); limits here only need to be no
tighter than the domain's, and are mostly there to refuse absurd input cheaply.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from juki.registry.alias import AliasAction
from juki.registry.api import responses
from juki.registry.commands import MoveInOrigin
from juki.registry.model import (
    ForeignResidentCategory,
    Relationship,
    Sex,
)
from juki.registry.seal import MAX_IMAGE_BYTES
from juki.web.text import clean_value

# The response bodies, from `responses`, so every route module finds its bodies here.
AliasEntryOut = responses.AliasEntryOut
HealthOut = responses.HealthOut
HouseholdOut = responses.HouseholdOut
RecordedChangeOut = responses.RecordedChangeOut
ResidentRecordOut = responses.ResidentRecordOut
ResidentSummaryOut = responses.ResidentSummaryOut
SealDetailOut = responses.SealDetailOut
SealRegistrationOut = responses.SealRegistrationOut
StatsOut = responses.StatsOut

# Names are capped by the domain at 64 characters of up to two code points each (IVS), addresses
# at 200; readings may arrive as half-width kana, which takes up to two code points per kana.
NAME_MAX: Final = 128
KANA_MAX: Final = 256
ADDRESS_MAX: Final = 400
NOTE_MAX: Final = 500
MAX_RECORDS: Final = 50
# Base64 grows data by 4/3; allow the largest image the domain accepts, plus line padding.
IMAGE_B64_MAX: Final = (MAX_IMAGE_BYTES * 4) // 3 + 8

RecordId = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Name = Annotated[str, StringConstraints(max_length=NAME_MAX)]
Kana = Annotated[str, StringConstraints(max_length=KANA_MAX)]
Address = Annotated[str, StringConstraints(max_length=ADDRESS_MAX)]
Note = Annotated[str, StringConstraints(max_length=NOTE_MAX)]
ResidentCodeStr = Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")]
MyNumberStr = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
LgCodeStr = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
RecordIds = Annotated[list[RecordId], Field(min_length=1, max_length=MAX_RECORDS)]
Relationships = Annotated[dict[RecordId, Relationship], Field(max_length=MAX_RECORDS)]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
FieldValue = StrictBool | Annotated[str, StringConstraints(max_length=ADDRESS_MAX)] | None


class Request(BaseModel):
    """Base of every request body: unknown fields are refused, not silently dropped, and no
    string anywhere in it may hold NUL, a surrogate or a noncharacter (`juki.web.text`)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_forbidden_characters(cls, value: Any) -> Any:
        return clean_value(value)


# -- the parts of commands ------------------------------------------------------------------


class ForeignItemsIn(Request):
    """外国人住民の記載事項."""

    nationality: Name
    category: ForeignResidentCategory
    residence_status: Name | None = None
    period_of_stay: Name | None = None
    stay_expiry: date | None = None
    residence_card_number: Annotated[str, StringConstraints(max_length=16)] | None = None
    alias_name: Name | None = None
    alias_name_kana: Kana | None = None


class PersonalItemsIn(Request):
    family_name: Name
    given_name: Name
    family_name_kana: Kana
    given_name_kana: Kana
    birth_date: date
    sex: Sex
    honseki: Address | None = None
    koseki_head: Name | None = None
    former_surname: Name | None = None
    former_surname_kana: Kana | None = None
    foreign: ForeignItemsIn | None = None


class NewHouseholdIn(Request):
    """Start a new household with this person as householder."""

    kind: Literal["new_household"]


class JoinHouseholdIn(Request):
    """Join an existing household at the same address."""

    kind: Literal["join_household"]
    household_id: RecordId
    relationship: Relationship


PlacementIn = Annotated[NewHouseholdIn | JoinHouseholdIn, Field(discriminator="kind")]


# -- life events ----------------------------------------------------------------------------


class BirthIn(Request):
    """出生届."""

    person: PersonalItemsIn
    household_id: RecordId
    relationship: Relationship
    notified_on: date


class DeathIn(Request):
    """死亡届. When the householder dies, name the new one unless one member remains."""

    record_id: RecordId
    died_on: date
    notified_on: date
    new_householder_id: RecordId | None = None
    relationships: Relationships = Field(default_factory=dict)


class AliasEntryIn(Request):
    """One line of the 通称履歴 a foreign resident's 転出証明書 shows (令30条の27)."""

    alias_name: Name
    action: AliasAction
    on: date
    municipality: Address


MAX_ALIAS_HISTORY: Final = 50


class MoveOutCertificateIn(Request):
    """The items of the paper 転出証明書 (令23条) presented with the 転入届."""

    certificate_number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    lg_code: LgCodeStr
    resident_code: ResidentCodeStr
    family_name: Name
    given_name: Name
    birth_date: date
    sex: Sex
    address: Address
    destination_address: Address
    planned_on: date
    my_number: MyNumberStr | None = None
    alias_history: Annotated[list[AliasEntryIn], Field(max_length=MAX_ALIAS_HISTORY)] = Field(
        default_factory=list
    )


class MoveInIn(Request):
    """転入届 (with 転出証明書, with the card, or from abroad)."""

    person: PersonalItemsIn
    origin: MoveInOrigin
    address: Address
    moved_on: date
    notified_on: date
    previous_address: Address
    placement: PlacementIn
    resident_code: ResidentCodeStr | None = None
    my_number: MyNumberStr | None = None
    move_out_certificate_number: Annotated[str, StringConstraints(max_length=32)] | None = None
    previous_lg_code: LgCodeStr | None = None
    move_out_certificate: MoveOutCertificateIn | None = None


class MoveOutIn(Request):
    """転出届 / 国外転出届; `card` for 転出届の特例 (filed with the card)."""

    record_ids: RecordIds
    destination_address: Address
    planned_on: date
    notified_on: date
    abroad: bool = False
    new_householder_id: RecordId | None = None
    relationships: Relationships = Field(default_factory=dict)
    destination_lg_code: LgCodeStr | None = None
    card: bool = False


class MoveOutConfirmationIn(Request):
    """転出確定: the new municipality's move-in notice."""

    resident_code: ResidentCodeStr
    confirmed_address: Address
    confirmed_on: date
    notified_on: date


class RelocationIn(Request):
    """転居 within the municipality."""

    record_ids: RecordIds
    new_address: Address
    moved_on: date
    notified_on: date
    new_householder_id: RecordId | None = None
    join_household_id: RecordId | None = None
    remaining_householder_id: RecordId | None = None
    relationships: Relationships = Field(default_factory=dict)


class HouseholdSplitIn(Request):
    """世帯分離."""

    record_ids: RecordIds
    new_householder_id: RecordId
    relationships: Relationships
    effective_on: date
    notified_on: date
    remaining_householder_id: RecordId | None = None


class HouseholdMergeIn(Request):
    """世帯合併."""

    from_household_id: RecordId
    into_household_id: RecordId
    relationships: Relationships
    effective_on: date
    notified_on: date


class HouseholderChangeIn(Request):
    """世帯主変更."""

    household_id: RecordId
    new_householder_id: RecordId
    relationships: Relationships
    effective_on: date
    notified_on: date


class NameChangeIn(Request):
    """氏名の変更."""

    record_id: RecordId
    family_name: Name
    given_name: Name
    family_name_kana: Kana
    given_name_kana: Kana
    effective_on: date
    notified_on: date
    former_surname: Name | None = None
    former_surname_kana: Kana | None = None


class EntryByAuthorityIn(Request):
    """職権記載."""

    person: PersonalItemsIn
    address: Address
    resident_since: date
    placement: PlacementIn
    note: Note
    resident_code: ResidentCodeStr | None = None
    my_number: MyNumberStr | None = None


class CorrectionByAuthorityIn(Request):
    """職権修正: record items by name; dates as ISO strings, enums by value."""

    record_id: RecordId
    fields: Annotated[dict[FieldName, FieldValue], Field(min_length=1, max_length=MAX_RECORDS)]
    effective_on: date
    note: Note


class RemovalByAuthorityIn(Request):
    """職権消除."""

    record_id: RecordId
    removed_on: date
    note: Note
    new_householder_id: RecordId | None = None
    relationships: Relationships = Field(default_factory=dict)


class MyNumberAssignmentIn(Request):
    """個人番号の指定."""

    record_id: RecordId
    my_number: MyNumberStr


# -- seal registration ----------------------------------------------------------------------


def decode_base64(value: str) -> bytes:
    """Strict base64: characters outside the alphabet are an error, not silently skipped."""
    return base64.b64decode(value, validate=True)


class SealRegistrationIn(Request):
    """印鑑登録申請: the impression travels as base64 of a PNG file."""

    record_id: RecordId
    registered_on: date
    image_png_base64: Annotated[
        str,
        StringConstraints(min_length=1, max_length=IMAGE_B64_MAX),
        Field(json_schema_extra={"contentEncoding": "base64", "contentMediaType": "image/png"}),
    ]

    @field_validator("image_png_base64")
    @classmethod
    def _is_base64(cls, value: str) -> str:
        try:
            decode_base64(value)
        except (binascii.Error, ValueError):
            raise PydanticCustomError(
                "base64", "image_png_base64 is not valid base64 (RFC 4648, no line breaks)"
            ) from None
        return value


class SealAbolitionIn(Request):
    """印鑑登録の廃止."""

    abolished_on: date
    reason: Annotated[str, StringConstraints(max_length=200)]
