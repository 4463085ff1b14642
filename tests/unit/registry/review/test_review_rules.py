"""The rules of review and of the edit lock, pure (the SQL and HTTP paths are tested in
tests/integration/registry/test_review_sql.py and test_review_api.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.clock import JST
from juki.core.errors import PermissionDeniedError, StateConflictError, ValidationError
from juki.core.settings import Settings, SettingsError
from juki.registry.review import rules
from juki.registry.review.model import ChangeStatus, EditLock, ProvisionalChange, ReviewPolicy
from juki.registry.review.wiring import review_policy

NOW = datetime(2025, 4, 1, 10, 0, tzinfo=JST)


def change(
    clerk: str = "clerk-1", status: ChangeStatus = ChangeStatus.PENDING
) -> ProvisionalChange:
    return ProvisionalChange(
        change_id="c1",
        kind="relocation",
        command="{}",
        summary="転居（1名）",
        targets=("record:r1",),
        versions={"r1": 3},
        clerk_id=clerk,
        clerk_role="counter_clerk",
        terminal_id="T01",
        entered_at=NOW,
        status=status,
    )


IDLE = timedelta(minutes=15)


def lock(
    operator: str, *, minutes: int = 30, ended: bool = False, seen: datetime = NOW
) -> EditLock:
    return EditLock(
        target="record:r1",
        operator_id=operator,
        operator_name="窓口 一郎",
        acquired_at=NOW,
        expires_at=NOW + timedelta(minutes=minutes),
        session_sha256="s" * 64,
        session_ended=ended,
        session_last_seen=seen,
    )


def token_lock(*, current: bool = True, expires: datetime | None = None) -> EditLock:
    return EditLock(
        target="record:r1",
        operator_id="clerk-1",
        operator_name="",
        acquired_at=NOW,
        expires_at=NOW + timedelta(minutes=30),
        token_sha256="t" * 64,
        token_current=current,
        token_expires_at=expires,
    )


def test_the_clerk_may_not_review_their_own_change_whatever_their_role() -> None:
    with pytest.raises(rules.SelfApprovalRefused) as refused:
        rules.check_reviewer(change("super-1"), "super-1", "approve_change")
    assert isinstance(refused.value, PermissionDeniedError)
    assert "自己承認禁止" in refused.value.message_ja
    rules.check_reviewer(change("clerk-1"), "super-1", "approve_change")


def test_only_the_clerk_may_withdraw() -> None:
    rules.check_withdrawer(change("clerk-1"), "clerk-1", "withdraw_change")
    with pytest.raises(PermissionDeniedError):
        rules.check_withdrawer(change("clerk-1"), "clerk-2", "withdraw_change")


@pytest.mark.parametrize("status", [s for s in ChangeStatus if s is not ChangeStatus.PENDING])
def test_a_decided_change_is_decided_for_good(status: ChangeStatus) -> None:
    with pytest.raises(StateConflictError) as conflict:
        rules.check_pending(change(status=status))
    assert conflict.value.rule == "not_pending"


@pytest.mark.parametrize("reason", ["", "   ", "\u3000\n", "x" * 501])
def test_a_rejection_needs_a_reason_of_a_paragraph_at_most(reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        rules.rejection_reason(reason)
    assert refused.value.field == "reason"


def test_a_rejection_reason_is_kept_trimmed() -> None:
    assert rules.rejection_reason("  住所の誤り ") == "住所の誤り"


@given(
    st.dictionaries(st.text(min_size=1, max_size=4), st.integers(1, 9), max_size=5),
    st.data(),
)
def test_an_approval_needs_every_record_at_the_version_read(
    recorded: dict[str, int], data: st.DataObject
) -> None:
    current = dict(recorded)
    rules.check_unchanged(recorded, current)
    if recorded:
        moved = data.draw(st.sampled_from(sorted(recorded)))
        current[moved] += data.draw(st.integers(1, 3))
        assert rules.changed_since(recorded, current) == [moved]
        with pytest.raises(StateConflictError):
            rules.check_unchanged(recorded, current)
        del current[moved]  # a record gone counts as changed
        assert rules.changed_since(recorded, current) == [moved]


def test_another_operators_live_lock_refuses_naming_its_holder() -> None:
    with pytest.raises(StateConflictError) as held:
        rules.check_lock([lock("clerk-1")], "clerk-2", NOW, IDLE)
    assert held.value.rule == "edit_locked"
    assert "窓口 一郎さん（clerk-1）が編集中です（10:30まで）" in held.value.message_ja


@pytest.mark.parametrize(
    ("held", "who"),
    [
        (lock("clerk-1"), "clerk-1"),  # one's own
        (lock("clerk-1", ended=True), "clerk-2"),  # its session ended: logout, idle, transfer
        (lock("clerk-1", minutes=0), "clerk-2"),  # timed out
        (lock("clerk-1", seen=NOW - IDLE), "clerk-2"),  # its session idled out, not yet ended
        (token_lock(current=False), "clerk-2"),  # its token revoked or replaced
        (token_lock(expires=NOW), "clerk-2"),  # its token expired
    ],
)
def test_a_lock_does_not_refuse_its_holder_nor_once_released(held: EditLock, who: str) -> None:
    rules.check_lock([held], who, NOW, IDLE)


def test_a_lock_expires_after_the_minutes_set() -> None:
    expires = rules.lock_expiry(NOW, 30)
    busy = lock("x", minutes=30, seen=expires - timedelta(minutes=1))  # its session in use
    assert rules.is_live(busy, expires - timedelta(seconds=1), IDLE)
    assert not rules.is_live(busy, expires, IDLE)
    later = NOW + timedelta(minutes=10)
    assert rules.is_live(lock("x", seen=later - timedelta(minutes=14)), later, IDLE)
    assert rules.is_live(token_lock(expires=later + timedelta(seconds=1)), later, IDLE)


def test_a_pending_change_expires_after_the_days_set_and_says_why() -> None:
    days = 14
    fresh = change()
    assert not rules.is_stale(fresh, NOW + timedelta(days=days, seconds=-1), days)
    assert rules.is_stale(fresh, NOW + timedelta(days=days), days)
    assert not rules.is_stale(change(status=ChangeStatus.REJECTED), NOW + timedelta(days=99), days)
    assert "14日以内に審査されなかったため失効" in rules.expiry_reason(days)


def test_review_is_on_unless_the_municipality_turns_it_off() -> None:
    assert Settings().change_review and Settings.from_env({}).change_review
    s = Settings.from_env({"JUKI_CHANGE_REVIEW": "off", "JUKI_EDIT_LOCK_MINUTES": "45"})
    assert (s.change_review, s.edit_lock_minutes) == (False, 45)
    assert review_policy(Settings()) == ReviewPolicy()  # the domain's defaults are Settings'
    assert Settings.from_env({"JUKI_PENDING_CHANGE_DAYS": "3"}).pending_change_days == 3
    for name, value in (
        ("JUKI_CHANGE_REVIEW", "no"),
        ("JUKI_EDIT_LOCK_MINUTES", "0"),
        ("JUKI_PENDING_CHANGE_DAYS", "0"),
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value})
