"""The operator card (操作識別カード) through PKCS#11: SoftHSM2 in tests, a smart card through
OpenSC's module at a terminal. The module's path comes from the settings
(`JUKI_PKCS11_MODULE`), never from the code.

The card holds an RSA-2048 key pair made on it at issue (`make_key`); its public key is
registered by `ledger.issue_card`. At sign-in the PIN opens the card, which signs the server's
challenge with CKM_RSA_PKCS over a SHA-256 DigestInfo, as the 個人番号カード's
利用者証明用電子証明書 does, so a real card through OpenSC follows the same path;
`verify_card_signature` checks it against the registered key (PKCS#1 v1.5, SHA-256).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from juki.security.verification.rules import CardPinIncorrect, CardUnavailable

KEY_LABEL: Final = "juki-operator"
# DER of DigestInfo{sha256, NULL} before the 32-byte hash (RFC 8017 §9.2, note 1).
SHA256_DIGEST_INFO: Final = bytes.fromhex("3031300d060960864801650304020105000420")

_LIBS: dict[str, Any] = {}
_LIBS_LOCK = threading.Lock()


def _lib(module_path: str) -> Any:
    """One loaded module per path and process (C_Initialize may run only once)."""
    import pkcs11

    with _LIBS_LOCK:
        if module_path not in _LIBS:
            _LIBS[module_path] = pkcs11.lib(module_path)
        return _LIBS[module_path]


def digest_info(data: bytes) -> bytes:
    return SHA256_DIGEST_INFO + hashlib.sha256(data).digest()


def _pem(modulus: bytes, exponent: bytes) -> str:
    numbers = rsa.RSAPublicNumbers(int.from_bytes(exponent, "big"), int.from_bytes(modulus, "big"))
    return (
        numbers.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


class Pkcs11Reader:
    """Operator cards in the PKCS#11 module at `module_path`, found by their token label (a
    slot's number changes as cards come and go)."""

    def __init__(self, module_path: str, key_label: str = KEY_LABEL) -> None:
        self._module_path = module_path
        self._key_label = key_label

    def _session(self, card_label: str, pin: str) -> Any:
        import pkcs11
        from pkcs11 import exceptions as p11

        missing = (p11.NoSuchToken, p11.TokenNotPresent, p11.TokenNotRecognised)
        lib = _lib(self._module_path)
        try:
            token = lib.get_token(token_label=card_label)
        except missing:
            # A card put in after the module was loaded: look at the slots again, once.
            with _LIBS_LOCK:
                lib.reinitialize()
            try:
                token = lib.get_token(token_label=card_label)
            except missing as exc:
                raise CardUnavailable(f"no card labelled {card_label!r} at the reader") from exc
        try:
            return token.open(user_pin=pin, rw=True)
        except (p11.PinIncorrect, p11.PinLenRange, p11.PinInvalid) as exc:
            raise CardPinIncorrect("the PIN does not open the card") from exc
        except (p11.PinLocked, p11.PinExpired, p11.UserPinNotInitialized) as exc:
            raise CardUnavailable(f"the card cannot be opened: {type(exc).__name__}") from exc
        except pkcs11.PKCS11Error as exc:
            raise CardUnavailable(f"the card cannot be opened: {type(exc).__name__}") from exc

    def make_key(self, card_label: str, pin: str) -> str:
        """At issue: make the card's key pair on the card; return the public key (PEM)."""
        from pkcs11 import Attribute, KeyType

        with self._session(card_label, pin) as session:
            public, _ = session.generate_keypair(
                KeyType.RSA, 2048, label=self._key_label, store=True
            )
            return _pem(public[Attribute.MODULUS], public[Attribute.PUBLIC_EXPONENT])

    def public_key_pem(self, card_label: str, pin: str) -> str:
        from pkcs11 import Attribute, ObjectClass

        with self._session(card_label, pin) as session:
            key = self._key(session, ObjectClass.PUBLIC_KEY)
            return _pem(key[Attribute.MODULUS], key[Attribute.PUBLIC_EXPONENT])

    def sign(self, card_label: str, pin: str, data: bytes) -> bytes:
        from pkcs11 import Mechanism, ObjectClass

        with self._session(card_label, pin) as session:
            key = self._key(session, ObjectClass.PRIVATE_KEY)
            signature: bytes = key.sign(digest_info(data), mechanism=Mechanism.RSA_PKCS)
            return signature

    def _key(self, session: Any, object_class: Any) -> Any:
        from pkcs11 import exceptions as p11

        try:
            return session.get_key(object_class=object_class, label=self._key_label)
        except (p11.NoSuchKey, p11.MultipleObjectsReturned) as exc:
            raise CardUnavailable(f"the card holds no single key {self._key_label!r}") from exc


def verify_card_signature(public_key_pem: str, data: bytes, signature: bytes) -> bool:
    """Whether `signature` over `data` was made by the card whose key was registered."""
    key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
