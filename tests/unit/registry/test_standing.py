"""A record's standing on a day (`juki.registry.standing`): 法24条 転出予定 until the date."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from juki.registry.model import ChangeReason, RecordStatus, Relationship, ResidentRecord, Sex
from juki.registry.standing import as_of, household_on, move_out_pending, standing_on

PLANNED = date(2025, 4, 10)


def _record(
    record_id: str = "r1", relationship: Relationship = Relationship.HOUSEHOLDER
) -> ResidentRecord:
    return ResidentRecord(
        record_id=record_id,
        lg_code="132250",
        resident_code="24727059608",
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=date(1980, 5, 5),
        sex=Sex.MALE,
        household_id="h1",
        relationship=relationship,
        resident_since=date(2020, 1, 1),
        address="東京都稲城市東長沼1丁目1番1号",
        address_since=date(2020, 1, 1),
    )


def _moving(
    record: ResidentRecord, reason: ChangeReason = ChangeReason.MOVE_OUT_PLANNED
) -> ResidentRecord:
    return dataclasses.replace(
        record,
        status=RecordStatus.REMOVED,
        removal_reason=reason,
        removed_on=PLANNED,
        move_out_planned_address="神奈川県藤沢市鵠沼石上1丁目1番1号",
        move_out_planned_on=PLANNED,
    )


def test_a_filed_move_out_is_a_resident_record_until_the_planned_date() -> None:
    r = _moving(_record())
    assert standing_on(r, PLANNED - timedelta(days=1)) is RecordStatus.ACTIVE
    assert standing_on(r, PLANNED) is RecordStatus.REMOVED
    shown = as_of(r, date(2025, 4, 1))
    assert shown.is_active and shown.removed_on is None
    assert shown.removal_reason is ChangeReason.MOVE_OUT_PLANNED  # the removal it is pending
    assert shown.move_out_planned_on == PLANNED  # the 転出予定 stays on it
    assert as_of(r, PLANNED) == r


def test_abroad_is_pending_too_but_other_removals_are_not() -> None:
    assert move_out_pending(_moving(_record(), ChangeReason.EMIGRATION), date(2025, 4, 1))
    assert not move_out_pending(_moving(_record(), ChangeReason.DEATH), date(2025, 4, 1))


def test_a_confirmed_move_out_is_a_removed_record_at_once() -> None:
    r = dataclasses.replace(_moving(_record()), move_out_confirmed_on=date(2025, 4, 3))
    assert standing_on(r, date(2025, 4, 5)) is RecordStatus.REMOVED


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2050, 1, 1)))
def test_standing_follows_the_date(day: date) -> None:
    r = _moving(_record())
    assert (standing_on(r, day) is RecordStatus.ACTIVE) == (day < PLANNED)
    assert standing_on(_record(), day) is RecordStatus.ACTIVE


def test_household_on_shows_pending_members_but_one_householder() -> None:
    head = _moving(_record("head"))
    wife = _record("wife", Relationship.HOUSEHOLDER)  # named householder by the 転出届
    child = _moving(_record("child", Relationship.CHILD))
    day = date(2025, 4, 1)
    assert [m.record_id for m in household_on(day, [head, wife, child])] == ["wife", "child"]
    assert [m.record_id for m in household_on(day, [head, child])] == ["head", "child"]
    assert household_on(PLANNED, [head, child]) == ()
