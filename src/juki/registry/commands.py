"""Commands: what a counter clerk (or the node) asks the registry to do, as small frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from juki.registry.alias import AliasHistory
from juki.registry.model import ForeignResidentCategory, Relationship, Sex


@dataclass(frozen=True, slots=True)
class ForeignItems:
    """外国人住民の記載事項 (住民基本台帳法 第30条の45)."""

    nationality: str
    category: ForeignResidentCategory
    residence_status: str | None = None
    period_of_stay: str | None = None
    stay_expiry: date | None = None
    residence_card_number: str | None = None
    alias_name: str | None = None
    alias_name_kana: str | None = None


@dataclass(frozen=True, slots=True)
class PersonalItems:
    """The items a person brings to a new record (出生, 転入, 職権記載)."""

    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    honseki: str | None = None
    koseki_head: str | None = None
    former_surname: str | None = None
    former_surname_kana: str | None = None
    foreign: ForeignItems | None = None


@dataclass(frozen=True, slots=True)
class JoinHousehold:
    """Join an existing household with the given relationship to its householder."""

    household_id: str
    relationship: Relationship


@dataclass(frozen=True, slots=True)
class NewHousehold:
    """Start a new household with this person as householder."""


Placement = JoinHousehold | NewHousehold


class MoveInOrigin(StrEnum):
    CERTIFICATE = "certificate"  # 転出証明書を添えた転入
    CARD = "card"  # 転入届の特例 (card_move_in): no paper certificate
    ABROAD = "abroad"  # 国外からの転入


@dataclass(frozen=True, slots=True)
class RecordBirth:
    person: PersonalItems
    household_id: str
    relationship: Relationship
    notified_on: date


@dataclass(frozen=True, slots=True)
class RecordDeath:
    record_id: str
    died_on: date
    notified_on: date
    new_householder_id: str | None = None
    relationships: Mapping[str, Relationship] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MoveOutCertificateItems:
    """What a paper 転出証明書 (令23条) says, read at the new municipality's counter: the
    move-in takes these as its input and checks them against the person and the 転入届."""

    certificate_number: str
    lg_code: str  # 転出元 (the issuing municipality)
    resident_code: str
    family_name: str
    given_name: str
    birth_date: date
    sex: Sex
    address: str  # 住所 (the address moved out of)
    destination_address: str  # 転出先
    planned_on: date  # 転出の予定年月日
    my_number: str | None = None
    alias_history: AliasHistory = ()  # 通称の記載及び削除に関する事項 (令30条の27), foreign only


@dataclass(frozen=True, slots=True)
class RecordMoveIn:
    person: PersonalItems
    origin: MoveInOrigin
    address: str
    moved_on: date
    notified_on: date
    previous_address: str
    placement: Placement
    resident_code: str | None = None
    my_number: str | None = None
    move_out_certificate_number: str | None = None
    previous_lg_code: str | None = None
    move_out_certificate: MoveOutCertificateItems | None = None


@dataclass(frozen=True, slots=True)
class RecordMoveOut:
    """転出届 (or 国外転出届): the record is removed as of the planned date."""

    record_ids: tuple[str, ...]
    destination_address: str
    planned_on: date
    notified_on: date
    abroad: bool = False
    new_householder_id: str | None = None
    relationships: Mapping[str, Relationship] = field(default_factory=dict)
    destination_lg_code: str | None = None
    card: bool = False  # 転出届の特例: filed with the card; 転出証明書情報 goes ahead by network


@dataclass(frozen=True, slots=True)
class ConfirmMoveOut:
    """転出確定: the new municipality's move-in notice says where and when the person arrived."""

    resident_code: str
    confirmed_address: str
    confirmed_on: date
    notified_on: date


@dataclass(frozen=True, slots=True)
class WithdrawMoveOut:
    """転出取消: the movers stay after all; filed before the planned date, with its reason."""

    record_ids: tuple[str, ...]
    reason: str
    notified_on: date


@dataclass(frozen=True, slots=True)
class CancelChanges:
    """異動取消 (職権): each record's latest change was wrong and is undone, as a new change
    that puts back what the record said before it. Records changed together (a household)
    are cancelled together."""

    record_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class RecordRelocation:
    """転居: some or all members of a household move to another address in the municipality.

    Moving a whole household needs no placement. Moving part of one either starts a new household
    at the new address (`new_householder_id`) or joins the household already there
    (`join_household_id`); `relationships` gives every mover's new relationship, and, when the
    householder moves away from the others, theirs to `remaining_householder_id`.
    """

    record_ids: tuple[str, ...]
    new_address: str
    moved_on: date
    notified_on: date
    new_householder_id: str | None = None
    join_household_id: str | None = None
    remaining_householder_id: str | None = None
    relationships: Mapping[str, Relationship] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SplitHousehold:
    """世帯分離: members leave to form their own household at the same address.

    `relationships` gives the leavers' relationships to their new householder and, when the old
    householder leaves, the remaining members' relationships to `remaining_householder_id`.
    """

    record_ids: tuple[str, ...]
    new_householder_id: str
    relationships: Mapping[str, Relationship]
    effective_on: date
    notified_on: date
    remaining_householder_id: str | None = None


@dataclass(frozen=True, slots=True)
class MergeHouseholds:
    """世帯合併: every member of one household joins another at the same address."""

    from_household_id: str
    into_household_id: str
    relationships: Mapping[str, Relationship]
    effective_on: date
    notified_on: date


@dataclass(frozen=True, slots=True)
class ChangeHouseholder:
    """世帯主変更: `relationships` gives every member's relationship to the new householder."""

    household_id: str
    new_householder_id: str
    relationships: Mapping[str, Relationship]
    effective_on: date
    notified_on: date


@dataclass(frozen=True, slots=True)
class ChangeName:
    record_id: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    effective_on: date
    notified_on: date
    former_surname: str | None = None
    former_surname_kana: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeResidentCode:
    """住民票コードの変更請求 (法第30条の4): the resident asks, in writing, for a new code."""

    record_id: str
    reason: str  # what the request gives as its reason, kept in the record's history
    requested_on: date


@dataclass(frozen=True, slots=True)
class EnterByAuthority:
    """職権記載: a person found living here without a record."""

    person: PersonalItems
    address: str
    resident_since: date
    placement: Placement
    note: str
    resident_code: str | None = None
    my_number: str | None = None


@dataclass(frozen=True, slots=True)
class CorrectByAuthority:
    """職権修正: set record items that were recorded wrongly."""

    record_id: str
    fields: Mapping[str, Any]
    effective_on: date
    note: str


@dataclass(frozen=True, slots=True)
class RemoveByAuthority:
    """職権消除: a person found not to live here any more."""

    record_id: str
    removed_on: date
    note: str
    new_householder_id: str | None = None
    relationships: Mapping[str, Relationship] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AssignMyNumber:
    record_id: str
    my_number: str


@dataclass(frozen=True, slots=True)
class RegisterSeal:
    record_id: str
    image_png: bytes
    registered_on: date


@dataclass(frozen=True, slots=True)
class AbolishSeal:
    registration_number: str
    abolished_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class RecordAlias:
    """通称の記載 (令第30条の26): a foreign resident asks for a 通称 to be recorded."""

    record_id: str
    alias_name: str
    alias_name_kana: str | None
    effective_on: date
    notified_on: date


@dataclass(frozen=True, slots=True)
class DeleteAlias:
    """通称の削除 (令第30条の26 第3項): the foreign resident's 通称 is deleted; it stays in the
    history (令第30条の27)."""

    record_id: str
    effective_on: date
    notified_on: date
