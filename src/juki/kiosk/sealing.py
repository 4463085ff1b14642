"""End-to-end sealing between a kiosk session and a municipality's certificate server.

The relay (証明書交付センター) carries both the request and the answer, and must not be able to
read either. Each is sealed to its recipient's X25519 public key with HPKE (RFC 9180, base
mode, as `cryptography` implements it): DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM,
a fresh encapsulated key per message. The HPKE `info` binds the ciphertext to the direction,
the request id, the card serial and the municipality, so a relay that swaps a ciphertext
between two sessions, or relabels it, makes it fail to open. Nothing here is home-made.

The municipality's kiosk key is announced by a `KeyStatement`: the raw public key signed by the
municipality's node key, whose certificate the network root issued. The kiosk session checks it
against the root before it seals anything to it, so the relay cannot substitute its own key.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from juki.network import pki

SCHEME: Final = "juki-kiosk-seal/1"
TO_MUNICIPALITY: Final = "request"
TO_KIOSK: Final = "answer"
KEY_BYTES: Final = 32
KEY_STATEMENT: Final = b"juki-kiosk-key/1\n"
KEM: Final = hpke.KEM.X25519
KDF: Final = hpke.KDF.HKDF_SHA256
AEAD: Final = hpke.AEAD.AES_256_GCM
SUITE: Final = hpke.Suite(KEM, KDF, AEAD)


class SealError(Exception):
    """A sealed message that does not open (wrong key, altered, or bound to another request)."""


def binding(direction: str, request_id: str, card_serial: str, lg_code: str) -> bytes:
    """The HPKE info: what a sealed message is for. Opening it for anything else fails."""
    return "\n".join((SCHEME, direction, request_id, card_serial, lg_code)).encode("utf-8")


def raw_public(key: X25519PrivateKey | X25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, X25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_raw(raw: bytes) -> X25519PublicKey:
    if len(raw) != KEY_BYTES:
        raise SealError("an X25519 public key is 32 bytes")
    return X25519PublicKey.from_public_bytes(raw)


def seal(recipient: X25519PublicKey, plaintext: bytes, info: bytes) -> str:
    """HPKE-sealed `plaintext` (encapsulated key ‖ ciphertext), as one base64url string."""
    return b64(SUITE.encrypt(plaintext, recipient, info=info))


def open_sealed(recipient: X25519PrivateKey, sealed: str, info: bytes) -> bytes:
    try:
        return SUITE.decrypt(unb64(sealed), recipient, info=info)
    except (InvalidTag, ValueError) as exc:
        raise SealError("the sealed message does not open with this key and binding") from exc


# -- the municipality's kiosk key, signed by its node key ---------------------------------------


def key_statement_data(lg_code: str, public: bytes) -> bytes:
    return KEY_STATEMENT + lg_code.encode("ascii") + b"\n" + public


@dataclass(frozen=True, slots=True)
class KeyStatement:
    lg_code: str
    public_key: bytes  # raw X25519
    signature: bytes  # ECDSA-SHA256 by the node key over `key_statement_data`
    node_certificate: x509.Certificate

    def verified(self, root: x509.Certificate, at: datetime) -> X25519PublicKey:
        """The municipality's kiosk key, once its node certificate (issued by `root`, naming
        `lg_code`) has signed it; `SealError` otherwise."""
        try:
            named = pki.check_issued_by(self.node_certificate, root, at)
        except ValueError as exc:
            raise SealError(f"the municipality's certificate: {exc}") from exc
        if named.node_id != self.lg_code or named.kind != "municipality":
            raise SealError(f"the certificate names {named.node_id}, not {self.lg_code}")
        key = self.node_certificate.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        if not pki.verify(key, self.signature, key_statement_data(self.lg_code, self.public_key)):
            raise SealError("the kiosk key is not signed by the municipality")
        return public_from_raw(self.public_key)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SealError("not base64url") from exc
