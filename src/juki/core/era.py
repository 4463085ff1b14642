"""Japanese era (和暦) dates, as printed on certificates such as 住民票の写し.

Eras are looked up by their Gregorian start date, so a date is always written in the era in force
on that day (1989-01-07 is 昭和64年, the next day 平成元年). Dates before 明治 are rejected rather
than guessed. Dates are taken as proleptic Gregorian: before 明治6年 (1873), when Japan adopted
the Gregorian calendar, the month and day printed are not those of the old lunisolar calendar.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from juki.core.errors import ValidationError

ERAS: Final[tuple[tuple[str, date], ...]] = (
    ("令和", date(2019, 5, 1)),
    ("平成", date(1989, 1, 8)),
    ("昭和", date(1926, 12, 25)),
    ("大正", date(1912, 7, 30)),
    ("明治", date(1868, 1, 25)),
)
"""(era name, first day) pairs, newest first."""


def era_of(d: date) -> tuple[str, int]:
    """The era name and era year (1 for the first year) in force on ``d``."""
    day = d.date() if isinstance(d, datetime) else d
    for name, start in ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    first_name, first_day = ERAS[-1]
    raise ValidationError(
        "date",
        "era_range",
        f"{day.isoformat()} is before the {first_name} era ({first_day.isoformat()})",
        f"{first_name}より前の日付は和暦で表せません（{day.isoformat()}）",
    )


def to_wareki(d: date) -> str:
    """Format ``d`` as e.g. ``令和7年4月1日``; the first year of an era is written ``元年``."""
    name, year = era_of(d)
    year_text = "元" if year == 1 else str(year)
    return f"{name}{year_text}年{d.month}月{d.day}日"
