"""The portal's rules, pure: who counts as an operator viewing a record, what a correction
request may say, the card holder's sessions at the relay, and the Japanese words the screens use.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from juki.core.errors import DomainRuleError
from juki.core.text import validate_free_text
from juki.security.permissions import NODE_ROLES, Role

SESSION_LIFETIME: Final = timedelta(minutes=15)  # from the card's signature, not renewed
MAX_SESSIONS: Final = 10_000
CORRECTION_MAX: Final = 400
# what an operator does that is a view of a person's record (the oplog's action names)
VIEW_ACTIONS: Final = frozenset({"view_record"})

ROLE_JA: Final = {
    Role.COUNTER_CLERK: "窓口担当者",
    Role.REGISTRY_SUPERVISOR: "審査担当者",
    Role.OPERATIONS_MANAGER: "住基ネット運用管理者",
    Role.GENERAL_SUPERVISOR: "統括者",
    Role.PIN_MANAGER: "暗証番号管理者",
    Role.SECURITY_CHIEF: "セキュリティ統括責任者",
    Role.SECURITY_OFFICER: "セキュリティ責任者",
    Role.SYSTEM_ADMINISTRATOR: "システム管理者",
    Role.ACCESS_MANAGER: "アクセス管理責任者",
    Role.IDENTITY_INFO_MANAGER: "本人確認情報管理責任者",
    Role.INFO_ASSET_MANAGER: "情報資産管理責任者",
    Role.AUDITOR: "監査担当者",
    Role.PREFECTURE_OPERATOR: "都道府県の操作者",
    Role.NATIONAL_OPERATOR: "機構の操作者",
}
CHANNEL_JA: Final = {"counter": "窓口", "wide_area": "広域交付", "kiosk": "コンビニ交付"}
REQUESTER_JA: Final = {"self": "本人・同一世帯員", "third_party": "第三者"}
ITEM_JA: Final = {
    "name": "氏名",
    "name_kana": "氏名の振り仮名",
    "birth_date": "生年月日",
    "sex": "性別",
    "address": "住所",
    "resident_code": "住民票コード",
    "my_number": "個人番号",
    "change_info": "変更情報",
}


def is_operator_view(role: str, action: str) -> bool:
    """An entry a resident sees as "an operator viewed your record": a person's role (never
    the node itself, a relay or a kiosk) reading the record."""
    if action not in VIEW_ACTIONS:
        return False
    try:
        return Role(role) not in NODE_ROLES
    except ValueError:
        return False


# 訂正の申出's state as the resident reads it (`done`: handled before decisions were kept)
CORRECTION_JA: Final = {
    "open": "受付済み（窓口で確認中）",
    "accepted": "訂正の手続を開始しました",
    "rejected": "訂正できませんでした",
    "done": "処理済み",
}


def role_ja(role: str) -> str:
    try:
        return ROLE_JA.get(Role(role), role)
    except ValueError:
        return role


def items_ja(items: str) -> str:
    """`address,name` → 氏名・住所: in the order of 本人確認情報's items (an unknown item is
    shown as it is, last)."""
    order = {item: n for n, item in enumerate(ITEM_JA)}  # the law's order, as residents read it
    shown = sorted((i for i in items.split(",") if i), key=lambda i: (order.get(i, len(order)), i))
    return "・".join(ITEM_JA.get(i, i) for i in shown) or "なし"


def check_correction(text: str) -> str:
    """What a resident says is wrong in their record: 1–400 characters of printable text (line
    breaks allowed), kept as written (NFC)."""
    return validate_free_text("text", text, CORRECTION_MAX, "訂正を求める内容")


# -- the card holder's sessions at the relay ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HolderSession:
    card_serial: str
    lg_code: str  # the municipality that issued the card (the CA's ledger)
    expires_at: datetime


class SessionEnded(DomainRuleError):
    def __init__(self) -> None:
        super().__init__(
            "session",
            "session_ended",
            "the portal session ended or is unknown: sign in with the card again",
            "ログインの有効期限が切れました。もう一度カードでログインしてください",
        )


class HolderSessions:
    """Sessions the relay opened for a card holder whose signature it checked: a random token
    (the portal app keeps it), kept here only as its SHA-256, in memory, for `SESSION_LIFETIME`
    from the signature. Nothing of the person is kept: the serial routes each question."""

    def __init__(self, now: Callable[[], datetime], lifetime: timedelta = SESSION_LIFETIME):
        self._now = now
        self._lifetime = lifetime
        self._open: dict[str, HolderSession] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def open(self, card_serial: str, lg_code: str) -> tuple[str, HolderSession]:
        self.sweep()
        if len(self._open) >= MAX_SESSIONS:
            raise DomainRuleError(
                "session",
                "busy",
                "too many sessions open",
                "混み合っています。後ほどお試しください",
            )
        token = secrets.token_urlsafe(32)
        session = HolderSession(card_serial, lg_code, self._now() + self._lifetime)
        self._open[self._key(token)] = session
        return token, session

    def holder(self, token: str) -> HolderSession:
        session = self._open.get(self._key(token))
        if session is None or self._now() >= session.expires_at:
            self._open.pop(self._key(token), None)
            raise SessionEnded()
        return session

    def end(self, token: str) -> bool:
        return self._open.pop(self._key(token), None) is not None

    def sweep(self) -> int:
        now = self._now()
        gone = [k for k, s in self._open.items() if now >= s.expires_at]
        for key in gone:
            del self._open[key]
        return len(gone)

    def __len__(self) -> int:
        return len(self._open)
