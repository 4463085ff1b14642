"""The one way an action runs: authorise, do, write the oplog, commit — or log the refusal.

Every call, allowed or refused, reaches the oplog before its result is returned (seed 001 第16,
seed 002: 操作履歴). A successful action's entry is in the same transaction as its change, so a
failed log write rolls the change back; a refused or rejected call is logged in a transaction of
its own after the change was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from juki.core.errors import JukiError, PermissionDeniedError
from juki.registry.ports import OpLogEntry, UnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Permission, authorize

T = TypeVar("T")


def _entry(
    uow: UnitOfWork, by: Actor, action: Permission, target: str, outcome: str, detail: str
) -> OpLogEntry:
    return OpLogEntry(
        at=uow.clock.now(),
        actor_id=by.actor_id,
        role=by.role.value,
        terminal_id=by.terminal_id,
        action=action.value,
        target=target,
        outcome=outcome,
        detail=detail[:500],
    )


def _log_alone(uow: UnitOfWork, entry: OpLogEntry) -> None:
    with uow:
        uow.oplog.append(entry)
        uow.commit()


def perform(
    uow: UnitOfWork,
    by: Actor,
    action: Permission,
    target: str,
    fn: Callable[[UnitOfWork], T],
    *,
    describe: Callable[[T], str] = lambda _: "",
) -> T:
    try:
        authorize(by.actor_id, by.role, action)
    except PermissionDeniedError as exc:
        _log_alone(uow, _entry(uow, by, action, target, "denied", str(exc)))
        raise
    try:
        with uow:
            result = fn(uow)
            uow.oplog.append(_entry(uow, by, action, target, "ok", describe(result)))
            uow.commit()
    except JukiError as exc:
        _log_alone(uow, _entry(uow, by, action, target, "rejected", f"{type(exc).__name__}: {exc}"))
        raise
    return result
