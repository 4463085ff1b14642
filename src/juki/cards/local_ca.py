"""A card CA in the registry's own database, for a standalone registry (`juki card … --db`)
and the demo without a network: the same ledger and CRL as the national node's, with the CA's
key and certificate in a directory only their owner can read (`load_or_create`).

On a network, a municipality asks the national node instead (`juki.nodes.cards`)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import sqlalchemy as sa
from cryptography import x509

from juki.cards import ca_store
from juki.cards.ca import CardAuthority
from juki.cards.ports import CardHolder, CertificationRequest, IssuedCertificates
from juki.core.clock import Clock
from juki.core.errors import DomainRuleError
from juki.core.files import write_private

KEY_FILE: Final = "card-ca.key"
CERT_FILE: Final = "card-ca.pem"


def load_or_create(directory: Path, clock: Clock) -> CardAuthority:
    """The CA kept in `directory`, made there (owner-only) the first time."""
    key, cert = directory / KEY_FILE, directory / CERT_FILE
    if key.exists() and cert.exists():
        return CardAuthority.from_pem(key.read_bytes(), cert.read_bytes())
    directory.mkdir(parents=True, exist_ok=True)
    ca = CardAuthority.create(clock.now())
    key_pem, cert_pem = ca.to_pem()
    write_private(key, key_pem)
    write_private(cert, cert_pem)
    return ca


class LocalCertifier:
    """`CardCertifier` on this database's own CA ledger."""

    def __init__(self, engine: sa.Engine, ca: CardAuthority, clock: Clock) -> None:
        self.engine = engine
        self.ca = ca
        self.clock = clock

    def certify(self, request: CertificationRequest) -> IssuedCertificates:
        with self.engine.begin() as conn:
            return ca_store.issue(conn, self.ca, request, self.clock.now())

    def revoke(self, card_serial: str, resident_code: str, lg_code: str, reason: str) -> int:
        with self.engine.begin() as conn:
            return ca_store.revoke(conn, self.clock.now(), reason, card_serial=card_serial)

    def holder(self, card_serial: str, resident_code: str, lg_code: str) -> CardHolder:
        with self.engine.connect() as conn:
            held = ca_store.holder(conn, card_serial, self.clock.now())
        if held is None:
            raise DomainRuleError(
                "card_serial",
                "card_unknown",
                "the card CA issued no certificate for this card",
                "このカードの電子証明書は発行されていません",
            )
        return held

    def take_over(self, card_serial: str, resident_code: str, lg_code: str) -> CardHolder:
        before = self.holder(card_serial, resident_code, lg_code)
        if before.resident_code == resident_code and before.live:
            with self.engine.begin() as conn:
                ca_store.move(conn, card_serial, lg_code)
        return before

    def hold(self, card_serial: str, resident_code: str, lg_code: str, *, held: bool) -> int:
        with self.engine.begin() as conn:
            return ca_store.hold(conn, self.clock.now(), card_serial, held=held)

    def crl(self) -> x509.CertificateRevocationList:
        with self.engine.begin() as conn:
            return ca_store.crl(conn, self.ca, self.clock.now())
