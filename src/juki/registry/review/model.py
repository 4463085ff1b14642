"""Provisional changes (仮登録) and edit locks, as values; no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final


class ChangeStatus(StrEnum):
    PENDING = "pending"  # 仮登録: entered, not applied
    APPROVED = "approved"  # 本登録: applied
    REJECTED = "rejected"  # 却下: not applied, with a reason
    WITHDRAWN = "withdrawn"  # 取下げ: its clerk took it back
    EXPIRED = "expired"  # 期限切れ: no one decided it within JUKI_PENDING_CHANGE_DAYS


STATUS_JA: Final = {
    ChangeStatus.PENDING: "審査待ち",
    ChangeStatus.APPROVED: "承認済み",
    ChangeStatus.REJECTED: "却下",
    ChangeStatus.WITHDRAWN: "取下げ",
    ChangeStatus.EXPIRED: "期限切れ",
}


def record_target(record_id: str) -> str:
    return f"record:{record_id}"


def household_target(household_id: str) -> str:
    return f"household:{household_id}"


@dataclass(frozen=True, slots=True)
class ProvisionalChange:
    """A change an operator entered, kept as its validated command (`command`, JSON) with the
    version of each record it read (`versions`): 本登録 applies it only if none changed since."""

    change_id: str
    kind: str
    command: str
    summary: str
    targets: tuple[str, ...]
    versions: Mapping[str, int]
    clerk_id: str
    clerk_role: str
    terminal_id: str
    entered_at: datetime
    status: ChangeStatus = ChangeStatus.PENDING
    reviewer_id: str | None = None
    reviewed_at: datetime | None = None
    reason: str = ""
    session_sha256: str | None = None
    records: tuple[str, ...] = field(default=())  # the records the 本登録 wrote

    @property
    def status_ja(self) -> str:
        return STATUS_JA[self.status]


@dataclass(frozen=True, slots=True)
class EditLock:
    """One operator editing one resident or household: others are refused until it is released
    (本登録, 却下, 取下げ), its session ends (logout, idleness, transfer) or it expires."""

    target: str
    operator_id: str
    operator_name: str
    acquired_at: datetime
    expires_at: datetime
    session_sha256: str | None = None  # taken in a terminal session: lives as long as it
    session_ended: bool = False
    session_last_seen: datetime | None = None  # an idle session is over before it is ended
    token_sha256: str | None = None  # taken with an API token: lives as long as the token
    token_current: bool = False  # the token is still the operator's, not revoked or replaced
    token_expires_at: datetime | None = None
    change_id: str | None = None  # None: opened for editing, nothing entered yet


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who takes a lock and in what: a terminal session's key, or an API token's hash (the
    command line's token holds none: its call ends before anyone else could be kept out)."""

    session_sha256: str | None = None
    token_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """The municipality's settings for review: whether changes wait for it, how long a lock
    lasts, how long a session may idle (its locks go with it), when a pending change expires.
    Built from Settings by `review.wiring.review_policy`; the defaults are Settings' own (a
    unit test holds them equal: the pure domain may not import the settings module)."""

    review: bool = True
    lock_minutes: int = 30
    idle_minutes: int = 15
    pending_days: int = 14

    @property
    def idle_limit(self) -> timedelta:
        return timedelta(minutes=self.idle_minutes)
