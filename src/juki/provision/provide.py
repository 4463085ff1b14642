"""Provision (本人確認情報の提供): an agency's lookups answered, judged and recorded — pure.

One call is one request of one agency, for one task and one purpose, with one or many lookups
(a batch). It is judged by the register in force on the request's day
(`rules.task_on`, `rules.allowed_items`): an agency not registered for the task, a task not in
force, an agency withdrawn, is a refusal of every lookup with the reason; a lookup asking for
an item the task does not allow (the 個人番号 to a task that is not a 個人番号利用事務) is refused
on its own. The rest is answered with only the items the task allows. A lookup identity_info
finds no one for is asked of 附票本人確認情報 (a person abroad) only as 法30条の44の6 allows
(`juki.provision.answers`): for a task the register lets use it, without the 住民票コード.

Everything happens in one transaction: the lookups are read (set-based, in chunks, by the
store), every lookup gets its row in `provision_records` — answered, not found or refused,
with the reason — and the call gets one oplog entry with the counts, so no answer leaves
without its record. A role without `PROVIDE_IDENTITY_INFO` is refused and logged (`denied`).
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from juki.core.errors import PermissionDeniedError, RuleViolation
from juki.core.ports import OpLogEntry, Outcome
from juki.provision.answers import FUHYO_TASK_REFUSAL, Answer, IdentityFound, refused
from juki.provision.answers import Outcome as Answered
from juki.provision.answers import answer as answer_one
from juki.provision.model import Agency, Item, PermittedTask
from juki.provision.ports import (
    IdentitySource,
    ProvideUnitOfWork,
    ProvisionCount,
    ProvisionRecord,
)
from juki.provision.requests import Lookup, LookupRequest
from juki.provision.rules import allowed_items, may_use_fuhyo, refusal, task_on
from juki.security.actions import log_alone, perform
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role, authorize

ACTION: Final = Permission.PROVIDE_IDENTITY_INFO
MAX_PURPOSE: Final = 200
MAX_TASK_REF: Final = 64


@dataclass(frozen=True, slots=True)
class ProvisionResult:
    request_id: str
    task_ref: str
    task_effective_from: date | None  # the version the request was judged by
    refusal: str | None  # why every lookup was refused; None when the task allowed them
    answers: tuple[Answer, ...]

    def counts(self) -> Counter[str]:
        """The outcomes as the agency is told them."""
        return Counter(a.outcome.value for a in self.answers)

    def recorded_counts(self) -> Counter[str]:
        """The outcomes as the node records them (a lookup the 附票 would have answered for a
        task that may not use it: refused)."""
        return Counter(a.recorded_outcome().value for a in self.answers)


def agency_actor(agency_id: str) -> Actor:
    """The agency a client certificate authenticated, as the oplog names it."""
    return Actor(f"agency:{agency_id}", Role.AGENCY, agency_id[:32])


def check_purpose(purpose: str) -> str:
    text = purpose.strip()
    if not 1 <= len(text) <= MAX_PURPOSE or any(
        unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text
    ):
        raise RuleViolation(
            "purpose",
            "purpose",
            f"purpose: 1-{MAX_PURPOSE} characters, no control characters",
            f"利用目的は制御文字を含まない1〜{MAX_PURPOSE}文字で指定してください",
        )
    return text


def check_task_ref(task_ref: str) -> str:
    text = task_ref.strip()
    if not 1 <= len(text) <= MAX_TASK_REF or not text.isprintable():
        raise RuleViolation(
            "task",
            "task_ref",
            "task: the 別表 row, e.g. 別表第一 の 九十一",
            "事務は別表の項で指定してください（例: 別表第一 の 九十一）",
        )
    return text


def _printable(text: str) -> str:
    """A refused purpose, as the oplog may keep it: printable characters only."""
    return "".join(c for c in text if c.isprintable())[:MAX_PURPOSE]


def judge(
    agency: Agency | None, versions: Sequence[PermittedTask], task_ref: str, day: date
) -> tuple[PermittedTask | None, frozenset[Item], str | None]:
    """The version in force, the items allowed and why not (None: allowed) on `day`."""
    task = task_on(versions, task_ref, day)
    if agency is None:
        return task, frozenset(), "agency not registered"
    if task is None:
        return None, frozenset(), f"no permitted task {task_ref} in force on {day.isoformat()}"
    why = refusal(task, agency, on=day)
    return task, allowed_items(task, agency, on=day), why


Key = tuple[str, date | None]


@dataclass(frozen=True, slots=True)
class _Read:
    """What one source found for a set of lookups, set-based, by the key each lookup has."""

    now: Mapping[str, list[IdentityFound]]
    history: Mapping[str, list[IdentityFound]]
    reading: Mapping[Key, list[IdentityFound]]
    past: Mapping[Key, list[IdentityFound]]

    def of(self, r: LookupRequest) -> Sequence[IdentityFound]:
        if r.lookup is Lookup.BASIC_ITEMS:
            key = (r.name_kana_key or "", r.birth_date)
            return (self.past if r.as_of else self.reading).get(key, [])
        return (self.history if r.as_of else self.now).get(r.resident_code or "", [])


def _read(source: IdentitySource, requests: Sequence[LookupRequest]) -> _Read:
    by_code = [r for r in requests if r.lookup is Lookup.RESIDENT_CODE]
    basic = [r for r in requests if r.lookup is Lookup.BASIC_ITEMS and r.birth_date]
    now_codes = sorted({r.resident_code for r in by_code if r.resident_code and r.as_of is None})
    past_codes = sorted({r.resident_code for r in by_code if r.resident_code and r.as_of})
    now_keys = sorted({(r.name_kana_key or "", r.birth_date) for r in basic if not r.as_of})
    past_keys = sorted({(r.name_kana_key or "", r.birth_date) for r in basic if r.as_of})
    return _Read(
        source.by_codes(now_codes),
        source.histories(past_codes) if past_codes else {},
        source.by_reading(now_keys),
        source.histories_by_reading(past_keys) if past_keys else {},
    )


def _answers(
    uow: ProvideUnitOfWork,
    requests: Sequence[LookupRequest],
    allowed: frozenset[Item],
    today: date,
    *,
    fuhyo: bool,
) -> list[Answer]:
    """Each lookup answered from identity_info; those by the four items it finds no one for
    asked again of the 附票連携 (people abroad), in a second set-based read of only those —
    answered from it when the task may use it (`fuhyo`), recorded as refused when not."""
    future = [r.as_of is not None and r.as_of > today for r in requests]
    asked = [r for r, late in zip(requests, future, strict=True) if not late]
    read = _read(uow.identities, asked)
    answers: list[Answer] = []
    for r, late in zip(requests, future, strict=True):
        if late:
            answers.append(refused(r, "as_of is after the day of the request"))
        else:
            answers.append(answer_one(r, read.of(r), allowed, fuhyo=fuhyo))
    again = [i for i, a in enumerate(answers) if a.asks_fuhyo()]
    if again:
        abroad = _read(uow.abroad, [requests[i] for i in again])
        for i in again:
            r = requests[i]
            answers[i] = answer_one(r, read.of(r), allowed, abroad.of(r), fuhyo=fuhyo)
    return answers


def _records(
    result: ProvisionResult, agency_id: str, purpose: str, day_of: date
) -> list[ProvisionRecord]:
    rows = []
    for a in result.answers:
        hit = a.found if a.outcome is Answered.PROVIDED else None
        rows.append(
            ProvisionRecord(
                request_id=f"{result.request_id}:{a.line}",
                agency_id=agency_id,
                task_ref=result.task_ref,
                task_effective_from=result.task_effective_from,
                purpose=purpose,
                lookup=a.lookup.value,
                as_of=a.as_of,
                lg_code=None if hit is None else hit.lg_code,
                resident_code=None if hit is None else hit.resident_code,
                items=",".join(sorted(a.items)) if hit is not None else "",
                outcome=a.recorded_outcome().value,
                reason=None if (why := a.recorded_refusal or a.reason) is None else why[:200],
                source=None if hit is None else hit.source.value,
            )
        )
    return rows


def _logged(
    uow: ProvideUnitOfWork, by: Actor, target: str, outcome: Outcome, detail: str, purpose: str
) -> OpLogEntry:
    return OpLogEntry(
        uow.clock.now(), by.actor_id, by.role.value, by.terminal_id, ACTION.value, target,
        outcome, detail[:500], purpose[:MAX_PURPOSE],
    )  # fmt: skip


def _entry(
    uow: ProvideUnitOfWork, by: Actor, result: ProvisionResult, purpose: str, bad_lines: int
) -> OpLogEntry:
    counts = result.recorded_counts()
    detail = (
        f"request {result.request_id}: {len(result.answers)} lookups, provided "
        f"{counts['provided']}, not_found {counts['not_found']}, refused {counts['refused']}"
        f"; bad lines {bad_lines}"
    )
    if uow.read_on:  # before the reasons, which may be long: the entry keeps 500 characters
        detail += f"; {uow.read_on}"
    if result.refusal is not None:
        detail += f"; refused: {result.refusal}"
    withheld = sum(a.recorded_refusal is not None for a in result.answers)
    if withheld:
        detail += f"; refused {withheld} (told not_found): {FUHYO_TASK_REFUSAL}"
    shown = any(
        Item.MY_NUMBER in a.items and a.found is not None and a.found.my_number
        for a in result.answers
        if a.outcome is Answered.PROVIDED
    )
    outcome: Outcome = "ok" if result.refusal is None else "rejected"
    return OpLogEntry(
        at=uow.clock.now(),
        actor_id=by.actor_id,
        role=by.role.value,
        terminal_id=by.terminal_id,
        action=ACTION.value,
        target=f"task:{result.task_ref}"[:400],
        outcome=outcome,
        detail=detail[:500],
        purpose=purpose[:MAX_PURPOSE],
        my_number_shown=bool(shown),
    )


def provide(
    uow: ProvideUnitOfWork,
    by: Actor,
    task_ref: str,
    purpose: str,
    requests: Sequence[LookupRequest],
    *,
    bad_lines: int = 0,
) -> ProvisionResult:
    """Answer `requests` for the agency `by` is (`agency_actor`), for `task_ref` and
    `purpose`; every lookup recorded, the call in the oplog, in one transaction. A malformed
    task or purpose is a `RuleViolation` (logged as rejected, nothing answered)."""
    target = f"task:{_printable(task_ref)[:MAX_TASK_REF]}"
    try:
        authorize(by.actor_id, by.role, Permission.PROVIDE_IDENTITY_INFO)
        task_ref, purpose = check_task_ref(task_ref), check_purpose(purpose)
    except (PermissionDeniedError, RuleViolation) as exc:
        outcome: Outcome = "denied" if isinstance(exc, PermissionDeniedError) else "rejected"
        log_alone(uow, _logged(uow, by, target, outcome, str(exc), _printable(purpose)))
        raise
    try:
        result = _answered(uow, by, task_ref, purpose, requests, bad_lines)
    except Exception as exc:
        # nothing was answered (the transaction rolled back); the attempt stays on record
        with contextlib.suppress(Exception):
            log_alone(uow, _logged(uow, by, target, "failed", type(exc).__name__, purpose))
        raise
    return result


def _answered(
    uow: ProvideUnitOfWork,
    by: Actor,
    task_ref: str,
    purpose: str,
    requests: Sequence[LookupRequest],
    bad_lines: int,
) -> ProvisionResult:
    with uow:
        today = uow.clock.now().date()
        agency = uow.provision.agency(by.terminal_id)
        task, allowed, why = judge(agency, uow.provision.versions(), task_ref, today)
        if why is not None:
            answers = [refused(r, why) for r in requests]
        else:
            answers = _answers(uow, requests, allowed, today, fuhyo=may_use_fuhyo(task))
        result = ProvisionResult(
            uow.ids.new_id()[:36],
            task_ref,
            None if task is None else task.effective_from,
            why,
            tuple(answers),
        )
        uow.provisions.record(_records(result, by.terminal_id, purpose, today))
        uow.oplog.append(_entry(uow, by, result, purpose, bad_lines))
        uow.commit()
    return result


def provision_stats(uow: ProvideUnitOfWork, by: Actor, year: int) -> list[ProvisionCount]:
    """提供状況の公表: the year's lookups by agency, task and outcome; an
    operator's or auditor's reading, logged."""
    if not 1900 <= year <= 9999:
        raise RuleViolation("year", "range", "year: 1900-9999", "年は1900〜9999で指定してください")
    return perform(
        uow,
        by,
        Permission.VIEW_PROVISION_STATS,
        f"provision_records:{year}",
        lambda u: u.provisions.counts(year),
        describe=lambda found: f"{sum(c.count for c in found)} lookups",
    )
