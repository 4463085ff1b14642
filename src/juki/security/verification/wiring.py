"""Operator verification built from the settings, once per app: the WebAuthn relying party,
the card reader (the PKCS#11 module of `JUKI_PKCS11_MODULE`) and the sign-in policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from juki.core.settings import Settings
from juki.security.verification.ports import CardReader, RelyingParty
from juki.security.verification.rules import CardUnavailable, LoginPolicy


class NoReader:
    """No PKCS#11 module configured: every card is unavailable (and no one is locked out)."""

    def sign(self, card_label: str, pin: str, data: bytes) -> bytes:
        raise CardUnavailable("no card reader: set JUKI_PKCS11_MODULE")

    def public_key_pem(self, card_label: str, pin: str) -> str:
        raise CardUnavailable("no card reader: set JUKI_PKCS11_MODULE")


@dataclass(frozen=True, slots=True)
class Verification:
    rp: RelyingParty
    reader: CardReader
    policy: LoginPolicy


def verification_of(settings: Settings) -> Verification:
    from juki.security.verification.cards import Pkcs11Reader
    from juki.security.verification.webauthn_rp import WebAuthnRelyingParty

    reader: CardReader = (
        Pkcs11Reader(settings.pkcs11_module) if settings.pkcs11_module else NoReader()
    )
    return Verification(
        rp=WebAuthnRelyingParty(settings.webauthn_rp_id),
        reader=reader,
        policy=LoginPolicy(
            max_failures=settings.login_max_failures,
            idle_limit=timedelta(minutes=settings.idle_minutes),
        ),
    )
