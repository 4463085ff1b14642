"""A software card (demo, simulator): the chip's memory is this object, or a token file that
only its owner can read (`save`/`load`).

What a chip keeps, this keeps: the two private keys, the certificates, a verifier of each PIN
(scrypt, never the PIN itself) and the counter of wrong tries, checked here before a key is
used. It is not a secure element: whoever reads the token file has the keys. A configurable
delay (`delay_s`) stands in for a real card's slowness in load tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from juki.cards.model import KeyKind
from juki.cards.rules import TryCounter, check_pin
from juki.cards.token import KEY_BITS, CardUnavailable
from juki.core.files import replace_private

_SCRYPT: Final = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
FORMAT: Final = "juki-soft-card/1"


def _verifier(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, **_SCRYPT)


@dataclass
class _Slot:
    key: rsa.RSAPrivateKey
    salt: bytes
    verifier: bytes
    counter: TryCounter
    certificate: x509.Certificate | None = None


@dataclass
class SoftCardToken:
    """Both `CardToken` and `CardWriter`."""

    serial: str
    slots: dict[KeyKind, _Slot] = field(default_factory=dict)
    delay_s: float = 0.0
    path: Path | None = None  # where `save` writes after every change, when set

    @property
    def card_serial(self) -> str:
        return self.serial

    # -- the counter's side -----------------------------------------------------------------

    def generate_key(self, kind: KeyKind, pin: str) -> rsa.RSAPublicKey:
        check_pin(kind, pin)
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        salt = os.urandom(16)
        self.slots[kind] = _Slot(key, salt, _verifier(pin, salt), TryCounter.fresh(kind))
        self._persist()
        return key.public_key()

    def store_certificate(self, kind: KeyKind, certificate: x509.Certificate) -> None:
        self._slot(kind).certificate = certificate
        self._persist()

    def reset_pin(self, kind: KeyKind, new_pin: str) -> None:
        check_pin(kind, new_pin)
        slot = self._slot(kind)
        slot.salt = os.urandom(16)
        slot.verifier = _verifier(new_pin, slot.salt)
        slot.counter = TryCounter.fresh(kind)
        self._persist()

    # -- the resident's side ----------------------------------------------------------------

    def auth_certificate(self) -> x509.Certificate:
        return self._certificate(KeyKind.AUTH)

    def signing_certificate(self) -> x509.Certificate:
        return self._certificate(KeyKind.SIGNING)

    def sign_auth(self, pin: str, challenge: bytes) -> bytes:
        return self._sign(KeyKind.AUTH, pin, challenge)

    def sign(self, password: str, data: bytes) -> bytes:
        return self._sign(KeyKind.SIGNING, password, data)

    def tries_left(self, kind: KeyKind) -> int:
        return self._slot(kind).counter.left

    def _sign(self, kind: KeyKind, pin: str, data: bytes) -> bytes:
        slot = self._slot(kind)
        if self.delay_s:
            time.sleep(self.delay_s)
        right = hmac.compare_digest(_verifier(pin, slot.salt), slot.verifier)
        slot.counter = slot.counter.after(right)  # CardLocked if already locked
        self._persist()
        slot.counter.raise_if_wrong(right)
        return slot.key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def _slot(self, kind: KeyKind) -> _Slot:
        slot = self.slots.get(kind)
        if slot is None:
            raise CardUnavailable(f"the card holds no {kind.value} key")
        return slot

    def _certificate(self, kind: KeyKind) -> x509.Certificate:
        certificate = self._slot(kind).certificate
        if certificate is None:
            raise CardUnavailable(f"the card holds no {kind.value} certificate")
        return certificate

    # -- the token file -----------------------------------------------------------------------

    def _persist(self) -> None:
        if self.path is not None:
            replace_private(self.path, self.to_bytes())

    def to_bytes(self) -> bytes:
        def b64(b: bytes) -> str:
            return base64.b64encode(b).decode("ascii")

        slots: dict[str, Any] = {}
        for kind, s in self.slots.items():
            pem = s.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            cert = s.certificate.public_bytes(serialization.Encoding.PEM) if s.certificate else b""
            slots[kind.value] = {
                "key": pem.decode("ascii"),
                "salt": b64(s.salt),
                "verifier": b64(s.verifier),
                "tries_left": s.counter.left,
                "certificate": cert.decode("ascii") or None,
            }
        return json.dumps({"format": FORMAT, "serial": self.serial, "slots": slots}).encode()

    @classmethod
    def load(cls, path: Path) -> SoftCardToken:
        try:
            raw = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise CardUnavailable(f"cannot read the card file: {exc}") from exc
        if raw.get("format") != FORMAT:
            raise CardUnavailable("not a juki software card")
        token = cls(serial=str(raw["serial"]), path=path)
        for name, s in raw["slots"].items():
            kind = KeyKind(name)
            key = serialization.load_pem_private_key(s["key"].encode("ascii"), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            cert = s["certificate"]
            token.slots[kind] = _Slot(
                key,
                base64.b64decode(s["salt"]),
                base64.b64decode(s["verifier"]),
                TryCounter(kind, int(s["tries_left"])),
                x509.load_pem_x509_certificate(cert.encode("ascii")) if cert else None,
            )
        return token
