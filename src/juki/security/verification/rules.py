"""The rules of signing in at a terminal, pure: how many failures lock an operator out, how long
a seat may stay idle, how long a challenge lives, and why a sign-in is refused (in Japanese for
the terminal, in English for the oplog).

Seed 001 第16条5: an operator who changes shift or leaves the seat ends the work and takes the
card out; the terminal enforces it by ending a session idle for `idle_limit`. Seed 002 第11条:
access is controlled by 照合情報 and recorded; here a session needs both the 照合情報 (a WebAuthn
credential with user verification) and the operator card opened by its PIN.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from juki.core.errors import JukiError, ValidationError

DEFAULT_MAX_FAILURES: Final = 5
DEFAULT_IDLE_MINUTES: Final = 15
CHALLENGE_TTL: Final = timedelta(minutes=5)
ENROLMENT_TTL: Final = timedelta(days=7)
MAX_PIN_LEN: Final = 16
MAX_REASON_LEN: Final = 400


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """Set from `JUKI_LOGIN_MAX_FAILURES` and `JUKI_IDLE_MINUTES` (juki.core.settings)."""

    max_failures: int = DEFAULT_MAX_FAILURES
    idle_limit: timedelta = timedelta(minutes=DEFAULT_IDLE_MINUTES)

    def locks_out(self, failures: int) -> bool:
        """After this many failures in a row the operator is locked out."""
        return failures >= self.max_failures

    def idle(self, last_seen: datetime, now: datetime) -> bool:
        return now - last_seen >= self.idle_limit


class Refusal(StrEnum):
    """Why a sign-in (or a session) is refused; each is written to the oplog."""

    UNKNOWN_OPERATOR = "unknown_operator"
    INACTIVE = "inactive"
    LOCKED = "locked"
    UNKNOWN_TERMINAL = "unknown_terminal"
    OTHER_MUNICIPALITY = "other_municipality"
    SESSION_EXISTS = "session_exists"
    NO_CREDENTIAL = "no_credential"
    CREDENTIAL_ROLE = "credential_role"
    VERIFIER_FAILED = "verifier_failed"
    NO_CARD = "no_card"
    PIN_INCORRECT = "pin_incorrect"
    CARD_FAILED = "card_failed"
    CARD_UNAVAILABLE = "card_unavailable"
    CHALLENGE = "challenge"
    ENROLMENT_CODE = "enrolment_code"


MESSAGES_JA: Final = {
    Refusal.UNKNOWN_OPERATOR: "照合IDまたは照合情報が正しくありません",
    Refusal.INACTIVE: "この照合IDは停止または廃止されています",
    Refusal.LOCKED: (
        "認証の失敗が続いたためロックされています。"
        "アクセス管理責任者または暗証番号管理者に解除を依頼してください"
    ),
    Refusal.UNKNOWN_TERMINAL: "この端末は登録されていません",
    Refusal.OTHER_MUNICIPALITY: "この端末は他の市区町村の端末です",
    Refusal.SESSION_EXISTS: "この照合IDは他の端末でログイン中です。先にログアウトしてください",
    Refusal.NO_CREDENTIAL: "照合情報が登録されていません",
    Refusal.CREDENTIAL_ROLE: "照合情報は異動前の操作者IDに結び付いています。再登録してください",
    Refusal.VERIFIER_FAILED: "照合情報による認証に失敗しました",
    Refusal.NO_CARD: "操作識別カードが交付されていません",
    Refusal.PIN_INCORRECT: "暗証番号が正しくありません",
    Refusal.CARD_FAILED: "操作識別カードによる認証に失敗しました",
    Refusal.CARD_UNAVAILABLE: "操作識別カードを読み取れません。カードを確認してください",
    Refusal.CHALLENGE: "画面の有効期限が切れました。もう一度ログインしてください",
    Refusal.ENROLMENT_CODE: "登録コードが正しくないか、有効期限が切れています",
}

# The failures that count towards a lockout: the operator's own verification failed.
COUNTED: Final = frozenset({Refusal.VERIFIER_FAILED, Refusal.PIN_INCORRECT, Refusal.CARD_FAILED})


class LoginRefused(JukiError):
    """A sign-in or enrolment refused, and why; `locked_now` when this failure locked it."""

    def __init__(self, reason: Refusal, *, locked_now: bool = False) -> None:
        self.reason = reason
        self.locked_now = locked_now
        self.message_en = f"sign-in refused: {reason.value}"
        self.message_ja = MESSAGES_JA[Refusal.LOCKED if locked_now else reason]
        super().__init__(self.message_en)


def new_secret() -> str:
    """A session secret, challenge id or enrolment code: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def card_message(challenge_id: str, challenge: str) -> bytes:
    """What the operator card signs at sign-in: the server's challenge, bound to its purpose."""
    return f"juki-operator-card-login\n{challenge_id}\n{challenge}".encode()


def validate_reason(reason: str, field: str = "reason") -> str:
    """Every ledger change says why (seed 002 第13条: the ledger is for someone to read)."""
    text = reason.strip()
    if not text or len(text) > MAX_REASON_LEN:
        raise ValidationError(
            field,
            "reason",
            f"a reason of 1 to {MAX_REASON_LEN} characters is required",
            f"理由を1〜{MAX_REASON_LEN}文字で入力してください",
        )
    return text


def validate_pin(pin: str) -> str:
    """暗証番号: 4 to 16 characters, digits and letters (a card's own rule may be narrower)."""
    if not 4 <= len(pin) <= MAX_PIN_LEN or not pin.isascii() or not pin.isalnum():
        raise ValidationError(
            "pin",
            "format",
            "the PIN is 4 to 16 letters or digits",
            "暗証番号は半角英数字4〜16文字で入力してください",
        )
    return pin


class VerifierFailed(JukiError):
    """A WebAuthn response that does not verify (wrong challenge, origin, key, no UV …)."""


class CardPinIncorrect(JukiError):
    """The PIN did not open the operator card."""


class CardUnavailable(JukiError):
    """No card with that label is present at the reader, or it cannot sign."""
