"""The PIN rules of the card, pure (no I/O): what a PIN may be, and how many wrong tries lock it.

- 利用者証明用電子証明書 (`auth`): a 4-digit PIN (暗証番号), locked after 3 wrong tries in a row.
- 署名用電子証明書 (`signing`): a password of 6 to 16 characters of A–Z and 0–9 that mixes
  both, locked after 5 wrong tries in a row; issued only to a resident of 15 or more.

The counter of wrong tries lives in the token (`TryCounter` is the logic a software token and
the PKCS#11 back-end both apply; a real card applies it in its chip). A right PIN before the
lock resets it; once locked only the 暗証番号管理者's reset opens the key again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from juki.cards.model import KeyKind
from juki.core.errors import DomainRuleError, ValidationError
from juki.registry.model import age_on

AUTH_PIN_LENGTH: Final = 4
SIGNING_MIN, SIGNING_MAX = 6, 16
MAX_TRIES: Final = {KeyKind.AUTH: 3, KeyKind.SIGNING: 5}
SIGNING_MIN_AGE: Final = 15

_DIGITS = re.compile(r"[0-9]+")
_SIGNING = re.compile(r"[A-Z0-9]+")


class PinError(Exception):
    """A PIN that does not open the key; the message says how many tries are left."""


class WrongPin(PinError):
    def __init__(self, kind: KeyKind, tries_left: int) -> None:
        super().__init__(kind, tries_left)
        self.kind = kind
        self.tries_left = tries_left
        self.message_en = f"wrong {kind.label_en}: {tries_left} tries left before the lock"
        self.message_ja = f"{kind.label_ja}が違います（あと{tries_left}回で利用できなくなります）"

    def __str__(self) -> str:
        return self.message_en


class CardLocked(PinError):
    def __init__(self, kind: KeyKind) -> None:
        super().__init__(kind)
        self.kind = kind
        self.message_en = (
            f"the {kind.label_en} is locked after too many wrong tries: "
            "the 暗証番号管理者 at the municipal counter resets it"
        )
        self.message_ja = (
            f"{kind.label_ja}がロックされています。市区町村の窓口で初期化を申請してください"
        )

    def __str__(self) -> str:
        return self.message_en


def check_auth_pin(pin: str, field: str = "pin") -> str:
    """A 利用者証明用 PIN: exactly 4 digits (0–9, half-width)."""
    if not (len(pin) == AUTH_PIN_LENGTH and _DIGITS.fullmatch(pin) and pin.isascii()):
        raise ValidationError(
            field,
            "auth_pin_format",
            "the user-authentication PIN is exactly 4 digits 0-9",
            "利用者証明用電子証明書の暗証番号は数字4桁で入力してください",
        )
    return pin


def check_signing_password(password: str, field: str = "signing_password") -> str:
    """A 署名用 password: 6–16 characters of A–Z and 0–9, with at least one of each."""
    if not SIGNING_MIN <= len(password) <= SIGNING_MAX:
        raise ValidationError(
            field,
            "signing_password_length",
            f"the signing password is {SIGNING_MIN} to {SIGNING_MAX} characters",
            f"署名用電子証明書の暗証番号は{SIGNING_MIN}〜{SIGNING_MAX}文字で入力してください",
        )
    if not (password.isascii() and _SIGNING.fullmatch(password)):
        raise ValidationError(
            field,
            "signing_password_characters",
            "the signing password uses only capital letters A-Z and digits 0-9",
            "署名用電子証明書の暗証番号は英大文字（A〜Z）と数字（0〜9）だけで入力してください",
        )
    if password.isdigit() or password.isalpha():
        raise ValidationError(
            field,
            "signing_password_mix",
            "the signing password mixes letters and digits (at least one of each)",
            "署名用電子証明書の暗証番号は英大文字と数字を両方含めてください",
        )
    return password


def check_pin(kind: KeyKind, pin: str) -> str:
    if kind is KeyKind.AUTH:
        return check_auth_pin(pin)
    return check_signing_password(pin)


def signing_allowed(birth_date: date, on: date) -> None:
    """The 署名用電子証明書 is issued from age 15 (公的個人認証法 第3条, to check)."""
    if age_on(birth_date, on) < SIGNING_MIN_AGE:
        raise DomainRuleError(
            "signing_password",
            "signing_under_15",
            f"no signing certificate under age {SIGNING_MIN_AGE}",
            f"署名用電子証明書は{SIGNING_MIN_AGE}歳未満の方には発行できません",
        )


@dataclass(frozen=True, slots=True)
class TryCounter:
    """Wrong tries left for one key; `left == 0` is locked. Pure: each try returns the next."""

    kind: KeyKind
    left: int

    @classmethod
    def fresh(cls, kind: KeyKind) -> TryCounter:
        return cls(kind, MAX_TRIES[kind])

    @property
    def locked(self) -> bool:
        return self.left <= 0

    def after(self, right: bool) -> TryCounter:
        """The counter after one try (which the token made only if not locked)."""
        if self.locked:
            raise CardLocked(self.kind)
        return TryCounter.fresh(self.kind) if right else TryCounter(self.kind, self.left - 1)

    def raise_if_wrong(self, right: bool) -> None:
        """After `after(right)`: the error a wrong try raises (WrongPin, or CardLocked at 0)."""
        if right:
            return
        if self.locked:
            raise CardLocked(self.kind)
        raise WrongPin(self.kind, self.left)
