"""支援措置 as a record (事務処理要領 第5-10): its period, when it is in force, and the rules of
its renewal, temporary release and termination — pure, no database."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.errors import DomainRuleError, ValidationError
from juki.registry.support import rules
from juki.registry.support.model import (
    RestrainedParty,
    SupportKind,
    SupportMeasure,
    SupportPeriod,
    TemporaryRelease,
    months_before,
    one_year_from,
    protected_on,
    protected_records,
    renewal_opens_on,
)

START = date(2025, 4, 1)
END = date(2026, 3, 31)


def measure(**kw: object) -> SupportMeasure:
    base = SupportMeasure(
        measure_id="m1",
        kind=SupportKind.DOMESTIC_VIOLENCE,
        requested_on=date(2025, 3, 28),
        protected=("r1", "r2"),
        restrained=(RestrainedParty("渡辺", "剛"),),
        periods=(SupportPeriod(START, END, date(2025, 3, 28)),),
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


# -- the period: one year from the decision (要領: 支援措置の期間は1年) -----------------------


def test_one_year_ends_the_day_before_the_same_date_next_year() -> None:
    assert one_year_from(date(2025, 4, 1)) == date(2026, 3, 31)
    assert one_year_from(date(2025, 1, 1)) == date(2025, 12, 31)
    assert one_year_from(date(2024, 3, 1)) == date(2025, 2, 28)


def test_one_year_from_february_29_ends_at_the_end_of_february() -> None:
    # 民法第143条第2項: no 2月29日 next year, so the period ends on the last day of February.
    assert one_year_from(date(2024, 2, 29)) == date(2025, 2, 28)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_one_year_is_365_or_366_days_inclusive(start: date) -> None:
    days = (one_year_from(start) - start).days + 1
    assert days in (365, 366)
    # the next period (a renewal) starts on the same month and day as this one, a year on
    following = one_year_from(start) + timedelta(days=1)
    assert following.year == start.year + 1
    assert (following.month, following.day) == (start.month, start.day) or (
        (start.month, start.day) == (2, 29) and (following.month, following.day) == (3, 1)
    )


def test_months_before_keeps_the_day_or_takes_the_month_end() -> None:
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 1) == date(2025, 12, 15)
    assert renewal_opens_on(measure()) == date(2026, 2, 28)


# -- in force on a day -------------------------------------------------------------------------


def test_in_force_from_start_to_end_inclusive() -> None:
    m = measure()
    assert not m.in_force(START - timedelta(days=1))
    assert m.in_force(START) and m.in_force(END)
    assert not m.in_force(END + timedelta(days=1))


def test_not_in_force_during_a_temporary_release() -> None:
    release = TemporaryRelease(date(2025, 6, 1), date(2025, 6, 30), "相続手続のため", START)
    m = measure(releases=(release,))
    assert m.in_force(date(2025, 5, 31))
    assert not m.in_force(date(2025, 6, 1)) and not m.in_force(date(2025, 6, 30))
    assert m.in_force(date(2025, 7, 1))


def test_not_in_force_from_the_termination_day() -> None:
    m = measure(terminated_on=date(2025, 9, 1))
    assert m.in_force(date(2025, 8, 31))
    assert not m.in_force(date(2025, 9, 1))
    assert m.last_day == date(2025, 8, 31)


def test_renewal_continues_without_a_gap() -> None:
    renewed = SupportPeriod(date(2026, 4, 1), date(2027, 3, 31), date(2026, 3, 10), renewal=True)
    m = measure(periods=(*measure().periods, renewed))
    assert m.in_force(END) and m.in_force(END + timedelta(days=1))
    assert m.in_force(date(2027, 3, 31)) and not m.in_force(date(2027, 4, 1))


def test_protected_only_the_persons_named_on_days_in_force() -> None:
    m = measure()
    assert protected_on([m], "r1", START)
    assert not protected_on([m], "r3", START)
    assert protected_records([m], START) == {"r1", "r2"}
    assert protected_records([m], END + timedelta(days=1)) == frozenset()


# -- the rules of each action --------------------------------------------------------------------


def test_first_period_from_the_decision_day() -> None:
    assert rules.first_period(date(2025, 3, 28), START, START) == SupportPeriod(
        START, END, date(2025, 3, 28)
    )
    with pytest.raises(ValidationError) as err:
        rules.first_period(date(2025, 4, 2), START, START)
    assert (err.value.field, err.value.rule) == ("requested_on", "future_date")
    with pytest.raises(ValidationError) as err:
        rules.first_period(START, date(2025, 3, 1), START)
    assert (err.value.field, err.value.rule) == ("starts_on", "before_request_date")


def test_renewal_from_one_month_before_the_end_to_the_end() -> None:
    m = measure()
    period = rules.renewal(m, date(2026, 2, 28), date(2026, 3, 1))
    assert period == SupportPeriod(date(2026, 4, 1), date(2027, 3, 31), date(2026, 2, 28), True)
    with pytest.raises(DomainRuleError) as err:
        rules.renewal(m, date(2026, 2, 27), date(2026, 3, 1))
    assert err.value.rule == "renewal_too_early" and "1か月前" in err.value.message_ja
    with pytest.raises(DomainRuleError) as err:
        rules.renewal(m, date(2026, 4, 1), date(2026, 4, 1))
    assert err.value.rule == "expired" and "新たに申出" in err.value.message_ja
    with pytest.raises(DomainRuleError) as err:
        rules.renewal(measure(terminated_on=date(2025, 9, 1)), date(2026, 3, 1), date(2026, 3, 1))
    assert err.value.rule == "terminated"


def test_release_needs_a_purpose_and_a_period_inside_the_measure() -> None:
    m = measure()
    r = rules.release(m, date(2025, 6, 1), date(2025, 6, 30), " 裁判手続 ", START, START)
    assert r == TemporaryRelease(date(2025, 6, 1), date(2025, 6, 30), "裁判手続", START)
    cases = [
        ((date(2025, 6, 1), date(2025, 6, 30), "  "), "purpose", "required"),
        ((date(2025, 3, 31), date(2025, 6, 30), "x"), "released_from", "before_current_date"),
        ((date(2025, 6, 30), date(2025, 6, 1), "x"), "released_until", "before_release_start"),
        ((date(2026, 3, 1), date(2026, 4, 30), "x"), "released_until", "after_end"),
    ]
    for (since, until, purpose), field, rule in cases:
        with pytest.raises((ValidationError, DomainRuleError)) as err:
            rules.release(m, since, until, purpose, START, START)
        assert (err.value.field, err.value.rule) == (field, rule)  # type: ignore[union-attr]
    with pytest.raises(DomainRuleError) as derr:
        rules.release(
            measure(releases=(r,)), date(2025, 6, 30), date(2025, 7, 5), "x", START, START
        )
    assert derr.value.rule == "overlapping_release"


def test_termination_from_today_within_the_period_with_a_reason() -> None:
    m = measure()
    assert rules.termination(m, date(2025, 9, 1), "本人の申出", date(2025, 9, 1)) == "本人の申出"
    with pytest.raises(ValidationError) as err:
        rules.termination(m, date(2025, 8, 31), "本人の申出", date(2025, 9, 1))
    assert err.value.rule == "before_current_date"
    with pytest.raises(DomainRuleError) as derr:
        rules.termination(m, date(2026, 4, 1), "本人の申出", date(2025, 9, 1))
    assert derr.value.rule == "after_end"
    with pytest.raises(ValidationError) as err:
        rules.termination(m, date(2025, 9, 1), "", date(2025, 9, 1))
    assert (err.value.field, err.value.rule) == ("reason", "required")


def test_restrained_parties_are_validated_field_by_field() -> None:
    ok = rules.restrained_parties(
        [
            RestrainedParty(
                " 渡辺 ", "剛", "わたなべ　つよし", date(1985, 1, 2), "大阪府大阪市北区1", "元夫"
            )
        ],
        START,
    )
    assert ok[0].family_name == "渡辺" and ok[0].name_kana == "ワタナベ　ツヨシ"
    with pytest.raises(ValidationError) as err:
        rules.restrained_parties([], START)
    assert (err.value.field, err.value.rule) == ("restrained", "required")
    with pytest.raises(ValidationError) as err:
        rules.restrained_parties([RestrainedParty("渡辺", "")], START)
    assert (err.value.field, err.value.rule) == ("restrained.0.given_name", "required")
    with pytest.raises(ValidationError) as err:
        rules.restrained_parties([RestrainedParty("渡辺", "剛", name_kana="abc")], START)
    assert err.value.field == "restrained.0.name_kana"
    with pytest.raises(ValidationError) as err:
        rules.restrained_parties(
            [RestrainedParty("渡辺", "剛", birth_date=date(2030, 1, 1))], START
        )
    assert (err.value.field, err.value.rule) == ("restrained.0.birth_date", "future_date")
    with pytest.raises(ValidationError) as err:
        rules.restrained_parties([RestrainedParty("渡辺", "剛", address="大阪\x00")], START)
    assert err.value.field == "restrained.0.address"
    with pytest.raises(ValidationError) as err:
        rules.restrained_parties([RestrainedParty("渡辺", "剛")] * 11, START)
    assert err.value.rule == "max_items"


def test_one_measure_per_person_at_a_time() -> None:
    m = measure()
    later = SupportPeriod(date(2026, 4, 1), date(2027, 3, 31), date(2026, 4, 1))
    rules.not_already_protected("r1", "山田", [m], later)  # after the end: a new 申出 is fine
    rules.not_already_protected("r3", "山田", [m], SupportPeriod(START, END, START))
    with pytest.raises(DomainRuleError) as err:
        rules.not_already_protected("r1", "山田", [m], SupportPeriod(START, END, START))
    assert err.value.rule == "already_protected" and "延長" in err.value.message_ja
