"""The rules of review (審査) and of the edit lock; pure.

住民基本台帳法 has no article on 仮登録: this is an operating control of the counter (issue 11;
seed 001's roles separate the one who enters from the one who checks), so the rules cite none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final

from juki.core.errors import PermissionDeniedError, StateConflictError, ValidationError
from juki.registry.review.model import ChangeStatus, EditLock, ProvisionalChange

MAX_REASON: Final = 500


class SelfApprovalRefused(PermissionDeniedError):
    """自己承認禁止: the operator who entered a change may not approve or reject it, whatever
    their role."""

    def __init__(self, actor_id: str, action: str) -> None:
        super().__init__(actor_id, action)
        self.message_en = f"{actor_id} entered this change and may not review it"
        self.message_ja = "自分が入力した異動は審査（承認・却下）できません（自己承認禁止）"


class NotTheClerk(PermissionDeniedError):
    def __init__(self, actor_id: str, action: str) -> None:
        super().__init__(actor_id, action)
        self.message_en = "only the operator who entered a change may withdraw it"
        self.message_ja = "取下げは入力した操作者本人だけができます"


def check_reviewer(change: ProvisionalChange, reviewer_id: str, action: str) -> None:
    if change.clerk_id == reviewer_id:
        raise SelfApprovalRefused(reviewer_id, action)


def check_withdrawer(change: ProvisionalChange, actor_id: str, action: str) -> None:
    if change.clerk_id != actor_id:
        raise NotTheClerk(actor_id, action)


def check_pending(change: ProvisionalChange) -> None:
    if change.status is not ChangeStatus.PENDING:
        raise StateConflictError(
            "not_pending",
            f"provisional change {change.change_id} is already {change.status.value}",
            f"この仮登録はすでに処理されています（{change.status_ja}）",
        )


def rejection_reason(reason: str) -> str:
    """A rejection keeps its reason: required, one paragraph at most."""
    text = reason.strip()
    if not text:
        raise ValidationError(
            "reason", "required", "a rejection needs its reason", "却下の理由を入力してください"
        )
    if len(text) > MAX_REASON:
        raise ValidationError(
            "reason",
            "length",
            f"the reason is longer than {MAX_REASON} characters",
            f"理由は{MAX_REASON}文字以内で入力してください",
        )
    return text


def changed_since(recorded: Mapping[str, int], current: Mapping[str, int]) -> list[str]:
    """The records whose version moved (or that vanished) since the change was entered."""
    return sorted(rid for rid, version in recorded.items() if current.get(rid) != version)


def check_unchanged(recorded: Mapping[str, int], current: Mapping[str, int]) -> None:
    moved = changed_since(recorded, current)
    if moved:
        raise StateConflictError(
            "changed_since_entered",
            f"{len(moved)} record(s) changed after the provisional change was entered; "
            "reject it and enter it again",
            "仮登録の後に住民票が更新されました。この仮登録は却下し、入力し直してください",
        )


def is_live(lock: EditLock, now: datetime, idle_limit: timedelta) -> bool:
    """A lock holds until it expires, and no longer than what it was taken in: a terminal
    session (ended by logout, transfer, or idleness even before anyone ends it) or an API
    token (revoked, replaced or expired)."""
    if now >= lock.expires_at:
        return False
    if lock.session_sha256 is not None:
        if lock.session_ended:
            return False
        if lock.session_last_seen is not None and now - lock.session_last_seen >= idle_limit:
            return False
    if lock.token_sha256 is not None:
        if not lock.token_current:
            return False
        if lock.token_expires_at is not None and now >= lock.token_expires_at:
            return False
    return True


def blocking_lock(
    locks: Iterable[EditLock], operator_id: str, now: datetime, idle_limit: timedelta
) -> EditLock | None:
    """The first live lock another operator holds on any of the targets, if any."""
    for lock in locks:
        if lock.operator_id != operator_id and is_live(lock, now, idle_limit):
            return lock
    return None


def holder_ja(lock: EditLock) -> str:
    """「〇〇さん」: the holder as the counter calls a colleague, with their id to find them."""
    if lock.operator_name:
        return f"{lock.operator_name}さん（{lock.operator_id}）"
    return f"{lock.operator_id}さん"


def check_lock(
    locks: Iterable[EditLock], operator_id: str, now: datetime, idle_limit: timedelta
) -> None:
    held = blocking_lock(locks, operator_id, now, idle_limit)
    if held is not None:
        until = held.expires_at.strftime("%H:%M")
        raise StateConflictError(
            "edit_locked",
            f"{held.operator_id} is editing this resident until {until} at the latest",
            f"{holder_ja(held)}が編集中です（{until}まで）。処理が終わるまでお待ちください",
        )


def lock_expiry(now: datetime, minutes: int) -> datetime:
    return now + timedelta(minutes=minutes)


def is_stale(change: ProvisionalChange, now: datetime, days: int) -> bool:
    """A pending change no one decided within `days` of its entry expires (期限切れ)."""
    return change.status is ChangeStatus.PENDING and now - change.entered_at >= timedelta(days=days)


def expiry_reason(days: int) -> str:
    """The trace an expired change keeps: why it was not applied, and what to do."""
    return f"{days}日以内に審査されなかったため失効しました。必要なら入力し直してください"
