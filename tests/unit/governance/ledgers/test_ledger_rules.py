"""The ledgers' pure rules: every refusal names its field and rule in both languages; a contract
is active exactly when it states every mandatory clause; an incident's steps go in the seed's
order and it closes only when none is open."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.clock import JST
from juki.core.errors import RuleViolation
from juki.governance.ledgers import rules
from juki.governance.ledgers.model import (
    CLAUSE_CODES,
    STEPS,
    ContractStatus,
    Incident,
    IncidentKind,
    IncidentStatus,
    Room,
    RoomAccess,
    StepDone,
)

T = TypeVar("T")
NOW = datetime(2026, 4, 1, 9, 0, tzinfo=JST)


def attempt(fn: Callable[..., T], *args: object) -> tuple[T | None, RuleViolation | None]:
    """The result, or the refusal."""
    try:
        return fn(*args), None
    except RuleViolation as exc:
        return None, exc


@given(chosen=st.frozensets(st.sampled_from(CLAUSE_CODES)), flagged=st.booleans())
def test_a_contract_is_active_exactly_when_every_clause_is_stated(
    chosen: frozenset[str], flagged: bool
) -> None:
    complete = chosen == frozenset(CLAUSE_CODES)
    status, refused = attempt(rules.contract_status, chosen, flagged)
    if refused is not None:
        assert refused.rule == ("nothing_missing" if complete else "missing_clauses")
        assert refused.message_ja and complete == flagged
    else:
        assert status is (ContractStatus.ACTIVE if complete else ContractStatus.NON_COMPLIANT)
        assert flagged != complete


def test_an_unknown_clause_is_named() -> None:
    with pytest.raises(RuleViolation) as exc:
        rules.clauses(["confidentiality", "free_lunch"])
    assert (exc.value.field, exc.value.rule) == ("clauses", "unknown_clause")


@given(st.text(max_size=300))
def test_a_text_is_kept_or_refused_naming_its_field(value: str) -> None:
    kept, refused = attempt(rules.text, "purpose", value, 200)
    if refused is not None:
        assert refused.field == "purpose"
        assert refused.rule in {
            "required",
            "control_character",
            "noncharacter",
            "max_length",
            "orphan_variation_selector",
        }
        assert "入室の目的" in refused.message_ja
    else:
        assert kept == value.strip() and kept


def _incident(kind: IncidentKind, done: int) -> Incident:
    steps = tuple(StepDone(s.code, NOW, "ops", "済") for s in STEPS[kind][:done])
    return Incident(1, kind, "t", NOW, NOW, "ops", IncidentStatus.OPEN, steps)


@given(kind=st.sampled_from(list(IncidentKind)), data=st.data())
def test_only_the_next_open_step_may_be_recorded(kind: IncidentKind, data: st.DataObject) -> None:
    steps = STEPS[kind]
    done = data.draw(st.integers(0, len(steps)))
    incident = _incident(kind, done)
    tried = data.draw(st.sampled_from([s.code for s in steps] + ["whatever"]))
    if done < len(steps) and tried == steps[done].code:
        assert rules.next_step(incident, tried) == steps[done]
    else:
        with pytest.raises(RuleViolation) as exc:
            rules.next_step(incident, tried)
        assert exc.value.rule == ("all_done" if done == len(steps) else "order")
    if done == len(steps):
        rules.may_close(incident)
    else:
        with pytest.raises(RuleViolation) as closing:
            rules.may_close(incident)
        assert closing.value.rule == "steps_open"


def test_every_kind_has_its_seed_steps_with_their_articles() -> None:
    assert set(STEPS) == set(IncidentKind)
    for steps in STEPS.values():
        codes = [s.code for s in steps]
        assert len(set(codes)) == len(codes)
        assert all(s.basis.startswith(("001 第", "002 第")) and s.ja for s in steps)
        assert codes[-1] == "review"


def _access(entered: datetime | None = None, exited: datetime | None = None) -> RoomAccess:
    return RoomAccess(
        1,
        Room.SERVER_ROOM,
        "保守 次郎",
        "保守社",
        None,
        "点検",
        NOW.date(),
        "adm",
        NOW,
        entered,
        None,
        exited,
        None,
    )


def test_entry_and_exit_follow_the_permission() -> None:
    rules.may_enter(_access(), NOW)
    with pytest.raises(RuleViolation) as other_day:
        rules.may_enter(_access(), NOW + timedelta(days=1))
    assert other_day.value.rule == "not_permitted_day"
    with pytest.raises(RuleViolation) as before:
        rules.may_exit(_access(entered=NOW), NOW - timedelta(minutes=1))
    assert before.value.rule == "before_entry"
    with pytest.raises(RuleViolation) as twice:
        rules.may_exit(_access(entered=NOW, exited=NOW), NOW)
    assert twice.value.rule == "already_exited"


@given(st.text(min_size=1, max_size=64).filter(lambda s: s.strip()))
def test_nobody_permits_their_own_entry(operator_id: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        rules.approver_not_entrant(operator_id, operator_id)
    assert exc.value.rule == "self_approval"
    rules.approver_not_entrant(operator_id, operator_id + "x")
    rules.approver_not_entrant(operator_id, None)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_a_permission_is_for_today_up_to_ninety_days_ahead(on: date) -> None:
    today = NOW.date()
    ok = today <= on <= today + timedelta(days=rules.PERMIT_AHEAD_DAYS)
    kept, refused = attempt(rules.permit_day, on, today)
    assert (kept == on) if ok else (refused is not None and refused.field == "permitted_on")


def test_a_time_without_an_offset_or_in_the_future_is_refused() -> None:
    with pytest.raises(RuleViolation) as naive:
        rules.not_future("at", NOW.replace(tzinfo=None), NOW)
    assert naive.value.rule == "timezone"
    with pytest.raises(RuleViolation) as future:
        rules.not_future("at", NOW + timedelta(hours=1), NOW)
    assert future.value.rule == "future"
    utc = NOW.astimezone(datetime.now().astimezone().tzinfo)
    assert rules.not_future("at", utc, NOW).tzinfo == JST
