"""What the card services need from outside: the card register (SQL at the municipality) and
the card CA (the national node over the network, or a local CA for a standalone registry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from juki.cards.ca import SigningItems
from juki.cards.model import Card
from juki.registry.ports import RegistryUnitOfWork


class CardRegister(Protocol):
    """The municipality's cards: the serial → resident link."""

    def get(self, card_serial: str) -> Card: ...

    def find(self, card_serial: str) -> Card | None: ...

    def for_resident(self, resident_code: str) -> Sequence[Card]: ...

    def add(self, card: Card) -> None: ...

    def save(self, card: Card) -> None: ...


class CardUnitOfWork(RegistryUnitOfWork, Protocol):
    @property
    def cards(self) -> CardRegister: ...


@dataclass(frozen=True, slots=True)
class CertificationRequest:
    card_serial: str
    resident_code: str
    lg_code: str
    auth_key: rsa.RSAPublicKey
    signing_key: rsa.RSAPublicKey | None
    signing_items: SigningItems | None  # with a signing key, the 基本4情報 it will carry


@dataclass(frozen=True, slots=True)
class IssuedCertificates:
    auth: x509.Certificate
    signing: x509.Certificate | None


@dataclass(frozen=True, slots=True)
class CardHolder:
    """What the card CA knows of a card: whose it is, where, and whether it still works."""

    card_serial: str
    resident_code: str
    lg_code: str
    live: bool  # an unrevoked, unexpired authentication certificate
    checked_at: datetime
    held: bool = False  # 一時停止 at the CA (on the CRL as certificateHold)


class CardCertifier(Protocol):
    """The card CA as a municipality reaches it. Each raises `CertifierRefused` with the rule
    that refused, or `CertifierUnavailable` when the CA cannot be reached."""

    def certify(self, request: CertificationRequest) -> IssuedCertificates: ...

    def revoke(self, card_serial: str, resident_code: str, lg_code: str, reason: str) -> int:
        """Revoke every live certificate of the card; how many were revoked."""
        ...

    def holder(self, card_serial: str, resident_code: str, lg_code: str) -> CardHolder: ...

    def take_over(self, card_serial: str, resident_code: str, lg_code: str) -> CardHolder:
        """継続利用: the resident's live card now routes to `lg_code`, the municipality they
        moved to (the CA checks its identity index says so); the holder as it was before."""
        ...

    def hold(self, card_serial: str, resident_code: str, lg_code: str, *, held: bool) -> int:
        """一時停止 (held) or its end at the CA: how many certificates changed."""
        ...
