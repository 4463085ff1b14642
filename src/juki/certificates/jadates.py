"""Dates as the certificate screens show them: in the Japanese era (令和7年5月26日).

The terminal and the public verification page register these as Jinja filters; certificates
print their own dates through `juki.core.era` the same way. Form fields keep ISO dates (a
browser's date input needs them); everything a person reads is in the era.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from juki.core.clock import JST
from juki.core.era import to_wareki
from juki.core.errors import ValidationError

if TYPE_CHECKING:
    from jinja2 import Environment


def wareki(value: date | str | None) -> str:
    """A date (or an ISO date) as 令和7年5月26日; text that is not a date is shown as it is."""
    if value is None or value == "":
        return ""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return to_wareki(day)
    except (ValueError, ValidationError):
        return str(value)


def wareki_time(value: datetime | str | None) -> str:
    """A timestamp as 令和7年5月26日 14時03分, in Japan time."""
    if value is None or value == "":
        return ""
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if at.tzinfo is not None:
            at = at.astimezone(JST)
        return f"{to_wareki(at.date())} {at.hour}時{at.minute:02d}分"
    except (ValueError, ValidationError):
        return str(value)


def add_date_filters(env: Environment) -> None:
    env.filters["wareki"] = wareki
    env.filters["wareki_time"] = wareki_time
