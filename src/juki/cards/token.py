"""The card as the rest of juki sees it: one interface (`CardToken`), two back-ends.

- `juki.cards.soft.SoftCardToken`: keys in memory (or a token file) for the demo and simulator;
- `juki.cards.pkcs11_token.Pkcs11CardToken`: keys on a PKCS#11 token (SoftHSM2 in tests, a
  smart card through OpenSC's module in an office).

The resident's side (`CardToken`) reads the two certificates and signs with a key after its PIN
opens it; a wrong PIN raises `WrongPin` (tries left) and a locked key `CardLocked`. The counter's
side (`CardWriter`) makes the key pairs on the card, stores the certificates the card CA issued
and resets a PIN (the 暗証番号管理者's 初期化). The PIN and the counter of wrong tries live in the
token and nowhere else.

Both back-ends sign as the 個人番号カード does: RSA-2048, PKCS#1 v1.5 over a SHA-256 DigestInfo
(CKM_RSA_PKCS), so `verify_signature` checks either, and a real card fits the same path.
"""

from __future__ import annotations

import hashlib
from typing import Final, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from juki.cards.model import KeyKind
from juki.cards.rules import CardLocked, WrongPin

__all__ = [
    "CardLocked",
    "CardToken",
    "CardUnavailable",
    "CardWriter",
    "WrongPin",
    "digest_info",
    "verify_signature",
]

KEY_BITS: Final = 2048
# DER of DigestInfo{sha256, NULL} before the 32-byte hash (RFC 8017 §9.2, note 1).
SHA256_DIGEST_INFO: Final = bytes.fromhex("3031300d060960864801650304020105000420")


class CardUnavailable(Exception):
    """The card cannot be reached or holds no such key or certificate."""


def digest_info(data: bytes) -> bytes:
    return SHA256_DIGEST_INFO + hashlib.sha256(data).digest()


class CardToken(Protocol):
    """The resident's card, as a kiosk or the relay's verifier meets it."""

    @property
    def card_serial(self) -> str: ...

    def auth_certificate(self) -> x509.Certificate: ...

    def sign_auth(self, pin: str, challenge: bytes) -> bytes:
        """Sign `challenge` with the 利用者証明用 key, opened by the 4-digit PIN."""
        ...

    def signing_certificate(self) -> x509.Certificate:
        """The 署名用電子証明書; `CardUnavailable` when the card has none (under 15)."""
        ...

    def sign(self, password: str, data: bytes) -> bytes:
        """Sign `data` with the 署名用 key, opened by the 6–16 character password."""
        ...

    def tries_left(self, kind: KeyKind) -> int: ...


class CardWriter(Protocol):
    """The municipality's card issuing side: keys, certificates, PIN 初期化."""

    def generate_key(self, kind: KeyKind, pin: str) -> rsa.RSAPublicKey:
        """Make the key pair of `kind` on the card, opened by `pin` from now on."""
        ...

    def store_certificate(self, kind: KeyKind, certificate: x509.Certificate) -> None: ...

    def reset_pin(self, kind: KeyKind, new_pin: str) -> None:
        """暗証番号の初期化 (unlock): a new PIN and a full counter of tries."""
        ...


def verify_signature(public_key: object, data: bytes, signature: bytes) -> bool:
    """Whether `signature` over `data` was made by the card key whose public half is given."""
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
