"""The rules a counter clerk expects the registry to enforce, each with a clear error.

Every failure names the field and a short rule code, in English for APIs and Japanese for staff.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Final

from juki.core.errors import DomainRuleError, ValidationError
from juki.registry.model import (
    AT_MOST_ONE,
    FEMALE_ONLY,
    MALE_ONLY,
    OLDER_THAN_HOUSEHOLDER,
    SPOUSES,
    YOUNGER_THAN_HOUSEHOLDER,
    Relationship,
    ResidentRecord,
    Sex,
)

SEAL_MIN_AGE: Final = 15  # 印鑑登録: 15歳未満の者は登録できない


def not_in_future(field: str, value: date, today: date) -> None:
    if value > today:
        raise ValidationError(
            field,
            "future_date",
            f"{value.isoformat()} is in the future (today is {today.isoformat()})",
            f"{value.isoformat()} は未来の日付です（本日 {today.isoformat()}）",
        )


def not_before(field: str, value: date, earliest: date, what_en: str, what_ja: str) -> None:
    if value < earliest:
        raise ValidationError(
            field,
            "before_" + what_en.replace(" ", "_"),
            f"{value.isoformat()} is before the {what_en} ({earliest.isoformat()})",
            f"{value.isoformat()} は{what_ja}（{earliest.isoformat()}）より前です",
        )


def event_dates(effective_on: date, notified_on: date, today: date, birth_date: date) -> None:
    """異動日 and 届出日: neither in the future, neither before birth, notice not before event.

    A notice may be filed before a planned move-out takes effect, so only the planned-move-out
    service calls `not_in_future` on its own terms instead of this.
    """
    not_in_future("effective_on", effective_on, today)
    not_in_future("notified_on", notified_on, today)
    not_before("effective_on", effective_on, birth_date, "birth date", "生年月日")
    not_before("notified_on", notified_on, effective_on, "effective date", "異動日")


def address_in_municipality(field: str, address: str, prefix: str) -> None:
    """A move-in or relocation address must lie inside this municipality."""
    if not address.startswith(prefix) or len(address) <= len(prefix):
        raise DomainRuleError(
            field,
            "outside_municipality",
            f"address must be inside this municipality ({prefix}…): {address!r}",
            f"住所は当市区町村（{prefix}）内でなければなりません: {address}",
        )


def address_outside_municipality(field: str, address: str, prefix: str) -> None:
    if address.startswith(prefix):
        raise DomainRuleError(
            field,
            "inside_municipality",
            f"a move-out destination inside this municipality is a relocation (転居): {address!r}",
            f"当市区町村内への異動は転出ではなく転居です: {address}",
        )


def household_consistent(
    members: Iterable[ResidentRecord], relationships: Mapping[str, Relationship] | None = None
) -> None:
    """One householder, at most one spouse and one of each parent, and plausible ages.

    `relationships` overrides members' current relationships (record_id → relationship), so a
    command can be checked before it is applied.
    """
    people = list(members)
    rel = {p.record_id: (relationships or {}).get(p.record_id, p.relationship) for p in people}
    heads = [p for p in people if rel[p.record_id] is Relationship.HOUSEHOLDER]
    if len(heads) != 1:
        raise DomainRuleError(
            "relationship",
            "one_householder",
            f"a household needs exactly one householder, found {len(heads)}",
            f"世帯主は一世帯に一人です（{len(heads)}人指定されています）",
        )
    head = heads[0]
    counts = Counter(rel.values())
    spouses = sum(counts[r] for r in SPOUSES)
    if spouses > 1:
        raise DomainRuleError(
            "relationship",
            "one_spouse",
            f"a householder has at most one spouse, found {spouses}",
            "世帯主の配偶者は一人までです",
        )
    for r in AT_MOST_ONE:
        if counts[r] > 1:
            raise DomainRuleError(
                "relationship",
                "at_most_one",
                f"at most one member may be the householder's {r.value}",
                f"続柄「{r.label_ja}」は一人までです",
            )
    for p in people:
        r = rel[p.record_id]
        if r in YOUNGER_THAN_HOUSEHOLDER and p.birth_date <= head.birth_date:
            raise DomainRuleError(
                "relationship",
                "younger_than_householder",
                f"{p.record_id}: a {r.value} must be born after the householder",
                f"続柄「{r.label_ja}」の者は世帯主より後に生まれていなければなりません",
            )
        if r in OLDER_THAN_HOUSEHOLDER and p.birth_date >= head.birth_date:
            raise DomainRuleError(
                "relationship",
                "older_than_householder",
                f"{p.record_id}: a {r.value} must be born before the householder",
                f"続柄「{r.label_ja}」の者は世帯主より前に生まれていなければなりません",
            )
        if (r in MALE_ONLY and p.sex is not Sex.MALE) or (
            r in FEMALE_ONLY and p.sex is not Sex.FEMALE
        ):
            raise DomainRuleError(
                "relationship",
                "sex_mismatch",
                f"{p.record_id}: relationship {r.value} does not match the member's sex",
                f"続柄「{r.label_ja}」と性別が一致しません",
            )


def seal_age(record: ResidentRecord, on: date) -> None:
    if record.age_on(on) < SEAL_MIN_AGE:
        raise DomainRuleError(
            "record_id",
            "seal_min_age",
            f"seal registration requires age {SEAL_MIN_AGE} or over",
            f"印鑑登録は{SEAL_MIN_AGE}歳以上の方に限られます",
        )


def foreign_items(
    *,
    is_foreign: bool,
    nationality: str | None,
    foreign_category: object | None,
    honseki: str | None,
) -> None:
    """Foreign residents have nationality and category, and no 本籍; Japanese the reverse."""
    if is_foreign:
        if not nationality:
            raise ValidationError(
                "nationality",
                "required",
                "nationality or region is required for a foreign resident",
                "外国人住民は国籍・地域が必要です",
            )
        if foreign_category is None:
            raise ValidationError(
                "foreign_category",
                "required",
                "the foreign-resident category (中長期在留者 …) is required",
                "外国人住民の区分（中長期在留者等）が必要です",
            )
        if honseki:
            raise ValidationError(
                "honseki",
                "not_for_foreign_resident",
                "a foreign resident has no 本籍",
                "外国人住民には本籍を記載しません",
            )
    elif nationality or foreign_category is not None:
        raise ValidationError(
            "nationality",
            "not_for_japanese",
            "nationality and foreign-resident items apply only to foreign residents",
            "国籍・在留資格等は外国人住民にのみ記載します",
        )
