"""Clocks: every rule about "today" asks one, so tests and the simulator can fix time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    """Wall-clock time in Japan: a notification's date is the date at the counter, in JST."""

    def now(self) -> datetime:
        return datetime.now(JST)

    def today(self) -> date:
        return self.now().date()


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=JST)
        self._at = at

    def now(self) -> datetime:
        return self._at

    def today(self) -> date:
        return self._at.astimezone(JST).date()

    def advance(self, delta: timedelta) -> None:
        self._at += delta
