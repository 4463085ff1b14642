"""仮登録 → 本登録 on SQLite and PostgreSQL (issue 11, point 3): a provisional change applies
nothing (no record, no history, nothing in the outbox) until a supervisor other than its clerk
approves it; the clerk's own approval is refused and logged; a rejection keeps its reason; the
edit lock refuses a second clerk and is released on approval, rejection, withdrawal, the
holder's logout and its timeout; an approval after the record changed is a conflict.

The pure rules are in tests/unit/registry/review; the HTTP and terminal paths in
tests/integration/registry/test_review_api.py and tests/e2e/test_review_browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from juki.core.errors import PermissionDeniedError, StateConflictError, ValidationError
from juki.registry import services as svc
from juki.registry.commands import ChangeName, RecordRelocation
from juki.registry.review import services as review
from juki.registry.review.kinds import KINDS
from juki.registry.review.model import ChangeStatus, LockHolder, ProvisionalChange, ReviewPolicy
from juki.registry.review.rules import SelfApprovalRefused
from juki.security.actors import Actor
from juki.security.operators import create_operator, revoke_token, token_sha256
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from juki.security.verification.ports import StoredSession
from support.backends import SqlBackend, assert_projection_is_fold, snapshot, sql_backend
from support.residents import (
    CLERK,
    PREFIX,
    SUPERVISOR,
    TODAY,
    family,
    get,
    history,
    move_in,
    person,
    seed,
)

CLERK_2 = Actor("clerk-2", Role.COUNTER_CLERK, "T03")
SUPERVISOR_2 = Actor("super-2", Role.REGISTRY_SUPERVISOR, "T04")
NEW_ADDRESS = f"{PREFIX}平尾3丁目1番1号"
LOCK_MINUTES = 30
POLICY = ReviewPolicy(lock_minutes=LOCK_MINUTES, idle_minutes=15, pending_days=14)
ADMIN = Actor("admin", Role.OPERATIONS_MANAGER, "console")


@pytest.fixture
def backend(migrated_db_url: str) -> Iterator[SqlBackend]:
    with sql_backend(migrated_db_url) as sql:
        seed(sql)
        yield sql
        assert_projection_is_fold(sql)


def relocate(record_ids: tuple[str, ...], address: str = NEW_ADDRESS) -> RecordRelocation:
    return RecordRelocation(record_ids, address, TODAY, TODAY)


def enter(
    backend: SqlBackend,
    by: Actor,
    cmd: object,
    kind: str = "relocation",
    session: str | None = None,
) -> ProvisionalChange:
    holder = LockHolder(session_sha256=session)
    return review.enter_change(backend.uow(), by, KINDS[kind], cmd, policy=POLICY, holder=holder)


def logged(backend: SqlBackend, action: str) -> list[tuple[str, str, str]]:
    return [
        (r["actor_id"], r["outcome"], r["detail"])
        for r in backend.rows("oplog")
        if r["action"] == action
    ]


def test_a_provisional_move_changes_nothing_until_another_supervisor_approves(
    backend: SqlBackend,
) -> None:
    head, wife, child = family(backend)
    ids = (head.record_id, wife.record_id, child.record_id)
    before = snapshot(backend)
    change = enter(backend, CLERK, relocate(ids))
    after_entry = snapshot(backend)
    for table in ("resident_records", "record_changes", "households", "outbox"):
        assert after_entry[table] == before[table], table  # 仮登録: nothing applied
    assert change.status is ChangeStatus.PENDING
    assert change.summary == f"転居（3名） → {NEW_ADDRESS}"
    assert [c.change_id for c in review.list_changes(backend.uow(), SUPERVISOR)] == [
        change.change_id
    ]

    # The clerk's role may not approve at all; a supervisor may not approve their own entry.
    with pytest.raises(PermissionDeniedError):
        review.approve_change(backend.uow(), CLERK, change.change_id)
    other = move_in(
        backend,
        person("佐藤", "次郎", "サトウ", "ジロウ"),
        code_body="2472705961",
        number_body="12345678902",
        certificate="142051-0003",
    )
    own = enter(
        backend,
        SUPERVISOR,
        ChangeName(other.record_id, "佐藤", "二郎", "サトウ", "ジロウ", TODAY, TODAY),
        "name-change",
    )
    with pytest.raises(SelfApprovalRefused):
        review.approve_change(backend.uow(), SUPERVISOR, own.change_id)
    refusals = [(a, o) for a, o, _ in logged(backend, "approve_change")]
    assert refusals == [("clerk-1", "denied"), ("super-1", "denied")]
    assert "may not review" in logged(backend, "approve_change")[1][2]

    review.withdraw_change(backend.uow(), SUPERVISOR, own.change_id)
    queued = len(backend.rows("outbox"))
    approved = review.approve_change(backend.uow(), SUPERVISOR_2, change.change_id)
    assert approved.status is ChangeStatus.APPROVED
    assert set(approved.records) == set(ids)
    assert get(backend, head.record_id).address == NEW_ADDRESS
    last = history(backend, head.record_id)[-1]
    assert (last.actor_id, last.approved_by) == ("clerk-1", "super-2")
    sent = [r["message_type"] for r in backend.rows("outbox")[queued:]]
    assert sent.count("identity_info_changed") == 3  # one for each, only now
    assert backend.rows("edit_locks") == []
    # the clerk's change, applied under the approval: both in the oplog
    assert logged(backend, "record_relocation")[-1][:2] == ("clerk-1", "ok")
    assert logged(backend, "approve_change")[-1][:2] == ("super-2", "ok")
    with pytest.raises(StateConflictError) as again:
        review.approve_change(backend.uow(), SUPERVISOR, change.change_id)
    assert again.value.rule == "not_pending"


def test_a_rejection_keeps_its_reason_and_locks_are_released(backend: SqlBackend) -> None:
    head, wife, child = family(backend)
    ids = (head.record_id, wife.record_id, child.record_id)
    first = enter(backend, CLERK, relocate(ids))
    # a second clerk is refused while the first holds the resident, with the holder's id
    with pytest.raises(StateConflictError) as held:
        enter(backend, CLERK_2, relocate(ids))
    assert held.value.rule == "edit_locked" and "clerk-1" in held.value.message_ja
    with pytest.raises(ValidationError):
        review.reject_change(backend.uow(), SUPERVISOR, first.change_id, "  ")
    rejected = review.reject_change(backend.uow(), SUPERVISOR, first.change_id, "住所の誤り")
    assert (rejected.status, rejected.reason, rejected.reviewer_id) == (
        ChangeStatus.REJECTED,
        "住所の誤り",
        "super-1",
    )
    assert get(backend, head.record_id).address != NEW_ADDRESS
    kept = review.list_changes(backend.uow(), SUPERVISOR, ChangeStatus.REJECTED)
    assert [(c.change_id, c.reason) for c in kept] == [(first.change_id, "住所の誤り")]

    # released by the rejection; then taken by clerk 2 and released by withdrawal
    second = enter(backend, CLERK_2, relocate(ids))
    with pytest.raises(PermissionDeniedError):  # only its clerk may withdraw it
        review.withdraw_change(backend.uow(), CLERK, second.change_id)
    review.withdraw_change(backend.uow(), CLERK_2, second.change_id)

    # taken in a terminal session: released when the session ends (logout)
    with SqlUnitOfWork(backend.engine, clock=backend.clock) as uow:
        now = backend.clock.now().isoformat()
        uow.verification.add_session(
            "a" * 64, StoredSession("clerk-1", "counter_clerk", "T01", now, now)
        )
        uow.commit()
    enter(backend, CLERK, relocate(ids), session="a" * 64)
    with pytest.raises(StateConflictError):
        enter(backend, CLERK_2, relocate(ids))
    with SqlUnitOfWork(backend.engine, clock=backend.clock) as uow:
        uow.verification.end_session("a" * 64, now, "logout")
        uow.commit()
    third = enter(backend, CLERK_2, relocate(ids))

    # a lock without a session (the API's token) lasts until its timeout
    with pytest.raises(StateConflictError):
        enter(backend, CLERK, relocate(ids))
    backend.clock.advance(timedelta(minutes=LOCK_MINUTES))
    enter(backend, CLERK, relocate(ids))
    assert third.change_id in {c.change_id for c in review.list_changes(backend.uow(), CLERK)}


def test_an_approval_after_the_record_changed_is_a_conflict(backend: SqlBackend) -> None:
    head, wife, child = family(backend)
    change = enter(backend, CLERK, relocate((head.record_id, wife.record_id, child.record_id)))
    # the record changes meanwhile (here through the service directly, as with review off)
    svc.change_name(
        backend.uow(),
        SUPERVISOR_2,
        ChangeName(head.record_id, "山田", "一郎", "ヤマダ", "イチロウ", TODAY, TODAY),
    )
    with pytest.raises(StateConflictError) as conflict:
        review.approve_change(backend.uow(), SUPERVISOR, change.change_id)
    assert conflict.value.rule == "changed_since_entered"
    assert get(backend, head.record_id).address != NEW_ADDRESS
    assert review.get_change(backend.uow(), SUPERVISOR, change.change_id).status is (
        ChangeStatus.PENDING
    )
    assert [o for _, o, _ in logged(backend, "approve_change")] == ["rejected"]


def session_of(backend: SqlBackend, key: str, operator: Actor) -> LockHolder:
    with SqlUnitOfWork(backend.engine, clock=backend.clock) as uow:
        now = backend.clock.now().isoformat()
        uow.verification.add_session(
            key, StoredSession(operator.actor_id, operator.role.value, "T01", now, now)
        )
        uow.commit()
    return LockHolder(session_sha256=key)


def test_opening_a_resident_locks_them_until_the_session_idles_or_the_token_ends(
    backend: SqlBackend,
) -> None:
    """排他 from the moment a resident is opened for editing, naming the holder 「〇〇さん」; a
    session's lock goes when the session idles (before anyone ends it), a token's when the
    token is revoked."""
    head, wife, child = family(backend)
    everyone = (head.record_id, wife.record_id, child.record_id)
    security = SqlUnitOfWork(backend.engine, clock=backend.clock)
    token = create_operator(security, ADMIN, "clerk-1", "窓口 一郎", Role.COUNTER_CLERK)
    opened = session_of(backend, "b" * 64, CLERK)
    targets = review.open_for_editing(
        backend.uow(), CLERK, head.record_id, policy=POLICY, holder=opened
    )
    assert targets == (f"record:{head.record_id}", f"household:{head.household_id}")
    with pytest.raises(StateConflictError) as held:  # a second operator opens them
        review.open_for_editing(backend.uow(), CLERK_2, head.record_id, policy=POLICY)
    assert "窓口 一郎さん（clerk-1）が編集中です" in held.value.message_ja
    with pytest.raises(StateConflictError):  # … or enters a change on the household
        enter(backend, CLERK_2, relocate(everyone))
    assert logged(backend, "edit_resident")[-1][:2] == ("clerk-2", "rejected")
    # the holder's session idles out (JUKI_IDLE_MINUTES): the lock goes with it
    backend.clock.advance(timedelta(minutes=POLICY.idle_minutes))
    review.open_for_editing(backend.uow(), CLERK_2, head.record_id, policy=POLICY)

    # a lock taken over the API lives as long as the token it was taken with
    with_token = LockHolder(token_sha256=token_sha256(token))
    backend.clock.advance(timedelta(minutes=LOCK_MINUTES))  # clerk 2's lock has expired
    change = review.enter_change(
        backend.uow(),
        CLERK,
        KINDS["relocation"],
        relocate(everyone),
        policy=POLICY,
        holder=with_token,
    )
    with pytest.raises(StateConflictError):
        review.open_for_editing(backend.uow(), CLERK_2, head.record_id, policy=POLICY)
    revoke_token(security, ADMIN, "clerk-1")
    review.open_for_editing(backend.uow(), CLERK_2, head.record_id, policy=POLICY)
    assert review.get_change(backend.uow(), CLERK, change.change_id).status is (
        ChangeStatus.PENDING  # the change waits; only its lock went with the token
    )


def test_a_change_left_undecided_expires_with_its_reason(backend: SqlBackend) -> None:
    head, wife, child = family(backend)
    change = enter(backend, CLERK, relocate((head.record_id, wife.record_id, child.record_id)))
    backend.clock.advance(timedelta(days=POLICY.pending_days))
    assert review.list_changes(backend.uow(), SUPERVISOR_2, policy=POLICY) == []
    [expired] = review.list_changes(backend.uow(), CLERK, ChangeStatus.EXPIRED, policy=POLICY)
    assert (expired.change_id, expired.status_ja) == (change.change_id, "期限切れ")
    assert "14日以内に審査されなかったため失効" in expired.reason
    assert logged(backend, "expire_changes") == [("review", "ok", "1 expired after 14 days")]
    assert backend.rows("edit_locks") == []
    with pytest.raises(StateConflictError) as late:
        review.approve_change(backend.uow(), SUPERVISOR_2, change.change_id, policy=POLICY)
    assert late.value.rule == "not_pending"
    assert get(backend, head.record_id).address != NEW_ADDRESS
