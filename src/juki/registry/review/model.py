"""Provisional changes (仮登録) and edit locks, as values; no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final


class ChangeStatus(StrEnum):
    PENDING = "pending"  # 仮登録: entered, not applied
    APPROVED = "approved"  # 本登録: applied
    REJECTED = "rejected"  # 却下: not applied, with a reason
    WITHDRAWN = "withdrawn"  # 取下げ: its clerk took it back


STATUS_JA: Final = {
    ChangeStatus.PENDING: "審査待ち",
    ChangeStatus.APPROVED: "承認済み",
    ChangeStatus.REJECTED: "却下",
    ChangeStatus.WITHDRAWN: "取下げ",
}

# The changes an operator enters that wait for review: each is one route of the registry's
# event API (its path's last part) and one service. Changes by the node itself (a message from
# the network, 個人番号の指定, seeding) are applied as they come.
KIND_JA: Final = {
    "birth": "出生",
    "death": "死亡",
    "move-in": "転入",
    "move-out": "転出",
    "move-out-confirmation": "転出確定",
    "relocation": "転居",
    "household-split": "世帯分離",
    "household-merge": "世帯合併",
    "householder-change": "世帯主変更",
    "name-change": "氏名の変更",
    "entry-by-authority": "職権記載",
    "correction-by-authority": "職権修正",
    "removal-by-authority": "職権消除",
    "move-out-withdrawal": "転出取消",
    "change-cancellation": "異動取消",
    "alias": "通称の記載",
    "alias-deletion": "通称の削除",
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
    def kind_ja(self) -> str:
        return KIND_JA.get(self.kind, self.kind)

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
    session_sha256: str | None = None
    session_ended: bool = False
