"""The record is the fold of its changes; the change codec round-trips every field type."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.errors import DomainRuleError
from juki.registry.model import (
    RECORD_FIELDS,
    ChangeReason,
    ForeignResidentCategory,
    RecordChange,
    RecordStatus,
    Relationship,
    ResidentRecord,
    Sex,
    apply,
    decode_fields,
    diff,
    encode_fields,
    fold,
    initial_fields,
    record_from_row,
    record_to_row,
)

BASE = ResidentRecord(
    record_id="r1",
    lg_code="132250",
    resident_code="24727059608",
    family_name="山田",
    given_name="太郎",
    family_name_kana="ヤマダ",
    given_name_kana="タロウ",
    birth_date=date(1980, 5, 5),
    sex=Sex.MALE,
    household_id="h1",
    relationship=Relationship.HOUSEHOLDER,
    resident_since=date(2000, 1, 1),
    address="東京都稲城市東長沼1番地",
    address_since=date(2000, 1, 1),
)

texts = st.text(min_size=1, max_size=20)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))
updates = st.fixed_dictionaries(
    {},
    optional={
        "family_name": texts,
        "address": texts,
        "address_since": dates,
        "relationship": st.sampled_from(Relationship),
        "my_number": st.none() | st.from_regex(r"\A[0-9]{12}\Z"),
        "foreign_category": st.none() | st.sampled_from(ForeignResidentCategory),
        "electoral_registered": st.booleans(),
        "stay_expiry": st.none() | dates,
    },
)


def first_change() -> RecordChange:
    return RecordChange(
        ChangeReason.MOVE_IN, date(2000, 1, 1), date(2000, 1, 2), initial_fields(BASE)
    )


@given(st.lists(updates, max_size=6))
def test_fold_equals_applying_each_change(steps: list[dict[str, object]]) -> None:
    changes = [first_change()]
    record = BASE
    for fields in steps:
        change = RecordChange(
            ChangeReason.CORRECTION_BY_AUTHORITY, date(2020, 1, 1), date(2020, 1, 1), fields
        )
        record = apply(record, change)
        changes.append(change)
    assert fold(changes) == record


@given(updates)
def test_change_codec_round_trips(fields: dict[str, object]) -> None:
    assert decode_fields(encode_fields(fields)) == fields


@given(updates)
def test_row_round_trip(fields: dict[str, object]) -> None:
    record = dataclasses.replace(BASE, **fields)
    assert record_from_row(record_to_row(record)) == record


def test_diff_lists_only_changed_fields() -> None:
    after = dataclasses.replace(BASE, address="東京都稲城市百村1番地")
    assert diff(BASE, after) == {"address": "東京都稲城市百村1番地"}


def test_unknown_field_in_a_change_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown record fields"):
        RecordChange(ChangeReason.RELOCATION, date(2020, 1, 1), date(2020, 1, 1), {"shoe_size": 27})


def test_removed_record_takes_only_confirmation_and_correction() -> None:
    removed = dataclasses.replace(BASE, status=RecordStatus.REMOVED)
    with pytest.raises(DomainRuleError) as err:
        apply(removed, RecordChange(ChangeReason.RELOCATION, date(2020, 1, 1), date(2020, 1, 1)))
    assert err.value.rule == "removed_record"
    confirmed = apply(
        removed,
        RecordChange(
            ChangeReason.MOVE_OUT_CONFIRMED,
            date(2020, 1, 1),
            date(2020, 1, 1),
            {"move_out_confirmed_address": "大阪府大阪市北区1番地"},
        ),
    )
    assert confirmed.move_out_confirmed_address == "大阪府大阪市北区1番地"


def test_every_field_has_a_column_name() -> None:
    assert "resident_code" in RECORD_FIELDS and "alias_name" in RECORD_FIELDS


def test_age_on_birthday_boundaries() -> None:
    assert BASE.age_on(date(1995, 5, 4)) == 14
    assert BASE.age_on(date(1995, 5, 5)) == 15
    leapling = dataclasses.replace(BASE, birth_date=date(2000, 2, 29))
    assert leapling.age_on(date(2015, 2, 28)) == 14
    assert leapling.age_on(date(2015, 3, 1)) == 15


def test_labels_are_japanese() -> None:
    assert ChangeReason.MOVE_OUT_PLANNED.label_ja == "転出予定"
    assert Relationship.HOUSEHOLDER.label_ja == "世帯主"
    assert Sex.FEMALE.label_ja == "女"
    assert all(r.label_ja for r in ChangeReason)
    assert all(r.label_ja for r in Relationship)
