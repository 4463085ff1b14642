"""和暦 formatting: era boundaries, 元年 and the range limit."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.era import ERAS, era_of, to_wareki
from juki.core.errors import ValidationError


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2025, 4, 1), "令和7年4月1日"),
        (date(2019, 12, 31), "令和元年12月31日"),
        (date(2020, 1, 1), "令和2年1月1日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1868, 1, 25), "明治元年1月25日"),
        (date(1869, 1, 1), "明治2年1月1日"),
    ],
)
def test_to_wareki(d: date, expected: str) -> None:
    assert to_wareki(d) == expected


def test_era_of() -> None:
    assert era_of(date(1989, 1, 7)) == ("昭和", 64)
    assert era_of(date(1989, 1, 8)) == ("平成", 1)
    assert era_of(date(2025, 4, 1)) == ("令和", 7)
    assert era_of(datetime(2019, 5, 1, 0, 0)) == ("令和", 1)
    assert to_wareki(datetime(2019, 4, 30, 23, 59)) == "平成31年4月30日"


@pytest.mark.parametrize("d", [date(1868, 1, 24), date(1800, 1, 1), date(1, 1, 1)])
def test_before_meiji_is_rejected(d: date) -> None:
    with pytest.raises(ValidationError) as info:
        to_wareki(d)
    assert (info.value.field, info.value.rule) == ("date", "era_range")
    assert info.value.message_ja


def test_each_era_starts_where_the_previous_ends() -> None:
    for name, start in ERAS:
        assert era_of(start) == (name, 1)
    for (name, start), (previous, _) in itertools.pairwise(ERAS):
        assert era_of(start - timedelta(days=1))[0] == previous, name


WAREKI = re.compile(r"(明治|大正|昭和|平成|令和)(元|[1-9][0-9]*)年([1-9]|1[0-2])月([1-9][0-9]?)日")


@given(st.dates(min_value=date(1868, 1, 25)))
def test_wareki_round_trips_to_the_gregorian_year(d: date) -> None:
    text = to_wareki(d)
    match = WAREKI.fullmatch(text)
    assert match is not None, text
    name, year_text, month, day = match.groups()
    year = 1 if year_text == "元" else int(year_text)
    assert (name, year) == era_of(d)
    start = dict(ERAS)[name]
    assert start <= d
    assert start.year + year - 1 == d.year
    assert (int(month), int(day)) == (d.month, d.day)
