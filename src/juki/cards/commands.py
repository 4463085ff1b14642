"""What the counter asks for, as frozen dataclasses. No PIN is kept by any of them beyond the
call: the token takes it, and nothing writes it down."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from juki.cards.model import AbolitionReason, Backend, KeyKind


@dataclass(frozen=True, slots=True)
class IssueCard:
    """交付申請 and 交付 at the counter, in one visit (the card is made on the spot)."""

    resident_code: str
    card_serial: str
    backend: Backend
    on: date
    pin: str = field(repr=False)
    signing_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class RenewCard:
    """電子証明書の更新: new key pairs and certificates on the same card."""

    card_serial: str
    on: date
    pin: str = field(repr=False)
    signing_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ContinueCardUse:
    """継続利用: the card of a resident who moved in keeps working here."""

    card_serial: str
    resident_code: str
    backend: Backend
    moved_in_on: date
    on: date


@dataclass(frozen=True, slots=True)
class ResetPin:
    """暗証番号の初期化 (and unlock) by the 暗証番号管理者."""

    card_serial: str
    kind: KeyKind
    new_pin: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class AbolishCard:
    card_serial: str
    reason: AbolitionReason
    on: date
