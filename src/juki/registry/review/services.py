"""The use cases of review: enter a provisional change, approve (本登録), reject, withdraw, and
read them. Each runs through the one action runner (`juki.security.actions.perform`).

Entering tries the change on the record as it is (in a savepoint rolled back at once), so the
clerk hears of a broken rule at the counter, not at review; nothing of it stays but the
provisional change, its edit locks and the oplog entry. Approving applies it through the same
service a change applied at once goes through, inside the approval's transaction, with the
clerk as its author and the supervisor as its approver: only then does it reach a certificate
(which reads the records) or the CS (which reads the outbox).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Final

from juki.core.errors import NotFoundError, StateConflictError
from juki.registry.code_notice import ResidentCodeNotice
from juki.registry.review import rules
from juki.registry.review.kinds import (
    KINDS,
    Kind,
    applied_ids,
    command_json,
    holds_my_number,
    lock_targets,
    summary_of,
    targets_of,
)
from juki.registry.review.model import (
    ChangeStatus,
    LockHolder,
    ProvisionalChange,
    ReviewPolicy,
)
from juki.registry.review.ports import ReviewUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role, is_allowed

MAX_LISTED: Final = 200
NO_HOLDER: Final = LockHolder()
DEFAULT_POLICY: Final = ReviewPolicy()
EXPIRER: Final = Actor.system("review")


def kind_of(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFoundError("change kind", name[:40])
    return kind


def _take(
    uow: ReviewUnitOfWork,
    by: Actor,
    targets: tuple[str, ...],
    policy: ReviewPolicy,
    holder: LockHolder,
    change_id: str | None,
) -> None:
    now = uow.clock.now()
    rules.check_lock(uow.review.locks(targets), by.actor_id, now, policy.idle_limit)
    expires = rules.lock_expiry(now, policy.lock_minutes)
    uow.review.take(targets, by.actor_id, holder, change_id, now, expires)


def open_for_editing(
    uow: ReviewUnitOfWork,
    by: Actor,
    record_id: str,
    *,
    policy: ReviewPolicy = DEFAULT_POLICY,
    holder: LockHolder = NO_HOLDER,
) -> tuple[str, ...]:
    """排他: the operator opens a resident to enter a change, and holds the resident and their
    household from now on (a second operator is told who is editing, and refused), until the
    change they enter is decided, their session or token ends, or the lock expires."""

    def run(uow: ReviewUnitOfWork) -> tuple[str, ...]:
        targets = lock_targets([record_id], uow.review.households_of([record_id]))
        if len(targets) < 2:
            raise NotFoundError("resident record", record_id[:40])
        _take(uow, by, targets, policy, holder, None)
        return targets

    return perform(uow, by, Permission.EDIT_RESIDENT, f"record:{record_id[:40]}", run)


def enter_change(
    uow: ReviewUnitOfWork,
    by: Actor,
    kind: Kind,
    cmd: Any,
    *,
    policy: ReviewPolicy = DEFAULT_POLICY,
    holder: LockHolder = NO_HOLDER,
) -> ProvisionalChange:
    """仮登録: check the change, keep it, and lock what it touches (the records it names and
    their households, the households it names); apply nothing."""
    expire_stale(uow, policy)
    records, named = targets_of(cmd)

    def run(uow: ReviewUnitOfWork) -> ProvisionalChange:
        households = sorted({*named, *uow.review.households_of(records)})
        targets = lock_targets(records, households)
        change_id = uow.ids.new_id()
        # locked first (another operator's lock refuses before any rule runs); a refusal below
        # rolls the lock back with everything else
        _take(uow, by, targets, policy, holder, change_id)
        with uow.trial():  # every rule of the change, on the record as it is now; undone
            kind.service(uow.inner(), by, cmd)
        read = [*records, *uow.review.members(households)]
        change = ProvisionalChange(
            change_id=change_id,
            kind=kind.name,
            command=kind.encode(cmd),
            summary=summary_of(kind, cmd, len(records)),
            targets=targets,
            versions=uow.review.versions(read),
            clerk_id=by.actor_id,
            clerk_role=by.role.value,
            terminal_id=by.terminal_id,
            entered_at=uow.clock.now(),
            session_sha256=holder.session_sha256,
        )
        uow.review.add(change)
        return change

    return perform(
        uow,
        by,
        kind.permission,
        ",".join(lock_targets(records, named)) or kind.name,
        run,
        describe=lambda c: f"provisional change {c.change_id} ({kind.name})",
    )


def file_change(
    uow: ReviewUnitOfWork,
    by: Actor,
    kind: Kind,
    cmd: Any,
    *,
    policy: ReviewPolicy,
    holder: LockHolder = NO_HOLDER,
    apply: Callable[[ReviewUnitOfWork, Actor, Any], Any] | None = None,
) -> Any:
    """What every entry point (API route, terminal screen, command) does with a change an
    operator files: a provisional change when the municipality reviews changes, else the
    result of applying it now with `apply` (the kind's own service, the one a 本登録 runs,
    unless the caller needs more of its result)."""
    if policy.review:
        return enter_change(uow, by, kind, cmd, policy=policy, holder=holder)
    return (apply or kind.service)(uow, by, cmd)


def _target(change_id: str) -> str:
    return f"change:{change_id[:40]}"


def _decide(
    uow: ReviewUnitOfWork, change: ProvisionalChange, status: ChangeStatus, **more: Any
) -> ProvisionalChange:
    """Record the decision (only on a change still pending) and free what it held."""
    decided = dataclasses.replace(change, status=status, reviewed_at=uow.clock.now(), **more)
    uow.review.decide(decided)
    uow.review.release(change.change_id)
    return decided


def _reviewed(uow: ReviewUnitOfWork, by: Actor, change_id: str) -> ProvisionalChange:
    """The change a supervisor decides: never their own (自己承認禁止: a PermissionDeniedError,
    so the runner logs it `denied`), and only while it is pending."""
    change = uow.review.get(change_id)
    rules.check_reviewer(change, by.actor_id, Permission.APPROVE_CHANGE.value)
    rules.check_pending(change)
    return change


def approve_change(
    uow: ReviewUnitOfWork, by: Actor, change_id: str, *, policy: ReviewPolicy = DEFAULT_POLICY
) -> ProvisionalChange:
    """本登録: apply the change as its clerk entered it, if no record changed since."""
    expire_stale(uow, policy)

    def run(uow: ReviewUnitOfWork) -> ProvisionalChange:
        change = _reviewed(uow, by, change_id)
        rules.check_unchanged(change.versions, uow.review.versions(change.versions))
        kind = kind_of(change.kind)
        author = Actor(
            change.clerk_id,
            Role(change.clerk_role),
            change.terminal_id,
            purpose=f"本登録 {change.change_id}",
            approved_by=by.actor_id,
        )
        applied = kind.service(uow.inner(), author, kind.decode(change.command))
        return _decide(
            uow,
            change,
            ChangeStatus.APPROVED,
            reviewer_id=by.actor_id,
            records=applied_ids(applied),
        )

    return perform(
        uow,
        by,
        Permission.APPROVE_CHANGE,
        _target(change_id),
        run,
        describe=lambda c: f"approved {c.kind} of {c.clerk_id}: records {','.join(c.records)}",
    )


def reject_change(
    uow: ReviewUnitOfWork, by: Actor, change_id: str, reason: str
) -> ProvisionalChange:
    """却下: the change is not applied; it stays, with the reason, for good."""

    def run(uow: ReviewUnitOfWork) -> ProvisionalChange:
        text = rules.rejection_reason(reason)
        change = _reviewed(uow, by, change_id)
        return _decide(uow, change, ChangeStatus.REJECTED, reviewer_id=by.actor_id, reason=text)

    return perform(
        uow,
        by,
        Permission.APPROVE_CHANGE,
        _target(change_id),
        run,
        describe=lambda c: f"rejected {c.kind} of {c.clerk_id}: {c.reason}",
    )


def withdraw_change(uow: ReviewUnitOfWork, by: Actor, change_id: str) -> ProvisionalChange:
    """取下げ: the clerk takes back their own provisional change before review."""

    def run(uow: ReviewUnitOfWork) -> ProvisionalChange:
        change = uow.review.get(change_id)
        rules.check_withdrawer(change, by.actor_id, Permission.WITHDRAW_CHANGE.value)
        rules.check_pending(change)
        return _decide(uow, change, ChangeStatus.WITHDRAWN)

    return perform(uow, by, Permission.WITHDRAW_CHANGE, _target(change_id), run)


def expire_stale(uow: ReviewUnitOfWork, policy: ReviewPolicy) -> Sequence[ProvisionalChange]:
    """期限切れ: pending changes no one decided within `policy.pending_days` are closed by the
    node, each with the reason (`rules.expiry_reason`) and one oplog entry; their locks go.
    Run before the review list is read and before a change is entered or approved, so an
    operator finds an old change expired, and why, rather than approvable."""
    with uow:
        now = uow.clock.now()
        stale = [
            c
            for c in uow.review.listed(ChangeStatus.PENDING, MAX_LISTED)
            if rules.is_stale(c, now, policy.pending_days)
        ]
    if not stale:
        return []
    reason = rules.expiry_reason(policy.pending_days)

    def run(uow: ReviewUnitOfWork) -> list[ProvisionalChange]:
        return [_decide(uow, c, ChangeStatus.EXPIRED, reason=reason) for c in stale]

    return perform(
        uow,
        EXPIRER,
        Permission.EXPIRE_CHANGES,
        ",".join(_target(c.change_id) for c in stale)[:400],
        run,
        describe=lambda done: f"{len(done)} expired after {policy.pending_days} days",
    )


def list_changes(
    uow: ReviewUnitOfWork,
    by: Actor,
    status: ChangeStatus | None = ChangeStatus.PENDING,
    *,
    policy: ReviewPolicy = DEFAULT_POLICY,
    newest_first: bool = False,
) -> Sequence[ProvisionalChange]:
    """The review list (審査待ち by default), oldest first unless `newest_first`."""
    expire_stale(uow, policy)
    label = status.value if status else "all"
    return perform(
        uow,
        by,
        Permission.VIEW_PROVISIONAL_CHANGES,
        f"changes:{label}",
        lambda uow: uow.review.listed(status, MAX_LISTED, newest_first),
        describe=lambda found: f"{len(found)} listed",
    )


def get_change(uow: ReviewUnitOfWork, by: Actor, change_id: str) -> ProvisionalChange:
    """One provisional change with its command. Whoever shows it hides what the role may not
    see (`kinds.visible_command`); a 個人番号 it carries, shown to a role that may see it,
    marks the entry (`my_number_shown`)."""
    sees = is_allowed(by.role, Permission.VIEW_MY_NUMBER)

    def read(uow: ReviewUnitOfWork) -> ProvisionalChange:
        return uow.review.get(change_id)

    return perform(
        uow,
        by,
        Permission.VIEW_PROVISIONAL_CHANGES,
        _target(change_id),
        read,
        shows_my_number=lambda c: sees and holds_my_number(command_json(c.command)),
    )


def resident_code_notice(
    uow: ReviewUnitOfWork, by: Actor, change_id: str
) -> tuple[str, ResidentCodeNotice]:
    """住民票コード通知 (法第30条の4第3項 → 第30条の3第3項) of an approved 住民票コードの変更: due
    only once the 本登録 recorded the new code, printed from the record as it is then."""

    def run(uow: ReviewUnitOfWork) -> tuple[str, ResidentCodeNotice]:
        change = uow.review.get(change_id)
        if change.kind != "resident-code-change" or change.status is not ChangeStatus.APPROVED:
            raise StateConflictError(
                "not_approved_code_change",
                "a notice is printed only for an approved resident-code change",
                "住民票コード通知書は、承認（本登録）された住民票コードの変更についてだけ"
                "印刷できます",
            )
        record = uow.registry.get(change.records[0])
        assert change.reviewed_at is not None  # every approved change has its time
        notice = ResidentCodeNotice.of(record, uow.municipality, change.reviewed_at.date())
        return record.record_id, notice

    return perform(
        uow,
        by,
        Permission.CHANGE_RESIDENT_CODE,
        _target(change_id),
        run,
        describe=lambda n: f"住民票コード通知 of record {n[0]} printed",
    )
