"""What a kiosk session needs of the relay (`RelayPort`), and what crosses that hop.

The national node's `juki.nodes.kiosk_relay.KioskRelay` implements it in-process; an HTTP
client of the relay's endpoint (the kiosk web UI's, a later step) implements the same, mapping
its own timeouts to `HopTimeout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography import x509

from juki.certificates.kiosk.offer import KioskOffer
from juki.core.errors import DomainRuleError
from juki.kiosk.sealing import KeyStatement


class HopTimeout(Exception):
    """A hop did not answer in time: the issuance is aborted and nothing is charged."""


class RelayRefused(DomainRuleError):
    """The relay will not (or could not) carry this request; `rule` says why."""

    def __init__(self, rule: str, message_en: str, message_ja: str, field: str = "request") -> None:
        super().__init__(field, rule, message_en, message_ja)


class RelayBusy(RelayRefused):
    """The municipality's certificate server has as many requests in flight as it may: this
    one is in line (`position`, 1 = next) and should be sent again, unchanged, after
    `retry_after` seconds. Nothing was checked or used: the card's signed challenge stays
    good for the next try (within its validity)."""

    def __init__(self, position: int, retry_after: float) -> None:
        super().__init__(
            "busy",
            f"the municipality is busy: number {position} in line, ask again in "
            f"{retry_after:.2f} s",
            f"ただいま混み合っています。順番にお受けしますので、このままお待ちください（{position}番目）",
        )
        self.position = position
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class KioskCall:
    """One kiosk request as it reaches the relay."""

    store_id: str
    request_id: str
    lg_code: str  # the municipality chosen at the kiosk
    card_certificate: x509.Certificate
    challenge: bytes
    signature: bytes
    session_key: bytes  # raw X25519, the session's ephemeral key
    sealed_request: str


@dataclass(frozen=True, slots=True)
class RelayAnswer:
    """The relay's answer: the receipt in clear, the answer itself sealed to the session."""

    request_id: str
    card_serial: str
    lg_code: str
    outcome: str  # issued | refused
    kind: str | None
    copies: int | None
    fee_yen: int | None
    sealed_answer: str


class RelayPort(Protocol):
    def challenge(self) -> bytes: ...

    def offer(self, lg_code: str) -> KioskOffer: ...

    def municipality_key(self, lg_code: str) -> KeyStatement: ...

    def request(self, call: KioskCall) -> RelayAnswer: ...

    def abandon(self, store_id: str, request_id: str, card_serial: str, lg_code: str) -> None: ...

    def spoiled(
        self, store_id: str, request_id: str, card_serial: str, lg_code: str, issue_number: str
    ) -> None: ...
