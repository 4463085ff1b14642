"""`juki.provision.rules`: which items an agency may receive for a task on a day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from juki.provision.model import Agency, AgencyKind, AgencyStatus, Item, PermittedTask
from juki.provision.rules import allowed_items, disallowed, refusal, task_on

NENKIN = Agency(
    "nenkin",
    "日本年金機構",
    AgencyKind.CORPORATION,
    AgencyStatus.ACTIVE,
    "0" * 64,
    date(2010, 1, 1),
)
ALL = frozenset(Item)
PENSION = PermittedTask(
    table="第一",
    row="九十一",
    title="年金給付",
    items=ALL,
    my_number_task=True,
    agencies=frozenset({"nenkin"}),
    effective_from=date(2016, 1, 1),
)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(today=st.dates(min_value=date(2011, 1, 1), max_value=date(2090, 12, 31)), data=st.data())
def test_a_task_withdrawn_last_year_refuses_today_and_allows_a_day_it_was_in_force(
    today: date, data: st.DataObject
) -> None:
    withdrawn = data.draw(st.dates(min_value=date(today.year - 1, 1, 1), max_value=today))
    start = data.draw(st.dates(min_value=date(2002, 8, 5), max_value=withdrawn - timedelta(1)))
    while_in_force = data.draw(st.dates(min_value=start, max_value=withdrawn - timedelta(1)))
    task = replace(PENSION, effective_from=start, withdrawn_on=withdrawn)
    agency = replace(NENKIN, registered_on=start)
    assert allowed_items(task, agency, on=today) == frozenset()
    assert "not in force" in (refusal(task, agency, on=today) or "")
    assert allowed_items(task, agency, on=while_in_force) == ALL
    assert refusal(task, agency, on=while_in_force) is None


@given(day=days, items=st.sets(st.sampled_from(list(Item))), mine=st.booleans())
def test_the_my_number_only_ever_to_a_my_number_task(
    day: date, items: set[Item], mine: bool
) -> None:
    task = replace(
        PENSION, items=frozenset(items), my_number_task=mine, effective_from=date(2000, 1, 1)
    )
    agency = replace(NENKIN, registered_on=date(2000, 1, 1))
    got = allowed_items(task, agency, on=day)
    assert got <= frozenset(items)
    assert (Item.MY_NUMBER in got) == (mine and Item.MY_NUMBER in items)


def test_an_agency_not_registered_for_the_task_or_not_active_that_day_gets_nothing() -> None:
    day = date(2025, 4, 1)
    other = replace(NENKIN, agency_id="tokyo", kind=AgencyKind.PREFECTURE)
    assert allowed_items(PENSION, other, on=day) == frozenset()
    assert (
        refusal(PENSION, other, on=day) == "agency tokyo is not registered for 別表第一 の 九十一"
    )
    gone = replace(NENKIN, status=AgencyStatus.WITHDRAWN, withdrawn_on=date(2025, 1, 1))
    assert allowed_items(PENSION, gone, on=day) == frozenset()
    assert allowed_items(PENSION, gone, on=date(2024, 12, 31)) == ALL
    assert allowed_items(PENSION, NENKIN, on=date(2015, 12, 31)) == frozenset()
    assert refusal(None, NENKIN, on=day) == "no such permitted task in force on that day"
    assert disallowed(replace(PENSION, items=frozenset({Item.NAME})), NENKIN, ALL, on=day) == (
        ALL - {Item.NAME}
    )


def test_the_version_in_force_that_day_decides_an_amended_row() -> None:
    """An amendment that adds the 個人番号 from 2016 to a row in force since 2010."""
    before = replace(
        PENSION,
        items=ALL - {Item.MY_NUMBER},
        my_number_task=False,
        effective_from=date(2010, 1, 1),
        withdrawn_on=date(2016, 1, 1),
    )
    versions = [before, PENSION]
    assert task_on(versions, PENSION.ref, date(2015, 6, 1)) == before
    assert task_on(versions, PENSION.ref, date(2016, 1, 1)) == PENSION
    assert task_on(versions, PENSION.ref, date(2009, 12, 31)) is None
    assert task_on(versions, "別表第一 の 一", date(2020, 1, 1)) is None
    got = allowed_items(
        task_on(versions, PENSION.ref, date(2015, 6, 1)), NENKIN, on=date(2015, 6, 1)
    )
    assert Item.MY_NUMBER not in got and Item.NAME in got
