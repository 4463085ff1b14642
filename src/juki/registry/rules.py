"""The rules a counter clerk expects the registry to enforce, each with a clear error.

Every failure names the field and a short rule code, in English for APIs and Japanese for staff.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Final

from juki.core.era import ERAS
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
    record_items(
        {
            "is_foreign": is_foreign,
            "nationality": nationality,
            "foreign_category": foreign_category,
            "honseki": honseki,
        }
    )


# 住民基本台帳法 第30条の45 and 令第30条の25〜27: items only a foreign resident's record has.
FOREIGN_ONLY_ITEMS: Final[Mapping[str, str]] = {
    "nationality": "国籍・地域",
    "foreign_category": "第30条の45に規定する区分",
    "residence_status": "在留資格",
    "period_of_stay": "在留期間",
    "stay_expiry": "在留期間の満了の日",
    "residence_card_number": "在留カード等の番号",
    "alias_name": "通称",
    "alias_name_kana": "通称の振り仮名",
    "alias_history": "通称の記載及び削除に関する事項",
}
# 法第7条 and 令第30条の13: items only a Japanese national's record has (本籍・筆頭者, 旧氏).
JAPANESE_ONLY_ITEMS: Final[Mapping[str, str]] = {
    "honseki": "本籍",
    "koseki_head": "筆頭者",
    "former_surname": "旧氏",
    "former_surname_kana": "旧氏の振り仮名",
}
# The first day juki can write as a Japanese date (明治元年1月1日 = 1868-01-25 proleptic
# Gregorian, `juki.core.era`); a birth date before it could never be printed on a certificate.
EARLIEST_BIRTH_DATE: Final = ERAS[-1][1]


def birth_date_in_era(field: str, value: date) -> None:
    """A birth date must be one a certificate can print in the Japanese era (明治 onwards)."""
    if value < EARLIEST_BIRTH_DATE:
        era = ERAS[-1][0]
        raise ValidationError(
            field,
            "before_meiji",
            f"{value.isoformat()} is before the {era} era "
            f"({EARLIEST_BIRTH_DATE.isoformat()}); it cannot be recorded",
            f"{value.isoformat()} は{era}（{EARLIEST_BIRTH_DATE.isoformat()}）より前の日付のため"
            "記載できません",
        )


def record_items(items: Mapping[str, object], prefix: str = "") -> None:
    """The items of one record agree with each other (a whole record, or a new person's items).

    A foreign resident (法第30条の45) has 国籍・地域 and the 第30条の45 区分, and neither 本籍・
    筆頭者 nor 旧氏 (旧氏 is recorded from the 戸籍, 令第30条の13); a Japanese national has none
    of the foreign-resident items. 旧氏 and its 振り仮名 go together. The birth date lies in the
    era range certificates print. `prefix` goes before every field name (``fields.`` for a
    correction by authority).
    """
    is_foreign = bool(items.get("is_foreign"))
    if is_foreign:
        for name, what in (("nationality", "国籍・地域"), ("foreign_category", "区分")):
            if not items.get(name):
                raise ValidationError(
                    prefix + name,
                    "required",
                    f"{name} is required for a foreign resident",
                    f"外国人住民は{what}の記載が必要です（法第30条の45）",
                )
    wrong = JAPANESE_ONLY_ITEMS if is_foreign else FOREIGN_ONLY_ITEMS
    for name, label in wrong.items():
        if items.get(name):
            whose_en, whose_ja = (
                ("a foreign resident", "外国人住民")
                if is_foreign
                else ("a Japanese national", "日本人住民")
            )
            raise ValidationError(
                prefix + name,
                "not_for_foreign_resident" if is_foreign else "not_for_japanese",
                f"{name} is not an item of {whose_en}'s record",
                f"{whose_ja}の住民票には{label}を記載できません",
            )
    if bool(items.get("former_surname")) != bool(items.get("former_surname_kana")):
        raise ValidationError(
            prefix + "former_surname_kana",
            "pair_required",
            "a former surname needs its reading, and a reading its surname",
            "旧氏と旧氏の振り仮名は両方記載してください",
        )
    birth = items.get("birth_date")
    if isinstance(birth, date):
        birth_date_in_era(prefix + "birth_date", birth)
