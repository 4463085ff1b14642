"""Household consistency and date rules, without storage."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from juki.core.errors import DomainRuleError, ValidationError
from juki.registry import rules
from juki.registry.model import Relationship, ResidentRecord, Sex

HEAD = ResidentRecord(
    record_id="head",
    lg_code="132250",
    resident_code="24727059608",
    family_name="山田",
    given_name="太郎",
    family_name_kana="ヤマダ",
    given_name_kana="タロウ",
    birth_date=date(1970, 1, 1),
    sex=Sex.MALE,
    household_id="h",
    relationship=Relationship.HOUSEHOLDER,
    resident_since=date(2000, 1, 1),
    address="東京都稲城市東長沼1番地",
    address_since=date(2000, 1, 1),
)


def member(rid: str, rel: Relationship, born: date, sex: Sex = Sex.FEMALE) -> ResidentRecord:
    return dataclasses.replace(HEAD, record_id=rid, relationship=rel, birth_date=born, sex=sex)


def test_a_plausible_three_generation_household_passes() -> None:
    rules.household_consistent(
        [
            HEAD,
            member("w", Relationship.WIFE, date(1972, 1, 1)),
            member("c", Relationship.CHILD, date(2000, 1, 1), Sex.MALE),
            member("m", Relationship.MOTHER, date(1945, 1, 1)),
        ]
    )


@pytest.mark.parametrize(
    ("members", "rule"),
    [
        ([member("w", Relationship.WIFE, date(1972, 1, 1))], "one_householder"),
        ([HEAD, dataclasses.replace(HEAD, record_id="x")], "one_householder"),
        (
            [
                HEAD,
                member("a", Relationship.WIFE, date(1972, 1, 1)),
                member("b", Relationship.WIFE_UNREGISTERED, date(1973, 1, 1)),
            ],
            "one_spouse",
        ),
        ([HEAD, member("c", Relationship.CHILD, date(1960, 1, 1))], "younger_than_householder"),
        ([HEAD, member("m", Relationship.MOTHER, date(1990, 1, 1))], "older_than_householder"),
        (
            [
                HEAD,
                member("m", Relationship.MOTHER, date(1940, 1, 1)),
                member("n", Relationship.MOTHER, date(1941, 1, 1)),
            ],
            "at_most_one",
        ),
        ([HEAD, member("f", Relationship.FATHER, date(1940, 1, 1), Sex.FEMALE)], "sex_mismatch"),
    ],
)
def test_inconsistent_households_are_refused(members: list[ResidentRecord], rule: str) -> None:
    with pytest.raises(DomainRuleError) as err:
        rules.household_consistent(members)
    assert err.value.rule == rule
    assert err.value.message_ja


def test_relationship_overrides_are_checked_before_applying() -> None:
    wife = member("w", Relationship.WIFE, date(1972, 1, 1))
    rules.household_consistent(
        [HEAD, wife], {"head": Relationship.HUSBAND, "w": Relationship.HOUSEHOLDER}
    )


def test_event_dates() -> None:
    today = date(2025, 4, 1)
    rules.event_dates(date(2025, 3, 1), date(2025, 3, 5), today, date(1970, 1, 1))
    with pytest.raises(ValidationError) as err:
        rules.event_dates(date(2025, 3, 5), date(2025, 3, 1), today, date(1970, 1, 1))
    assert (err.value.field, err.value.rule) == ("notified_on", "before_effective_date")
    with pytest.raises(ValidationError) as err:
        rules.event_dates(date(2025, 4, 2), date(2025, 4, 2), today, date(1970, 1, 1))
    assert err.value.rule == "future_date"


def test_address_rules() -> None:
    rules.address_in_municipality("address", "東京都稲城市百村1番地", "東京都稲城市")
    for bad in ("東京都稲城市", "東京都多摩市百村1番地"):
        with pytest.raises(DomainRuleError):
            rules.address_in_municipality("address", bad, "東京都稲城市")


def test_foreign_items_rules() -> None:
    with pytest.raises(ValidationError) as err:
        rules.foreign_items(is_foreign=True, nationality=None, foreign_category=None, honseki=None)
    assert err.value.field == "nationality"
    with pytest.raises(ValidationError) as err:
        rules.foreign_items(
            is_foreign=False, nationality="中国", foreign_category=None, honseki=None
        )
    assert err.value.rule == "not_for_japanese"


def test_birth_date_before_meiji_is_refused() -> None:
    """Registry rule, from juki's era table: 明治元年 begins 1868-01-25 (proleptic Gregorian);
    a date before it could never be printed on a certificate, so it is never recorded."""
    assert date(1868, 1, 25) == rules.EARLIEST_BIRTH_DATE
    rules.birth_date_in_era("birth_date", date(1868, 1, 25))
    with pytest.raises(ValidationError) as err:
        rules.birth_date_in_era("birth_date", date(1868, 1, 24))
    assert (err.value.field, err.value.rule) == ("birth_date", "before_meiji")
    assert "明治" in err.value.message_ja
    with pytest.raises(ValidationError) as err:
        rules.record_items({"birth_date": date(1800, 1, 1)}, prefix="fields.")
    assert err.value.field == "fields.birth_date"


@pytest.mark.parametrize("name", sorted(rules.FOREIGN_ONLY_ITEMS))
def test_foreign_resident_items_are_refused_on_a_japanese_record(name: str) -> None:
    """法第30条の45 and 令第30条の25〜27: these items belong to a foreign resident's record."""
    value: object = date(2030, 1, 1) if name == "stay_expiry" else "x"
    with pytest.raises(ValidationError) as err:
        rules.record_items({"is_foreign": False, name: value})
    assert (err.value.field, err.value.rule) == (name, "not_for_japanese")
    assert rules.FOREIGN_ONLY_ITEMS[name] in err.value.message_ja


@pytest.mark.parametrize("name", sorted(rules.JAPANESE_ONLY_ITEMS))
def test_former_surname_and_honseki_are_refused_on_a_foreign_record(name: str) -> None:
    """令第30条の13: 旧氏 comes from the 戸籍; a foreign resident has none, nor a 本籍."""
    items = {"is_foreign": True, "nationality": "韓国", "foreign_category": "special_permanent"}
    rules.record_items(items)
    with pytest.raises(ValidationError) as err:
        rules.record_items({**items, name: "金"})
    assert (err.value.field, err.value.rule) == (name, "not_for_foreign_resident")
    assert "外国人住民" in err.value.message_ja


def test_former_surname_needs_its_reading() -> None:
    rules.record_items({"former_surname": "佐藤", "former_surname_kana": "サトウ"})
    with pytest.raises(ValidationError) as err:
        rules.record_items({"former_surname": "佐藤"})
    assert (err.value.field, err.value.rule) == ("former_surname_kana", "pair_required")
