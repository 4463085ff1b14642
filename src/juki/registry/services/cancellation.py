"""Undoing a change without erasing it: 転出取消 and 異動取消.

A 転出届 may be withdrawn before its planned date (転出取消): the movers stay, and so does the
household they were leaving. Any change may be cancelled by authority (異動取消, 事務処理要領):
the change was wrong from the start. Either way the history keeps the change that is undone;
a new change, with its reason, puts back what the record said before it, and the CS forwards
it like any other (identity_info, 附票) so every level learns the record is as it was.

Only a record's latest change can be undone: a later change was made on top of it, so it is
cancelled first. Records changed together by one notification (a household moving out, its
new householder) are undone together, so the household is consistent afterwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from typing import Final

from juki.core.errors import DomainRuleError
from juki.registry import rules
from juki.registry.commands import CancelChanges, WithdrawMoveOut
from juki.registry.events import move_out_withdrawn
from juki.registry.model import (
    ChangeReason,
    HouseholdStatus,
    RecordChange,
    RecordedChange,
    ResidentRecord,
    diff,
    fold,
)
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.services.batch import Batch
from juki.registry.services.checks import distinct_ids, record_or_404, require
from juki.registry.standing import PLANNED_REMOVALS, move_out_pending
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission

MAX_REASON: Final = 500


def _restore(
    batch: Batch, record: ResidentRecord, history: Sequence[RecordedChange], reason: ChangeReason
) -> ResidentRecord:
    """Append a change that sets the record back to what it was before its latest change."""
    previous = fold(h.change for h in history[:-1])
    if previous.is_active:
        _no_other_active_record(batch.uow, previous)
        _reopen_household(batch.uow, previous.household_id)
    return batch.change(record, reason, **diff(record, previous))


def _tell_destinations(
    batch: Batch, undone: Sequence[tuple[ResidentRecord, ResidentRecord]], reason: ChangeReason
) -> None:
    """A card-based move-out undone before the new municipality confirmed it: the destination
    holds its 転出証明書情報, and is told it is withdrawn (`move_out_withdrawn`), in the same
    transaction as the change."""
    change = RecordChange(reason, batch.effective_on, batch.notified_on)
    for before, after in undone:
        event = move_out_withdrawn(before, after, change)
        if event is not None:
            batch.uow.outbox.put(event, before.resident_code)


def _no_other_active_record(uow: RegistryUnitOfWork, restored: ResidentRecord) -> None:
    for other in uow.registry.find_by_resident_code(restored.resident_code):
        if other.record_id != restored.record_id and other.is_active:
            raise DomainRuleError(
                "record_ids",
                "already_resident",
                f"resident code {restored.resident_code} already has an active record",
                "この住民票コードの住民票が既にあります（再転入後の取消はできません）",
            )


def _reopen_household(uow: RegistryUnitOfWork, household_id: str) -> None:
    """A household the last members left (消滅) exists again when one of them stays."""
    household = uow.registry.get_household(household_id)
    if household.status is HouseholdStatus.DISSOLVED:
        uow.registry.save_household(
            dataclasses.replace(household, status=HouseholdStatus.ACTIVE, dissolved_on=None)
        )


def _latest(uow: RegistryUnitOfWork, record_id: str) -> tuple[ResidentRecord, list[RecordedChange]]:
    record = record_or_404(uow, record_id)
    return record, list(uow.registry.history(record_id))


def _reason_text(reason: str) -> str:
    require(reason.strip(), "reason", "取消の理由")
    return reason.strip()[:MAX_REASON]


# -- 転出取消 -------------------------------------------------------------------------------------


def _pending_move_out(
    uow: RegistryUnitOfWork, record_id: str, today: date
) -> tuple[ResidentRecord, list[RecordedChange]]:
    record, history = _latest(uow, record_id)
    last = history[-1].change
    if record.move_out_confirmed_on is not None:
        raise DomainRuleError(
            "record_ids",
            "move_out_confirmed",
            f"{record_id}: the new municipality confirmed the move; cancel it by authority",
            f"{record.full_name}さんの転出は転入通知により確定しています（異動取消で取り消してください）",
        )
    if last.reason not in PLANNED_REMOVALS or not move_out_pending(record, today):
        raise DomainRuleError(
            "record_ids",
            "no_pending_move_out",
            f"{record_id} has no move-out before its planned date to withdraw",
            f"{record.full_name}さんには転出予定日前の転出届がありません"
            "（予定日を過ぎた転出は異動取消で取り消してください）",
        )
    return record, history


def _household_changes_of(
    uow: RegistryUnitOfWork, household_id: str, move_out: RecordedChange, movers: set[str]
) -> list[tuple[ResidentRecord, list[RecordedChange]]]:
    """The remaining members the 転出届 gave a new householder (世帯主変更, recorded with it):
    their latest change is a household change by the same operator with the move-out's dates.
    Whatever is restored, the household rules are checked again on the result (Batch.flush)."""
    out = []
    for member in uow.registry.members(household_id):
        if member.record_id in movers:
            continue
        history = list(uow.registry.history(member.record_id))
        last = history[-1]
        if (
            last.change.reason is ChangeReason.HOUSEHOLD_CHANGE
            and last.change.effective_on == move_out.change.effective_on
            and last.change.notified_on == move_out.change.notified_on
            and last.actor_id == move_out.actor_id
        ):
            out.append((member, history))
    return out


def withdraw_move_out(
    uow: RegistryUnitOfWork, by: Actor, cmd: WithdrawMoveOut
) -> list[ResidentRecord]:
    """転出取消 (法24条の届出の取下げ): before the planned date, the records are 住民票 again."""

    def run(uow: RegistryUnitOfWork) -> list[ResidentRecord]:
        ids = distinct_ids("record_ids", cmd.record_ids)
        note = _reason_text(cmd.reason)
        today = uow.clock.today()
        rules.not_in_future("notified_on", cmd.notified_on, today)
        movers = [_pending_move_out(uow, rid, today) for rid in ids]
        batch = Batch(uow, by, today, cmd.notified_on)
        batch.note = note
        out = [_restore(batch, r, h, ChangeReason.MOVE_OUT_WITHDRAWN) for r, h in movers]
        undone = [(r, after) for (r, _), after in zip(movers, out, strict=True)]
        moving = set(ids)
        for household_id in sorted({r.household_id for r, _ in movers}):
            move_out = next(h[-1] for r, h in movers if r.household_id == household_id)
            for member, history in _household_changes_of(uow, household_id, move_out, moving):
                _restore(batch, member, history, ChangeReason.MOVE_OUT_WITHDRAWN)
        batch.flush()
        _tell_destinations(batch, undone, ChangeReason.MOVE_OUT_WITHDRAWN)
        return out

    return perform(
        uow, by, Permission.WITHDRAW_MOVE_OUT, "records:" + ",".join(cmd.record_ids[:20]), run
    )


# -- 異動取消 -------------------------------------------------------------------------------------


def cancel_changes(uow: RegistryUnitOfWork, by: Actor, cmd: CancelChanges) -> list[ResidentRecord]:
    """異動取消 (職権): each record's latest change is undone by a new change."""

    def run(uow: RegistryUnitOfWork) -> list[ResidentRecord]:
        ids = distinct_ids("record_ids", cmd.record_ids)
        note = _reason_text(cmd.reason)
        today = uow.clock.today()
        targets = [_latest(uow, rid) for rid in ids]
        for record, history in targets:
            if len(history) < 2:
                raise DomainRuleError(
                    "record_ids",
                    "first_change",
                    f"{record.record_id}: the change that created a record cannot be cancelled; "
                    "remove it by authority",
                    f"{record.full_name}さんの住民票を作成した異動は取り消せません（職権消除してください）",
                )
            if history[-1].change.reason is ChangeReason.RESIDENT_CODE_CHANGE:
                raise DomainRuleError(
                    "record_ids",
                    "resident_code_change",
                    f"{record.record_id}: a resident code change cannot be cancelled: the "
                    "former code is retired and never issued again (法第30条の4)",
                    f"{record.full_name}さんの住民票コードの変更は取り消せません"
                    "（変更前の住民票コードは再び使用できません）",
                )
            if history[-1].change.reason is ChangeReason.SUPPORT_MEASURE:
                raise DomainRuleError(
                    "record_ids",
                    "support_measure_change",
                    f"{record.record_id}: a 支援措置 changes through its own record",
                    f"{record.full_name}さんの支援措置の記録は異動取消できません"
                    "（支援措置の終了又は一時的な解除で行ってください）",
                )
        batch = Batch(uow, by, today, today)
        undone = "、".join(
            f"{h[-1].change.reason.label_ja}（第{h[-1].seq}異動）" for _, h in targets
        )
        batch.note = f"{note}　取り消した異動: {undone}"[:MAX_REASON]
        out = [_restore(batch, r, h, ChangeReason.CHANGE_CANCELLED) for r, h in targets]
        batch.flush()
        pairs = [(r, after) for (r, _), after in zip(targets, out, strict=True)]
        _tell_destinations(batch, pairs, ChangeReason.CHANGE_CANCELLED)
        return out

    return perform(
        uow, by, Permission.CANCEL_CHANGE, "records:" + ",".join(cmd.record_ids[:20]), run
    )
