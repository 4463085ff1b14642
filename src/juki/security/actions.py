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


def perform_remote(
    uow: UnitOfWork,
    by: Actor,
    action: Permission,
    target: str,
    fn: Callable[[], T],
    *,
    describe: Callable[[T], str] = lambda _: "",
) -> T:
    """An action whose work is a question to another node (広域交付): authorise, ask, log.

    No transaction of ours is open while the other node answers (on SQLite it would hold the
    write lock for as long as the network takes); the oplog entry is written in a transaction
    of its own before the result is returned, whatever the outcome.
    """
    try:
        authorize(by.actor_id, by.role, action)
    except PermissionDeniedError as exc:
        _log_alone(uow, _entry(uow, by, action, target, "denied", str(exc)))
        raise
    try:
        result = fn()
    except JukiError as exc:
        _log_alone(uow, _entry(uow, by, action, target, "rejected", f"{type(exc).__name__}: {exc}"))
        raise
    _log_alone(uow, _entry(uow, by, action, target, "ok", describe(result)))
    return result
