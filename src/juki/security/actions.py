"""The one way an action runs: authorise, do, write the oplog, commit — or log the refusal.

Every call, allowed or refused, reaches the oplog before its result is returned (seed 001 第16,
seed 002: 操作履歴). Whoever acts — an operator at a terminal, the command line, the node
itself applying a message, the seeding of a population — goes through here:

- `perform`: the work runs in the unit of work's transaction, and the oplog entry is written in
  that same transaction, so a failed log write rolls the change back;
- `perform_outside`: the work manages its own transactions or none (a question to another
  node, a bulk load in chunks); the entry is written in a transaction of its own afterwards.

A refused (`denied`) or rejected call is logged in a transaction of its own after the change
was rolled back; so is an allowed call that failed on something other than a rule (`failed`:
a database error, a lost race the store did not translate), named by the error's type alone,
since a driver's message can quote the row's personal data. `perform_outside` logs `failed`
with what its caller says about work that may have committed part of itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

from juki.core.errors import JukiError, PermissionDeniedError
from juki.core.ports import OpLogEntry, Outcome, UnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Permission, authorize

T = TypeVar("T")
U = TypeVar("U", bound=UnitOfWork)
MAX_DETAIL = 500
MAX_PURPOSE = 200


def _nothing(_: object) -> str:
    return ""


def _entry(
    uow: UnitOfWork,
    by: Actor,
    action: Permission,
    target: str,
    outcome: Outcome,
    detail: str,
    my_number_shown: bool = False,
) -> OpLogEntry:
    return OpLogEntry(
        at=uow.clock.now(),
        actor_id=by.actor_id,
        role=by.role.value,
        terminal_id=by.terminal_id,
        action=action.value,
        target=target,
        outcome=outcome,
        detail=detail[:MAX_DETAIL],
        purpose=by.purpose[:MAX_PURPOSE],
        my_number_shown=my_number_shown,
    )


def log_alone(uow: UnitOfWork, entry: OpLogEntry) -> None:
    """Write one entry in a transaction of its own."""
    with uow:
        uow.oplog.append(entry)
        uow.commit()


def _authorized(uow: UnitOfWork, by: Actor, action: Permission, target: str) -> None:
    try:
        authorize(by.actor_id, by.role, action)
    except PermissionDeniedError as exc:
        log_alone(uow, _entry(uow, by, action, target, "denied", str(exc)))
        raise


def refuse(uow: UnitOfWork, by: Actor, action: Permission, target: str, exc: JukiError) -> None:
    """Log a refusal decided before any action runs (a screen that checks the kind's permission
    before it reads anything) as `denied`, then raise it."""
    log_alone(uow, _entry(uow, by, action, target, "denied", str(exc)))
    raise exc


def _rejected(exc: JukiError) -> str:
    return f"{type(exc).__name__}: {exc}"


def perform(
    uow: U,
    by: Actor,
    action: Permission,
    target: str,
    fn: Callable[[U], T],
    *,
    describe: Callable[[T], str] = _nothing,
    shows_my_number: Callable[[T], bool] | None = None,
) -> T:
    """`shows_my_number` says whether the result, as the caller will show it to `by`, holds a
    個人番号; the entry is marked so (`my_number_shown`)."""
    _authorized(uow, by, action, target)
    try:
        with uow:
            result = fn(uow)
            shown = shows_my_number is not None and shows_my_number(result)
            uow.oplog.append(_entry(uow, by, action, target, "ok", describe(result), shown))
            uow.commit()
    except PermissionDeniedError as exc:
        # refused from the data rather than the role (自己承認禁止): a refusal all the same
        log_alone(uow, _entry(uow, by, action, target, "denied", str(exc)))
        raise
    except JukiError as exc:
        log_alone(uow, _entry(uow, by, action, target, "rejected", _rejected(exc)))
        raise
    except Exception as exc:
        # The attempt stays on record; if the log cannot be written either (the database is
        # gone), the original error is what the caller must see.
        with contextlib.suppress(Exception):
            log_alone(uow, _entry(uow, by, action, target, "failed", type(exc).__name__))
        raise
    return result


def perform_outside(
    uow: UnitOfWork,
    by: Actor,
    action: Permission,
    target: str,
    fn: Callable[[], T],
    *,
    describe: Callable[[T], str] = _nothing,
    failed: Callable[[Exception], str] | None = None,
) -> T:
    """An action whose work runs outside the unit of work's transaction: a question to another
    node (広域交付: no transaction of ours is open while the other node answers; on SQLite it
    would hold the write lock for as long as the network takes), or a bulk load that commits in
    chunks. With `failed`, an unexpected error is logged as `failed` (with what `failed` says
    about it, e.g. how much was done) and re-raised."""
    _authorized(uow, by, action, target)
    try:
        result = fn()
    except JukiError as exc:
        log_alone(uow, _entry(uow, by, action, target, "rejected", _rejected(exc)))
        raise
    except Exception as exc:
        if failed is not None:
            log_alone(uow, _entry(uow, by, action, target, "failed", failed(exc)))
        raise
    log_alone(uow, _entry(uow, by, action, target, "ok", describe(result)))
    return result
