"""Dates on the certificate screens, in the Japanese era and in Japan time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from juki.certificates.jadates import wareki, wareki_time


def test_dates_are_written_in_the_era_in_force() -> None:
    assert wareki(date(2025, 5, 26)) == "令和7年5月26日"
    assert wareki("2019-05-01") == "令和元年5月1日"
    assert wareki("2019-04-30") == "平成31年4月30日"
    assert wareki(None) == ""


def test_timestamps_are_shown_in_japan_time() -> None:
    # 15:03 UTC on the 25th is 0:03 on the 26th in Japan.
    assert wareki_time("2025-05-25T15:03:00+00:00") == "令和7年5月26日 0時03分"
    assert wareki_time(datetime(2025, 5, 26, 5, 7, tzinfo=UTC)) == "令和7年5月26日 14時07分"
    assert wareki_time(None) == ""


def test_what_is_not_a_date_in_an_era_is_shown_as_it_is() -> None:
    assert wareki("1850-01-01") == "1850-01-01"  # before 明治: no era to write it in
    assert wareki("unknown") == "unknown"
    assert wareki_time("not a time") == "not a time"
