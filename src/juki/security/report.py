"""Analysis of the operation log (`juki oplog report`), as plain functions over its entries.

What an auditor looks for first (seed 001 第16, seed 002: 操作履歴の分析): operators working late
at night or on a day off (weekends and Japanese public holidays, `holidays`), failed logins,
mass searches, one person looked at by many operators, views without a case, and 個人番号 shown
without a need. Each threshold is a field of `Thresholds`; the command line sets them. The node
itself (role `system`) works around the clock and answers other nodes: it is left out of the time
and view checks.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Final

import holidays

from juki.core.clock import JST

# The actions that show a person's data to the operator, and those that search for people
# (`lookup_identity_info*`: the admin lookups older logs hold; a provision to an agency,
# `provide_identity_info`, is judged by the provision register, always with its purpose, and
# recorded per lookup in `provision_records`).
VIEW_ACTIONS: Final = frozenset(
    {
        "view_record",
        "search_records",
        "lookup_identity_info",
        "lookup_identity_info_basic",
        "issue_certificate",
        "view_seal",
    }
)
SEARCH_ACTIONS: Final = frozenset({"search_records", "lookup_identity_info_basic"})
# Work that cannot be done without the number: showing it there is the work itself.
NEEDS_MY_NUMBER: Final = frozenset({"assign_my_number"})
SYSTEM_ROLE: Final = "system"

LABELS: Final = {
    "late_night": "深夜の操作",
    "holiday": "休日（土日・祝日）の操作",
    "failed_login": "ログインの失敗",
    "mass_search": "大量検索",
    "many_viewers": "同一人物を多数の操作者が参照",
    "view_without_case": "事案（目的）のない参照",
    "my_number_without_need": "必要のない個人番号の表示",
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    night_from: int = 22  # 時: an operation at or after this hour (JST) is late at night...
    night_until: int = 6  # ...and before this one
    mass_search: int = 100  # searches by one operator in one day
    many_viewers: int = 5  # distinct operators who viewed the same person
    failed_logins: int = 3  # failed logins by one operator in one day


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    actor_id: str
    target: str
    day: str
    count: int
    detail: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.kind]


@dataclass
class Report:
    since: str
    entries: int
    thresholds: Thresholds
    findings: list[Finding] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "entries": self.entries,
            "thresholds": asdict(self.thresholds),
            "findings": [asdict(f) | {"label": f.label} for f in self.findings],
        }


def _local(at: str) -> datetime:
    return datetime.fromisoformat(at).astimezone(JST)


def is_day_off(day: date, calendar: Mapping[date, str]) -> str | None:
    """The day's holiday name, 土曜日 or 日曜日; None on a working day."""
    if day in calendar:
        return str(calendar[day])
    return {5: "土曜日", 6: "日曜日"}.get(day.weekday())


def _is_failed_login(entry: Mapping[str, Any]) -> bool:
    return "login" in str(entry["action"]) and entry["outcome"] != "ok"


def analyse(entries: Iterable[Mapping[str, Any]], since: date, t: Thresholds) -> Report:
    """The findings over `entries` (oplog rows from `since`), in a stable order."""
    report = Report(since.isoformat(), 0, t)
    calendar = holidays.country_holidays("JP", language="ja")
    odd_hours: Counter[tuple[str, str, str]] = Counter()
    searches: Counter[tuple[str, str]] = Counter()
    failed: Counter[tuple[str, str]] = Counter()
    viewers: defaultdict[str, set[str]] = defaultdict(set)
    for entry in entries:
        report.entries += 1
        at = _local(str(entry["at"]))
        day, actor, action = at.date().isoformat(), str(entry["actor_id"]), str(entry["action"])
        human = entry["role"] != SYSTEM_ROLE
        if human and (at.hour >= t.night_from or at.hour < t.night_until):
            odd_hours[("late_night", actor, day)] += 1
        day_off = is_day_off(at.date(), calendar) if human else None
        if day_off:
            odd_hours[("holiday", actor, f"{day} {day_off}")] += 1
        if _is_failed_login(entry):
            failed[(actor, day)] += 1
        if action in SEARCH_ACTIONS:
            searches[(actor, day)] += 1
        if human and action in VIEW_ACTIONS and entry["outcome"] == "ok":
            viewers[str(entry["target"])].add(actor)
            if not str(entry["purpose"]).strip():
                report.findings.append(
                    Finding("view_without_case", actor, str(entry["target"]), day, 1, action)
                )
        needless = action not in NEEDS_MY_NUMBER and not str(entry["purpose"]).strip()
        if entry["my_number_shown"] and needless:
            report.findings.append(
                Finding("my_number_without_need", actor, str(entry["target"]), day, 1, action)
            )
    for (kind, actor, day), n in sorted(odd_hours.items()):
        report.findings.append(Finding(kind, actor, "", day, n))
    for (actor, day), n in sorted(failed.items()):
        if n >= t.failed_logins:
            report.findings.append(Finding("failed_login", actor, "", day, n))
    for (actor, day), n in sorted(searches.items()):
        if n >= t.mass_search:
            report.findings.append(Finding("mass_search", actor, "", day, n))
    for target, who in sorted(viewers.items()):
        if len(who) >= t.many_viewers:
            report.findings.append(
                Finding("many_viewers", ", ".join(sorted(who)), target, "", len(who))
            )
    order = list(LABELS)
    report.findings.sort(key=lambda f: (order.index(f.kind), f.day, f.actor_id, f.target))
    return report


def as_text(report: Report) -> list[str]:
    """The report for the console, in Japanese."""
    lines = [f"操作履歴の分析: {report.since} 以降 {report.entries} 件"]
    if not report.findings:
        return [*lines, "該当なし"]
    by_kind: defaultdict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_kind[finding.kind].append(finding)
    for kind, found in by_kind.items():
        lines.append(f"■ {LABELS[kind]}（{len(found)} 件）")
        for f in found:
            parts = [p for p in (f.day, f.actor_id, f.target, f.detail) if p]
            lines.append(f"  {' '.join(parts)}  {f.count} 件")
    return lines
