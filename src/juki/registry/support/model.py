"""支援措置 (DV・ストーカー行為等・児童虐待等の被害者の支援措置) as plain values, and when one is
in force (住民基本台帳事務処理要領 第5-10).

A 支援措置 is its own record, not an item of the 住民票: the 申出 (its date and kind), the
persons it protects (resident records of this municipality), the persons it is against (加害者,
as far as they are known: they may live anywhere), and its periods. The first period starts on
the day the municipality decides (and tells the applicant) and lasts one year (要領: 支援措置の
期間は1年); a renewal (延長) adds the next year from the day after the end. A temporary release
(一時的な解除) lifts it for a stated purpose and a stated period; a termination (終了) ends it
early, at the protected person's request.

Nothing runs when a period ends: whether a measure is in force is computed from the day asked
(`in_force`), by every read that depends on it (certificates, the registry's own flag).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

# 延長の申出: accepted from one month before the period ends (要領 第5-10).
RENEWAL_WINDOW_MONTHS: Final = 1


class SupportKind(StrEnum):
    """申出の区分."""

    DOMESTIC_VIOLENCE = "domestic_violence"  # 配偶者からの暴力 (DV防止法)
    STALKING = "stalking"  # ストーカー行為等 (ストーカー規制法)
    CHILD_ABUSE = "child_abuse"  # 児童虐待 (児童虐待防止法)
    OTHER = "other"  # その他これらに準ずる行為

    @property
    def label_ja(self) -> str:
        return _KIND_JA[self]


_KIND_JA: Final = {
    SupportKind.DOMESTIC_VIOLENCE: "DV（配偶者からの暴力）",
    SupportKind.STALKING: "ストーカー行為等",
    SupportKind.CHILD_ABUSE: "児童虐待",
    SupportKind.OTHER: "その他これらに準ずる行為",
}


@dataclass(frozen=True, slots=True)
class RestrainedParty:
    """加害者: who the measure is against, as known to the applicant; only the name is required
    (the birth date and address may be unknown, and the address may be in any municipality)."""

    family_name: str
    given_name: str
    name_kana: str | None = None
    birth_date: date | None = None
    address: str | None = None
    relation: str | None = None  # 申出者との関係 (元夫, 父 …)

    @property
    def full_name(self) -> str:
        return f"{self.family_name}\u3000{self.given_name}"


@dataclass(frozen=True, slots=True)
class SupportPeriod:
    """One year of protection: the first (from the decision) or a renewal (from the day after
    the previous end). Both ends are included."""

    starts_on: date
    ends_on: date
    requested_on: date  # 申出日, or 延長の申出日
    renewal: bool = False

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True, slots=True)
class TemporaryRelease:
    """一時的な解除: the measure does not apply from `released_from` to `released_until`
    (both included), for the purpose stated (e.g. a court procedure that needs the 写し)."""

    released_from: date
    released_until: date
    purpose: str
    requested_on: date

    def covers(self, day: date) -> bool:
        return self.released_from <= day <= self.released_until


@dataclass(frozen=True, slots=True)
class SupportMeasure:
    measure_id: str
    kind: SupportKind
    requested_on: date  # 申出日
    protected: tuple[str, ...]  # record ids of the persons protected (支援対象者 and 併せて)
    restrained: tuple[RestrainedParty, ...]  # 加害者
    periods: tuple[SupportPeriod, ...]  # the first, then each renewal
    releases: tuple[TemporaryRelease, ...] = ()
    terminated_on: date | None = None  # 終了: not in force from this day on
    termination_reason: str | None = None
    note: str = ""  # how the need was confirmed (警察等の意見, 保護命令 …)
    recorded_by: str = ""
    version: int = 1

    @property
    def starts_on(self) -> date:
        return self.periods[0].starts_on

    @property
    def ends_on(self) -> date:
        """The last day of the last period, as decided (a termination may end it earlier)."""
        return self.periods[-1].ends_on

    @property
    def last_day(self) -> date:
        """The last day it can be in force: the period's end, or the day before termination."""
        if self.terminated_on is not None:
            return min(self.ends_on, self.terminated_on - timedelta(days=1))
        return self.ends_on

    def released_on(self, day: date) -> TemporaryRelease | None:
        return next((r for r in self.releases if r.covers(day)), None)

    def in_force(self, day: date) -> bool:
        """In force on `day` iff a period covers it, it is not terminated by then and no
        temporary release covers it."""
        if self.terminated_on is not None and day >= self.terminated_on:
            return False
        return any(p.covers(day) for p in self.periods) and self.released_on(day) is None

    def protects(self, record_id: str) -> bool:
        return record_id in self.protected


def one_year_from(start: date) -> date:
    """The last day of a one-year period that starts on `start` (初日算入: 民法第143条). The
    period ends the day before the same date a year later; a period from 2月29日 ends on the
    last day of February of the next year (民法第143条第2項)."""
    try:
        same_day = start.replace(year=start.year + 1)
    except ValueError:  # 2月29日 in a year without one
        return date(start.year + 1, 2, 28)
    return same_day - timedelta(days=1)


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the last day of that month when it has no such day)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def renewal_opens_on(measure: SupportMeasure) -> date:
    """The first day a renewal (延長の申出) is accepted: one month before the period ends."""
    return months_before(measure.ends_on, RENEWAL_WINDOW_MONTHS)


def protected_on(measures: Iterable[SupportMeasure], record_id: str, day: date) -> bool:
    """Whether any measure protecting this record is in force on `day`."""
    return any(m.protects(record_id) and m.in_force(day) for m in measures)


def support_period_on(
    measures: Iterable[SupportMeasure], record_id: str, day: date
) -> tuple[date, date] | None:
    """The first and last day of the measure protecting this record on `day`, if one does
    (the last day counts a termination): what the 附票 notice carries to the 本籍."""
    for m in measures:
        if m.protects(record_id) and m.in_force(day):
            return m.starts_on, m.last_day
    return None


def protected_records(measures: Iterable[SupportMeasure], day: date) -> frozenset[str]:
    """Every record protected on `day` by one of these measures."""
    return frozenset(rid for m in measures if m.in_force(day) for rid in m.protected)
