"""`juki oplog report`'s analysis: each finding on entries made for it, thresholds applied,
Japanese public holidays known, the node itself left out of the time checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from juki.core.clock import JST
from juki.security.report import Thresholds, analyse, as_text

T = Thresholds(night_from=22, night_until=6, mass_search=3, many_viewers=3, failed_logins=2)


def e(
    at: datetime,
    actor: str = "clerk1",
    action: str = "view_record",
    target: str = "r1",
    *,
    role: str = "counter_clerk",
    outcome: str = "ok",
    purpose: str = "case-7",
    my_number_shown: bool = False,
) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "actor_id": actor,
        "role": role,
        "action": action,
        "target": target,
        "outcome": outcome,
        "purpose": purpose,
        "my_number_shown": my_number_shown,
    }


def kinds(entries: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    report = analyse(entries, date(2025, 4, 1), T)
    return [(f.kind, f.actor_id, f.target or f.day) for f in report.findings]


TUESDAY = datetime(2025, 4, 1, 10, 0, tzinfo=JST)


def test_ordinary_work_is_not_a_finding() -> None:
    assert kinds([e(TUESDAY), e(TUESDAY, "clerk2", target="r2")]) == []


def test_late_night_and_holidays_but_not_the_node_itself() -> None:
    found = kinds(
        [
            e(datetime(2025, 4, 1, 23, 30, tzinfo=JST)),
            e(datetime(2025, 4, 2, 5, 59, tzinfo=JST), "clerk2"),
            e(datetime(2025, 4, 1, 23, 30, tzinfo=JST), "system", role="system"),
            e(datetime(2025, 5, 6, 10, 0, tzinfo=JST), "clerk3", target="r3"),  # 振替休日
            e(datetime(2025, 4, 5, 10, 0, tzinfo=JST), "clerk3", target="r3"),  # 土曜日
        ]
    )
    assert found == [
        ("late_night", "clerk1", "2025-04-01"),
        ("late_night", "clerk2", "2025-04-02"),
        ("holiday", "clerk3", "2025-04-05 土曜日"),
        ("holiday", "clerk3", "2025-05-06 振替休日"),
    ]


def test_a_utc_time_is_judged_in_japan() -> None:
    utc_evening = datetime.fromisoformat("2025-04-01T14:30:00+00:00")  # 23:30 in Japan
    assert kinds([e(utc_evening)]) == [("late_night", "clerk1", "2025-04-01")]


def test_failed_logins_and_mass_searches_from_their_thresholds() -> None:
    login = [e(TUESDAY, "clerk9", "login", "clerk9", outcome="denied")]
    search = [e(TUESDAY, "clerk4", "search_records", f"q{i}") for i in range(3)]
    assert kinds(login) == []
    assert kinds(login * 2 + search[:2]) == [("failed_login", "clerk9", "2025-04-01")]
    assert kinds(search) == [("mass_search", "clerk4", "2025-04-01")]


def test_one_person_viewed_by_many_operators() -> None:
    views = [e(TUESDAY, f"clerk{i}", target="r5") for i in range(3)]
    assert kinds(views[:2]) == []
    assert kinds(views) == [("many_viewers", "clerk0, clerk1, clerk2", "r5")]


def test_views_without_a_case_and_my_number_shown_without_need() -> None:
    found = kinds(
        [
            e(TUESDAY, purpose=""),
            e(TUESDAY, "clerk2", target="r2", my_number_shown=True, purpose=""),
            e(TUESDAY, "clerk3", target="r3", my_number_shown=True),
            e(TUESDAY, "system", "assign_my_number", "r4", role="system", my_number_shown=True),
        ]
    )
    assert found == [
        ("view_without_case", "clerk1", "r1"),
        ("view_without_case", "clerk2", "r2"),
        ("my_number_without_need", "clerk2", "r2"),
    ]


def test_the_text_is_in_japanese() -> None:
    report = analyse([e(datetime(2025, 5, 5, 23, 0, tzinfo=JST), purpose="")], date(2025, 5, 1), T)
    text = "\n".join(as_text(report))
    assert "深夜の操作" in text
    assert "休日（土日・祝日）の操作" in text
    assert "こどもの日" in text
    assert "事案（目的）のない参照" in text
    assert "該当なし" in "\n".join(as_text(analyse([], date(2025, 5, 1), T)))
