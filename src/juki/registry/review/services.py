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
from collections.abc import Sequence
from typing import Any, Final

from juki.core.errors import JukiError, NotFoundError
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
from juki.registry.review.model import ChangeStatus, ProvisionalChange
from juki.registry.review.ports import ReviewUnitOfWork
from juki.security.actions import perform, refuse
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role, is_allowed

MAX_LISTED: Final = 200


def kind_of(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFoundError("change kind", name[:40])
    return kind


def enter_change(
    uow: ReviewUnitOfWork,
    by: Actor,
    kind: Kind,
    cmd: Any,
    *,
    lock_minutes: int,
    session_sha256: str | None = None,
) -> ProvisionalChange:
    """仮登録: check the change, keep it, and lock what it touches (the records it names and
    their households, the households it names); apply nothing."""
    records, named = targets_of(cmd)

    def run(uow: ReviewUnitOfWork) -> ProvisionalChange:
        now = uow.clock.now()
        households = sorted({*named, *uow.review.households_of(records)})
        targets = lock_targets(records, households)
        rules.check_lock(uow.review.locks(targets), by.actor_id, now)
        with uow.trial():  # every rule of the change, on the record as it is now; undone
            kind.service(uow.inner(), by, cmd)
        read = [*records, *uow.review.members(households)]
        change = ProvisionalChange(
            change_id=uow.ids.new_id(),
            kind=kind.name,
            command=kind.encode(cmd),
            summary=summary_of(kind, cmd, len(records)),
            targets=targets,
            versions=uow.review.versions(read),
            clerk_id=by.actor_id,
            clerk_role=by.role.value,
            terminal_id=by.terminal_id,
            entered_at=now,
            session_sha256=session_sha256,
        )
        uow.review.add(change)
        expires = rules.lock_expiry(now, lock_minutes)
        uow.review.take(targets, by.actor_id, session_sha256, change.change_id, now, expires)
        return change

    return perform(
        uow,
        by,
        kind.permission,
        ",".join(lock_targets(records, named)) or kind.name,
        run,
        describe=lambda c: f"provisional change {c.change_id} ({kind.name})",
    )


def _target(change_id: str) -> str:
    return f"change:{change_id[:40]}"


def _refuse_own(uow: ReviewUnitOfWork, by: Actor, change_id: str, action: Permission) -> None:
    """自己承認禁止, decided before anything changes and logged as a refusal (`denied`). A
    role without the permission is refused by the action runner first, as for any action."""
    if not is_allowed(by.role, action):
        return
    with uow:
        try:
            change = uow.review.get(change_id)
        except NotFoundError:
            return  # the action itself answers it, logged
    try:
        rules.check_reviewer(change, by.actor_id, action.value)
    except JukiError as exc:
        refuse(uow, by, action, _target(change_id), exc)


def approve_change(uow: ReviewUnitOfWork, by: Actor, change_id: str) -> ProvisionalChange:
    """本登録: apply the change as its clerk entered it, if no record changed since."""
    _refuse_own(uow, by, change_id, Permission.APPROVE_CHANGE)

    def run(uow: ReviewUnitOfWork) -> ProvisionalChange:
        change = uow.review.get(change_id)
        rules.check_reviewer(change, by.actor_id, Permission.APPROVE_CHANGE.value)
        rules.check_pending(change)
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
        decided = dataclasses.replace(
            change,
            status=ChangeStatus.APPROVED,
            reviewer_id=by.actor_id,
            reviewed_at=uow.clock.now(),
            records=applied_ids(applied),
        )
        uow.review.decide(decided)
        uow.review.release(change_id)
        return decided

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
    _refuse_own(uow, by, change_id, Permission.APPROVE_CHANGE)

    def run(uow: ReviewUnitOfWork) -> ProvisionalChange:
        text = rules.rejection_reason(reason)
        change = uow.review.get(change_id)
        rules.check_reviewer(change, by.actor_id, Permission.APPROVE_CHANGE.value)
        rules.check_pending(change)
        decided = dataclasses.replace(
            change,
            status=ChangeStatus.REJECTED,
            reviewer_id=by.actor_id,
            reviewed_at=uow.clock.now(),
            reason=text,
        )
        uow.review.decide(decided)
        uow.review.release(change_id)
        return decided

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
        decided = dataclasses.replace(
            change, status=ChangeStatus.WITHDRAWN, reviewed_at=uow.clock.now()
        )
        uow.review.decide(decided)
        uow.review.release(change_id)
        return decided

    return perform(uow, by, Permission.WITHDRAW_CHANGE, _target(change_id), run)


def list_changes(
    uow: ReviewUnitOfWork, by: Actor, status: ChangeStatus | None = ChangeStatus.PENDING
) -> Sequence[ProvisionalChange]:
    """The review list (審査待ち by default), oldest first."""
    label = status.value if status else "all"
    return perform(
        uow,
        by,
        Permission.VIEW_PROVISIONAL_CHANGES,
        f"changes:{label}",
        lambda uow: uow.review.listed(status, MAX_LISTED),
        describe=lambda found: f"{len(found)} listed",
    )


def get_change(uow: ReviewUnitOfWork, by: Actor, change_id: str) -> ProvisionalChange:
    """One provisional change with its command. Whoever shows it hides what the role may not
    see (`kinds.without_items`); a 個人番号 it carries, shown to a role that may see it, marks
    the entry (`my_number_shown`)."""
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
