"""住民票コードの変更請求 (住民基本台帳法第30条の4): a resident may ask their municipality for a new
resident code. The municipality records a new random code (施行規則第1条, ADR 0006) as a change
with the request's reason, retires the old one for good, gives the resident a 住民票コード通知
(第30条の4第3項), and its CS sends the change up so the prefecture and the national node index
the new code and retire the old one (`resident_code_changed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from juki.core.errors import ValidationError
from juki.registry import rules
from juki.registry.code_notice import ResidentCodeNotice
from juki.registry.commands import ChangeResidentCode
from juki.registry.model import ChangeReason, ResidentRecord
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.services.batch import Batch
from juki.registry.services.checks import active_record, require
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission

MAX_REASON: Final = 500


@dataclass(frozen=True, slots=True)
class ResidentCodeChange:
    record: ResidentRecord  # with its new code
    former_resident_code: str  # retired: never handed out again
    notice: ResidentCodeNotice  # 住民票コード通知, to print for the resident


def _reason(text: str) -> str:
    reason = text.strip() if isinstance(text, str) else ""
    require(reason, "reason", "変更請求の理由")
    if len(reason) > MAX_REASON:
        raise ValidationError(
            "reason",
            "max_length",
            f"reason must be at most {MAX_REASON} characters",
            f"変更請求の理由は{MAX_REASON}文字以内で入力してください",
        )
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\ufffe\uffff" for ch in reason):
        raise ValidationError(
            "reason",
            "characters",
            "reason must not contain control characters",
            "変更請求の理由に使用できない文字が含まれています",
        )
    return reason


def change_resident_code(
    uow: RegistryUnitOfWork, by: Actor, cmd: ChangeResidentCode
) -> ResidentCodeChange:
    """Only a current resident's record (not a 除票, not one pending a move-out) gets a new code."""

    def run(uow: RegistryUnitOfWork) -> ResidentCodeChange:
        reason = _reason(cmd.reason)
        record = active_record(uow, cmd.record_id)
        today = uow.clock.today()
        rules.not_in_future("requested_on", cmd.requested_on, today)
        rules.not_before(
            "requested_on", cmd.requested_on, record.birth_date, "birth date", "生年月日"
        )
        new_code = uow.registry.allot_resident_code()
        batch = Batch(uow, by, today, cmd.requested_on)
        batch.note = reason
        after = batch.change(record, ChangeReason.RESIDENT_CODE_CHANGE, resident_code=new_code)
        uow.registry.retire_resident_code(record.resident_code, new_code, record.record_id)
        batch.flush()
        return ResidentCodeChange(
            record=after,
            former_resident_code=record.resident_code,
            notice=ResidentCodeNotice.of(after, uow.municipality, today),
        )

    return perform(uow, by, Permission.CHANGE_RESIDENT_CODE, f"record:{cmd.record_id}", run)


def new_resident_code(
    uow: RegistryUnitOfWork, by: Actor, cmd: ChangeResidentCode
) -> ResidentRecord:
    """The change as review applies it (its 本登録): the record with its new code; the
    住民票コード通知 is printed from the approved change (`review.services
    .resident_code_notice`)."""
    return change_resident_code(uow, by, cmd).record
