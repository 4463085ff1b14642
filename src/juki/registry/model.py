"""Resident records and households (住民基本台帳法 第7条), as plain values.

A record is never overwritten: it is the fold of its changes (`RecordChange`), each carrying a
reason (異動事由), the date the change took effect (異動日) and the date it was notified (届出日).
The stored row of a record is only a projection of that fold, kept for searching.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any, Final

from juki.core.errors import DomainRuleError
from juki.registry.alias import AliasHistory, history_from_json, history_to_json


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"

    @property
    def label_ja(self) -> str:
        return {"male": "男", "female": "女"}[self.value]


class RecordStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"  # 除票: kept with its history, never deleted


class HouseholdStatus(StrEnum):
    ACTIVE = "active"
    DISSOLVED = "dissolved"


class ChangeReason(StrEnum):
    """異動事由."""

    BIRTH = "birth"
    DEATH = "death"
    MOVE_IN = "move_in"
    MOVE_OUT_PLANNED = "move_out_planned"
    MOVE_OUT_CONFIRMED = "move_out_confirmed"
    RELOCATION = "relocation"
    HOUSEHOLD_CHANGE = "household_change"
    NAME_CHANGE = "name_change"
    EMIGRATION = "emigration"
    IMMIGRATION = "immigration"
    ENTRY_BY_AUTHORITY = "entry_by_authority"
    CORRECTION_BY_AUTHORITY = "correction_by_authority"
    REMOVAL_BY_AUTHORITY = "removal_by_authority"
    MY_NUMBER_ASSIGNED = "my_number_assigned"
    MOVE_OUT_WITHDRAWN = "move_out_withdrawn"
    CHANGE_CANCELLED = "change_cancelled"
    # Not an item of the 住民票: the record's `support_measure` flag follows the 支援措置 record
    # (juki.registry.support), so the 附票 notice tells the 本籍 municipality.
    SUPPORT_MEASURE = "support_measure"
    # 住民票コードの変更請求 (法第30条の4): a new random code at the resident's request.
    RESIDENT_CODE_CHANGE = "resident_code_change"

    @property
    def label_ja(self) -> str:
        return _REASON_JA[self]


_REASON_JA: Final = {
    ChangeReason.BIRTH: "出生",
    ChangeReason.DEATH: "死亡",
    ChangeReason.MOVE_IN: "転入",
    ChangeReason.MOVE_OUT_PLANNED: "転出予定",
    ChangeReason.MOVE_OUT_CONFIRMED: "転出確定",
    ChangeReason.RELOCATION: "転居",
    ChangeReason.HOUSEHOLD_CHANGE: "世帯変更",
    ChangeReason.NAME_CHANGE: "氏名変更",
    ChangeReason.EMIGRATION: "国外転出",
    ChangeReason.IMMIGRATION: "国外転入",
    ChangeReason.ENTRY_BY_AUTHORITY: "職権記載",
    ChangeReason.CORRECTION_BY_AUTHORITY: "職権修正",
    ChangeReason.REMOVAL_BY_AUTHORITY: "職権消除",
    ChangeReason.MY_NUMBER_ASSIGNED: "個人番号の指定",
    ChangeReason.MOVE_OUT_WITHDRAWN: "転出取消",
    ChangeReason.CHANGE_CANCELLED: "異動取消",
    ChangeReason.SUPPORT_MEASURE: "支援措置",
    ChangeReason.RESIDENT_CODE_CHANGE: "住民票コードの変更",
}


class Relationship(StrEnum):
    """続柄: relationship to the householder, as written on the 住民票."""

    HOUSEHOLDER = "householder"
    WIFE = "wife"
    HUSBAND = "husband"
    WIFE_UNREGISTERED = "wife_unregistered"
    HUSBAND_UNREGISTERED = "husband_unregistered"
    CHILD = "child"
    CHILDS_WIFE = "childs_wife"
    CHILDS_HUSBAND = "childs_husband"
    GRANDCHILD = "grandchild"
    FATHER = "father"
    MOTHER = "mother"
    SPOUSES_FATHER = "spouses_father"
    SPOUSES_MOTHER = "spouses_mother"
    GRANDFATHER = "grandfather"
    GRANDMOTHER = "grandmother"
    ELDER_BROTHER = "elder_brother"
    ELDER_SISTER = "elder_sister"
    YOUNGER_BROTHER = "younger_brother"
    YOUNGER_SISTER = "younger_sister"
    RELATIVE = "relative"
    COHABITANT = "cohabitant"

    @property
    def label_ja(self) -> str:
        return _RELATIONSHIP_JA[self]


_RELATIONSHIP_JA: Final = {
    Relationship.HOUSEHOLDER: "世帯主",
    Relationship.WIFE: "妻",
    Relationship.HUSBAND: "夫",
    Relationship.WIFE_UNREGISTERED: "妻（未届）",
    Relationship.HUSBAND_UNREGISTERED: "夫（未届）",
    Relationship.CHILD: "子",
    Relationship.CHILDS_WIFE: "子の妻",
    Relationship.CHILDS_HUSBAND: "子の夫",
    Relationship.GRANDCHILD: "孫",
    Relationship.FATHER: "父",
    Relationship.MOTHER: "母",
    Relationship.SPOUSES_FATHER: "配偶者の父",
    Relationship.SPOUSES_MOTHER: "配偶者の母",
    Relationship.GRANDFATHER: "祖父",
    Relationship.GRANDMOTHER: "祖母",
    Relationship.ELDER_BROTHER: "兄",
    Relationship.ELDER_SISTER: "姉",
    Relationship.YOUNGER_BROTHER: "弟",
    Relationship.YOUNGER_SISTER: "妹",
    Relationship.RELATIVE: "縁故者",
    Relationship.COHABITANT: "同居人",
}

SPOUSES: Final = frozenset(
    {
        Relationship.WIFE,
        Relationship.HUSBAND,
        Relationship.WIFE_UNREGISTERED,
        Relationship.HUSBAND_UNREGISTERED,
    }
)
# Relationships that must be younger / older than the householder, and those held by one person.
YOUNGER_THAN_HOUSEHOLDER: Final = frozenset(
    {
        Relationship.CHILD,
        Relationship.GRANDCHILD,
        Relationship.YOUNGER_BROTHER,
        Relationship.YOUNGER_SISTER,
    }
)
OLDER_THAN_HOUSEHOLDER: Final = frozenset(
    {
        Relationship.FATHER,
        Relationship.MOTHER,
        Relationship.SPOUSES_FATHER,
        Relationship.SPOUSES_MOTHER,
        Relationship.GRANDFATHER,
        Relationship.GRANDMOTHER,
        Relationship.ELDER_BROTHER,
        Relationship.ELDER_SISTER,
    }
)
AT_MOST_ONE: Final = frozenset(
    {
        Relationship.FATHER,
        Relationship.MOTHER,
        Relationship.SPOUSES_FATHER,
        Relationship.SPOUSES_MOTHER,
    }
)
MALE_ONLY: Final = frozenset(
    {Relationship.FATHER, Relationship.SPOUSES_FATHER, Relationship.GRANDFATHER}
    | {Relationship.ELDER_BROTHER, Relationship.YOUNGER_BROTHER}
)
FEMALE_ONLY: Final = frozenset(
    {Relationship.MOTHER, Relationship.SPOUSES_MOTHER, Relationship.GRANDMOTHER}
    | {Relationship.ELDER_SISTER, Relationship.YOUNGER_SISTER}
)


class ForeignResidentCategory(StrEnum):
    """住民基本台帳法 第30条の45 の区分."""

    MID_LONG_TERM = "mid_long_term"  # 中長期在留者
    SPECIAL_PERMANENT = "special_permanent"  # 特別永住者
    TEMPORARY_REFUGE = "temporary_refuge"  # 一時庇護許可者
    PROVISIONAL_STAY = "provisional_stay"  # 仮滞在許可者
    TRANSITIONAL = "transitional"  # 経過滞在者

    @property
    def label_ja(self) -> str:
        return {
            "mid_long_term": "中長期在留者",
            "special_permanent": "特別永住者",
            "temporary_refuge": "一時庇護許可者",
            "provisional_stay": "仮滞在許可者",
            "transitional": "経過滞在者",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Municipality:
    """The municipality a registry belongs to (全国地方公共団体コード, prefecture and name), and
    the mayor who certifies its certificates (市区町村長の職名と氏名, 省令 and 事務処理要領:
    every 写し and 証明書 is certified by the mayor by title and name)."""

    lg_code: str
    prefecture: str
    name: str
    mayor_title: str | None = None  # 職名: 「東京都稲城市長」, or 「…市長職務代理者　副市長」
    mayor_name: str | None = None  # 氏名

    @property
    def address_prefix(self) -> str:
        return f"{self.prefecture}{self.name}"

    @property
    def default_mayor_title(self) -> str:
        """市長, 区長, 町長 or 村長 follow from the name (稲城市 → 稲城市長)."""
        return f"{self.address_prefix}長"

    @property
    def signatory(self) -> str:
        """What a certificate prints as its certifier: the title, then the name when set."""
        title = self.mayor_title or self.default_mayor_title
        return f"{title}\u3000{self.mayor_name}" if self.mayor_name else title


def age_on(birth_date: date, on: date) -> int:
    """Full years on `on` (29 February counts on 1 March): records, seals, cards, kiosk."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


@dataclass(frozen=True, slots=True)
class ResidentRecord:
    """住民票: one person's record, every item of 住民基本台帳法 第7条 (and 第30条の45)."""

    record_id: str
    lg_code: str
    resident_code: str  # 住民票コード (第7条13号)
    family_name: str  # 氏名 (1号)
    given_name: str
    family_name_kana: str  # 氏名の振り仮名
    given_name_kana: str
    birth_date: date  # 出生の年月日 (2号)
    sex: Sex  # 男女の別 (3号)
    household_id: str  # 世帯主 / 続柄 (4号)
    relationship: Relationship
    resident_since: date  # 住民となった年月日 (6号)
    address: (
        str  # 住所及び一の市町村の区域内において新たに住所を変更した者の住所を定めた年月日 (7号)
    )
    address_since: date
    my_number: str | None = None  # 個人番号 (8号の2); None until the national node assigns it
    former_surname: str | None = None  # 旧氏 (令第30条の13)
    former_surname_kana: str | None = None
    honseki: str | None = None  # 戸籍の表示: 本籍 (5号)
    koseki_head: str | None = None  # 筆頭者
    notified_on: date | None = None  # 届出の年月日 (8号)
    previous_address: str | None = None  # 従前の住所 (8号)
    move_out_planned_address: str | None = None  # 転出先 (予定)
    move_out_planned_on: date | None = None
    move_out_confirmed_address: str | None = None  # 転出先 (確定)
    move_out_confirmed_on: date | None = None
    # 転出届の特例: the municipality the 転出証明書情報 was sent to (not an item of the 住民票);
    # a 転出取消 or 異動取消 of the move-out tells it (`move_out_withdrawn`).
    card_move_out_lg_code: str | None = None
    electoral_registered: bool = False  # 選挙人名簿への登録 (9号)
    nhi_insured_since: date | None = None  # 国民健康保険の資格 (10号)
    late_elderly_insured_since: date | None = None  # 後期高齢者医療 (10号の2)
    ltc_insured_since: date | None = None  # 介護保険 (10号の3)
    national_pension_category: str | None = None  # 国民年金 (11号): "1" / "3" …
    national_pension_since: date | None = None
    child_allowance_since: date | None = None  # 児童手当 (11号の2)
    is_foreign: bool = False
    nationality: str | None = None  # 国籍・地域
    foreign_category: ForeignResidentCategory | None = None
    residence_status: str | None = None  # 在留資格
    period_of_stay: str | None = None  # 在留期間
    stay_expiry: date | None = None  # 在留期間の満了の日
    residence_card_number: str | None = None  # 在留カード等の番号
    alias_name: str | None = None  # 通称 (令第30条の26)
    alias_name_kana: str | None = None
    alias_history: AliasHistory = ()  # 通称の記載及び削除に関する事項 (令第30条の27)
    status: RecordStatus = RecordStatus.ACTIVE
    removal_reason: ChangeReason | None = None
    removed_on: date | None = None
    # 支援措置 (DV・ストーカー等の被害者への支援措置, 事務処理要領 第5-10): whether one is in force
    # on the date of the record's latest change. The measure itself is its own record
    # (juki.registry.support); reads that depend on the day ask it (`with_protection_on`).
    support_measure: bool = False
    # …and that measure's first and last day (its period, a termination counted), so the 附票
    # notice tells the 本籍 municipality when it lapses; None when none is in force.
    support_starts_on: date | None = None
    support_ends_on: date | None = None

    @property
    def full_name(self) -> str:
        sep = " " if self.is_foreign else "\u3000"
        return f"{self.family_name}{sep}{self.given_name}"

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana}\u3000{self.given_name_kana}"

    @property
    def is_active(self) -> bool:
        return self.status is RecordStatus.ACTIVE

    def age_on(self, on: date) -> int:
        return age_on(self.birth_date, on)


@dataclass(frozen=True, slots=True)
class Household:
    """世帯. Its householder and members are the active records that point at it."""

    household_id: str
    lg_code: str
    address: str
    formed_on: date
    status: HouseholdStatus = HouseholdStatus.ACTIVE
    dissolved_on: date | None = None


@dataclass(frozen=True, slots=True)
class RecordChange:
    """One 異動: the fields it sets, why, when it took effect and when it was notified."""

    reason: ChangeReason
    effective_on: date
    notified_on: date
    fields: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.fields) - RECORD_FIELDS
        if unknown:
            raise ValueError(f"unknown record fields in change: {sorted(unknown)}")


@dataclass(frozen=True, slots=True)
class RecordedChange:
    """A change as the registry keeps it: with its place in the record's history and its author."""

    record_id: str
    seq: int
    change: RecordChange
    actor_id: str
    recorded_at: str
    # The supervisor whose 本登録 applied the operator's provisional change (juki.registry.review);
    # None for a change applied as it was made (the node's own, or with review off).
    approved_by: str | None = None


RECORD_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(ResidentRecord))
# Fields an operator may never set directly: identity and lifecycle are changed by events.
IMMUTABLE_FIELDS: Final = frozenset({"record_id", "lg_code"})


def fold(changes: Iterable[RecordChange]) -> ResidentRecord:
    """The current record: every change applied in order on top of nothing."""
    state: dict[str, Any] = {}
    for change in changes:
        state.update(change.fields)
    if not state:
        raise ValueError("a record needs at least one change")
    return ResidentRecord(**state)


def apply(record: ResidentRecord, change: RecordChange) -> ResidentRecord:
    if not record.is_active and change.reason not in CHANGES_ALLOWED_ON_REMOVED:
        raise DomainRuleError(
            "record_id",
            "removed_record",
            f"record {record.record_id} is removed (除票); no {change.reason.value} on it",
            f"消除された住民票（除票）には{change.reason.label_ja}を記録できません",
        )
    return dataclasses.replace(record, **change.fields)


# A removed record still receives the move-in notice that confirms where the person went,
# corrections by authority (職権修正) of what it says, and the withdrawal (転出取消) or
# cancellation (異動取消) that makes it a 住民票 again.
CHANGES_ALLOWED_ON_REMOVED: Final = frozenset(
    {
        ChangeReason.MOVE_OUT_CONFIRMED,
        ChangeReason.CORRECTION_BY_AUTHORITY,
        ChangeReason.MOVE_OUT_WITHDRAWN,
        ChangeReason.CHANGE_CANCELLED,
    }
)


def initial_fields(record: ResidentRecord) -> dict[str, Any]:
    """Every field of a new record, for its first change."""
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def diff(before: ResidentRecord, after: ResidentRecord) -> dict[str, Any]:
    return {
        f.name: getattr(after, f.name)
        for f in dataclasses.fields(after)
        if getattr(before, f.name) != getattr(after, f.name)
    }


# -- JSON codec for change fields: dates and enums travel as strings ------------------------

ALIAS_HISTORY: Final = "alias_history"  # a list of entries: JSON in a change and in the row


@cache
def _field_types() -> dict[str, Any]:
    hints = typing.get_type_hints(ResidentRecord)
    out: dict[str, Any] = {}
    for name, hint in hints.items():
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        is_union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        out[name] = args[0] if is_union and args else hint
    return out


def encode_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == ALIAS_HISTORY:
            out[name] = history_to_json(value)
        elif isinstance(value, date):
            out[name] = value.isoformat()
        elif isinstance(value, StrEnum):
            out[name] = value.value
        else:
            out[name] = value
    return out


def decode_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    types_ = _field_types()
    out: dict[str, Any] = {}
    for name, value in raw.items():
        kind = types_[name]
        if name == ALIAS_HISTORY:
            out[name] = history_from_json(value)
        elif value is None:
            out[name] = None
        elif kind is date:
            out[name] = date.fromisoformat(value)
        elif isinstance(kind, type) and issubclass(kind, StrEnum):
            out[name] = kind(value)
        else:
            out[name] = value
    return out


def record_to_row(record: ResidentRecord) -> dict[str, Any]:
    """The projection row: the record's fields as stored (enums by value, dates as dates)."""
    row: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if f.name == ALIAS_HISTORY:
            row[f.name] = json.dumps(history_to_json(value), ensure_ascii=False) if value else None
        else:
            row[f.name] = value.value if isinstance(value, StrEnum) else value
    return row


def record_from_row(row: Mapping[Any, Any]) -> ResidentRecord:
    types_ = _field_types()
    values: dict[str, Any] = {}
    for name in RECORD_FIELDS:
        value = row[name]
        kind = types_[name]
        if name == ALIAS_HISTORY:
            value = history_from_json(json.loads(value) if value else None)
        elif value is not None and isinstance(kind, type) and issubclass(kind, StrEnum):
            value = kind(value)
        elif value is not None and kind is bool:
            value = bool(value)
        values[name] = value
    return ResidentRecord(**values)
