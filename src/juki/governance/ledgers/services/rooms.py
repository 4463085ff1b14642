"""入退室管理簿 (seed 001 第12, seed 002 第9条): the prior permission, the entry, the exit.

Only a person the 管理者 permitted beforehand may enter (001 第12②), so a line starts as a
permission given by an approver (`approve_room_access`) for one person, one room, one day and a
purpose; nobody permits their own entry. The entry and the exit are then recorded as they
happen (`record_room_access`; 001 第12③: the one who enters records it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from juki.core.errors import DomainRuleError, NotFoundError
from juki.governance.ledgers import rules
from juki.governance.ledgers.commands import PermitRoomAccess, RecordRoomEntry, RecordRoomExit
from juki.governance.ledgers.model import Room, RoomAccess
from juki.governance.ledgers.ports import LedgerUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.operators import validate_operator_id
from juki.security.permissions import Permission


def _entrant(uow: LedgerUnitOfWork, operator_id: str | None) -> str | None:
    if not operator_id:
        return None
    oid = validate_operator_id(operator_id)
    if uow.operators.find(oid) is None:
        raise DomainRuleError(
            "entrant_operator_id",
            "unknown_operator",
            f"no operator {oid}",
            f"照合ID「{oid}」の操作者は登録されていません",
        )
    return oid


def permit_room_access(uow: LedgerUnitOfWork, by: Actor, cmd: PermitRoomAccess) -> RoomAccess:
    """The approver (the actor) permits the entry; returns the line with its number."""

    def run(u: LedgerUnitOfWork) -> RoomAccess:
        room = rules.choice("room", cmd.room, Room)
        name = rules.text("entrant_name", cmd.entrant_name, 64)
        org = rules.text("entrant_org", cmd.entrant_org, 100)
        purpose = rules.text("purpose", cmd.purpose, 200)
        now = u.clock.now()
        on = rules.permit_day(cmd.permitted_on, now.date())
        oid = _entrant(u, cmd.entrant_operator_id)
        rules.approver_not_entrant(by.actor_id, oid)
        access = RoomAccess(0, room, name, org, oid, purpose, on, by.actor_id, now)
        return replace(access, access_id=u.ledgers.add_access(access))

    return perform(
        uow,
        by,
        Permission.APPROVE_ROOM_ACCESS,
        rules.target("room_access", cmd.room),
        run,
        describe=lambda a: f"access {a.access_id} permitted: {a.room} on {a.permitted_on}",
    )


def _access(uow: LedgerUnitOfWork, access_id: int) -> RoomAccess:
    found = uow.ledgers.access(access_id)
    if found is None:
        raise NotFoundError("room_access", str(access_id))
    return found


def _at(uow: LedgerUnitOfWork, at: datetime | None) -> datetime:
    now = uow.clock.now()
    return now if at is None else rules.not_future("at", at, now)


def record_room_entry(uow: LedgerUnitOfWork, by: Actor, cmd: RecordRoomEntry) -> RoomAccess:
    def run(u: LedgerUnitOfWork) -> RoomAccess:
        access = _access(u, cmd.access_id)
        at = _at(u, cmd.at)
        rules.may_enter(access, at)
        u.ledgers.set_entry(access.access_id, at, by.actor_id)
        return replace(access, entered_at=at, entry_recorded_by=by.actor_id)

    return perform(
        uow,
        by,
        Permission.RECORD_ROOM_ACCESS,
        rules.target("room_access", cmd.access_id),
        run,
        describe=lambda a: f"entered {a.room} at {a.entered_at}",
    )


def record_room_exit(uow: LedgerUnitOfWork, by: Actor, cmd: RecordRoomExit) -> RoomAccess:
    def run(u: LedgerUnitOfWork) -> RoomAccess:
        access = _access(u, cmd.access_id)
        at = _at(u, cmd.at)
        rules.may_exit(access, at)
        u.ledgers.set_exit(access.access_id, at, by.actor_id)
        return replace(access, exited_at=at, exit_recorded_by=by.actor_id)

    return perform(
        uow,
        by,
        Permission.RECORD_ROOM_ACCESS,
        rules.target("room_access", cmd.access_id),
        run,
        describe=lambda a: f"exited {a.room} at {a.exited_at}",
    )


def room_access_log(
    uow: LedgerUnitOfWork, by: Actor, since: date | None = None, until: date | None = None
) -> Sequence[RoomAccess]:
    """The 入退室管理簿 for the days permitted between `since` and `until` (inclusive)."""
    rules.date_range(since, until)
    return perform(
        uow,
        by,
        Permission.VIEW_LEDGERS,
        "ledger:room_access",
        lambda u: list(u.ledgers.accesses(since, until)),
        describe=lambda rows: f"{len(rows)} lines",
    )
