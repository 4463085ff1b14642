"""A card on a PKCS#11 token: SoftHSM2 in tests, a smart card through OpenSC's module.

A 個人番号カード shows its two applications as two PKCS#11 tokens, each with its own user PIN
(OpenSC's `jpki` driver: the user-authentication PIN and the digital-signature PIN); here a card
is two tokens labelled `<card label>-auth` and `<card label>-signing`, initialised blank by the
card printer with the issuer's SO PIN. The module's path and the SO PIN come from the settings
(`JUKI_PKCS11_MODULE`, `JUKI_CARD_SO_PIN`), never from the code.

The counter of wrong tries (3 for the PIN, 5 for the password): a real card counts in its chip
and answers CKR_PIN_LOCKED by itself. SoftHSM2 has no limit, so this back-end keeps the counter
on the token too, as a public data object (`juki-tries-left`) it reads before each login,
lowers on CKR_PIN_INCORRECT and restores on success; a locked token is not logged into at all.
A user could reset that object with their own PKCS#11 tool on SoftHSM2 — which is why a real
card, not SoftHSM2, holds a resident's keys.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from juki.cards.model import KeyKind
from juki.cards.rules import MAX_TRIES, CardLocked, TryCounter, check_pin
from juki.cards.token import KEY_BITS, CardUnavailable, digest_info

KEY_LABEL: Final = "juki-card-key"
CERT_LABEL: Final = "juki-card-certificate"
TRIES_LABEL: Final = "juki-tries-left"

_LIBS: dict[str, Any] = {}
_LOCK = threading.Lock()


def _lib(module_path: str) -> Any:
    """One loaded module per path and process (C_Initialize may run only once)."""
    import pkcs11

    with _LOCK:
        if module_path not in _LIBS:
            _LIBS[module_path] = pkcs11.lib(module_path)
        return _LIBS[module_path]


def token_label(card_label: str, kind: KeyKind) -> str:
    return f"{card_label}-{kind.value}"


class Pkcs11CardToken:
    """Both `CardToken` and `CardWriter` for the card whose tokens carry `card_label`."""

    def __init__(self, module_path: str, card_label: str, so_pin: str | None = None) -> None:
        self._module_path = module_path
        self._label = card_label
        self._so_pin = so_pin

    @property
    def card_serial(self) -> str:
        return self._label

    # -- sessions ---------------------------------------------------------------------------

    def _token(self, kind: KeyKind) -> Any:
        from pkcs11 import exceptions as p11

        missing = (p11.NoSuchToken, p11.TokenNotPresent, p11.TokenNotRecognised)
        lib = _lib(self._module_path)
        label = token_label(self._label, kind)
        try:
            return lib.get_token(token_label=label)
        except missing:
            with _LOCK:
                lib.reinitialize()  # a card put in after the module was loaded
            try:
                return lib.get_token(token_label=label)
            except missing as exc:
                raise CardUnavailable(f"no card token labelled {label!r}") from exc

    @contextmanager
    def _so(self, kind: KeyKind) -> Iterator[Any]:
        import pkcs11

        if self._so_pin is None:
            raise CardUnavailable("the issuer's SO PIN is not configured (JUKI_CARD_SO_PIN)")
        try:
            session = self._token(kind).open(so_pin=self._so_pin, rw=True)
        except pkcs11.PKCS11Error as exc:
            raise CardUnavailable(f"the issuer cannot open the card: {type(exc).__name__}") from exc
        with session:
            yield session

    @contextmanager
    def _user(self, kind: KeyKind, pin: str) -> Iterator[Any]:
        """A session opened by `pin`, counting the try on the token (see the module's doc)."""
        import pkcs11
        from pkcs11 import exceptions as p11

        token = self._token(kind)
        with token.open(rw=True) as public:
            counter = TryCounter(kind, self._read_tries(public, kind))
        if counter.locked:
            counter.after(False)  # raises CardLocked
        try:
            session = token.open(user_pin=pin, rw=True)
        except (p11.PinIncorrect, p11.PinLenRange, p11.PinInvalid):
            counter = counter.after(False)
            self._write_tries(token, counter.left)
            counter.raise_if_wrong(False)
            raise  # unreachable: raise_if_wrong(False) always raises
        except p11.PinLocked:  # a real card counts in its chip and says so itself
            self._write_tries(token, 0)
            raise CardLocked(kind) from None
        except pkcs11.PKCS11Error as exc:
            raise CardUnavailable(f"the card cannot be opened: {type(exc).__name__}") from exc
        with session:
            if counter.left != MAX_TRIES[kind]:
                self._write_tries_in(session, MAX_TRIES[kind])
            yield session

    def _tries_object(self, session: Any) -> Any:
        from pkcs11 import Attribute, ObjectClass

        found = list(
            session.get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: TRIES_LABEL})
        )
        return found[0] if found else None

    def _read_tries(self, session: Any, kind: KeyKind) -> int:
        from pkcs11 import Attribute

        obj = self._tries_object(session)
        if obj is None:
            raise CardUnavailable("the card was not issued (no counter of tries)")
        return int(bytes(obj[Attribute.VALUE]).decode("ascii"))

    def _write_tries(self, token: Any, left: int) -> None:
        with token.open(rw=True) as public:
            self._write_tries_in(public, left)

    def _write_tries_in(self, session: Any, left: int) -> None:
        from pkcs11 import Attribute, ObjectClass

        obj = self._tries_object(session)
        if obj is not None:
            obj.destroy()  # SoftHSM2 keeps a data object's value read-only: replace it
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.LABEL: TRIES_LABEL,
                Attribute.APPLICATION: "juki",
                Attribute.VALUE: str(left).encode("ascii"),
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
            }
        )

    # -- the counter's side -----------------------------------------------------------------

    def generate_key(self, kind: KeyKind, pin: str) -> rsa.RSAPublicKey:
        from pkcs11 import Attribute, KeyType

        check_pin(kind, pin)
        self.reset_pin(kind, pin)
        with self._user(kind, pin) as session:
            for old in session.get_objects({Attribute.LABEL: KEY_LABEL}):
                old.destroy()  # renewal: the new pair replaces the old one
            public, _ = session.generate_keypair(KeyType.RSA, KEY_BITS, label=KEY_LABEL, store=True)
            numbers = rsa.RSAPublicNumbers(
                int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
                int.from_bytes(public[Attribute.MODULUS], "big"),
            )
            return numbers.public_key()

    def store_certificate(self, kind: KeyKind, certificate: x509.Certificate) -> None:
        from pkcs11 import Attribute, CertificateType, ObjectClass

        der = certificate.public_bytes(serialization.Encoding.DER)
        with self._so(kind) as session:
            for old in session.get_objects(
                {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: CERT_LABEL}
            ):
                old.destroy()
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.LABEL: CERT_LABEL,
                    Attribute.SUBJECT: certificate.subject.public_bytes(),
                    Attribute.ISSUER: certificate.issuer.public_bytes(),
                    Attribute.VALUE: der,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: False,
                }
            )

    def reset_pin(self, kind: KeyKind, new_pin: str) -> None:
        check_pin(kind, new_pin)
        with self._so(kind) as session:
            session.init_pin(new_pin)
        self._write_tries(self._token(kind), MAX_TRIES[kind])

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
        with self._token(kind).open(rw=False) as public:
            return self._read_tries(public, kind)

    def _certificate(self, kind: KeyKind) -> x509.Certificate:
        from pkcs11 import Attribute, ObjectClass

        with self._token(kind).open(rw=False) as public:
            found = list(
                public.get_objects(
                    {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: CERT_LABEL}
                )
            )
            if not found:
                raise CardUnavailable(f"the card holds no {kind.value} certificate")
            return x509.load_der_x509_certificate(bytes(found[0][Attribute.VALUE]))

    def _sign(self, kind: KeyKind, pin: str, data: bytes) -> bytes:
        from pkcs11 import Mechanism, ObjectClass
        from pkcs11 import exceptions as p11

        with self._user(kind, pin) as session:
            try:
                key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=KEY_LABEL)
            except (p11.NoSuchKey, p11.MultipleObjectsReturned) as exc:
                raise CardUnavailable(f"the card holds no single {kind.value} key") from exc
            signature: bytes = key.sign(digest_info(data), mechanism=Mechanism.RSA_PKCS)
            return signature
