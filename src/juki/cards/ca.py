"""The card certificate authority (公的個人認証サービスの認証局) on the national node: its key,
the two certificates it issues for a card, and its certificate revocation list.

- The 利用者証明用電子証明書 (`auth`) names the card by its serial and nothing else: no name,
  no address, no birth date, no sex (the municipality keeps the serial → resident link).
- The 署名用電子証明書 (`signing`) carries the holder's name, birth date, sex and address, as
  subject-alternative-name entries of juki's own OIDs (`ITEM_OIDS`), and the name as CN.

The CA key is an ECDSA P-256 key held by the national node; the cards' keys are RSA-2048.
Revocation is published as a CRL (`crl`), built from the national node's ledger of issued
certificates (`juki.cards.ca_store`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from juki.cards.model import KeyKind

VALIDITY: Final = timedelta(days=5 * 365)  # 5 years (to check: 発行日後5回目の誕生日 for adults)
CRL_LIFETIME: Final = timedelta(hours=24)
# juki's own OIDs (UUID-based arc 2.25, X.667: no registration needed) for the signing items.
_ARC: Final = "2.25.247196407616437474006214101934474497170"
ITEM_OIDS: Final = {
    "name": x509.ObjectIdentifier(f"{_ARC}.1"),
    "birth_date": x509.ObjectIdentifier(f"{_ARC}.2"),
    "sex": x509.ObjectIdentifier(f"{_ARC}.3"),
    "address": x509.ObjectIdentifier(f"{_ARC}.4"),
}
KIND_OID: Final = x509.ObjectIdentifier(f"{_ARC}.9")  # certificate policy: auth or signing
KIND_POLICIES: Final = {
    KeyKind.AUTH: x509.ObjectIdentifier(f"{_ARC}.9.1"),
    KeyKind.SIGNING: x509.ObjectIdentifier(f"{_ARC}.9.2"),
}


@dataclass(frozen=True, slots=True)
class SigningItems:
    """What the 署名用電子証明書 carries: 基本4情報."""

    name: str
    birth_date: date
    sex: str
    address: str


def _utf8_der(text: str) -> bytes:
    """A DER UTF8String (tag 12)."""
    raw = text.encode("utf-8")
    n = len(raw)
    if n < 0x80:
        length = bytes([n])
    else:
        body = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(body)]) + body
    return b"\x0c" + length + raw


def _utf8_from_der(raw: bytes) -> str:
    if not raw or raw[0] != 0x0C:
        raise ValueError("not a UTF8String")
    first = raw[1]
    start = 2 if first < 0x80 else 2 + (first & 0x7F)
    return raw[start:].decode("utf-8")


def signing_items_of(certificate: x509.Certificate) -> SigningItems:
    """The 基本4情報 a signing certificate carries (for a relying party)."""
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    found = {
        on.type_id.dotted_string: _utf8_from_der(on.value)
        for on in san.get_values_for_type(x509.OtherName)
    }
    by = {k: found[oid.dotted_string] for k, oid in ITEM_OIDS.items()}
    return SigningItems(by["name"], date.fromisoformat(by["birth_date"]), by["sex"], by["address"])


def kind_of(certificate: x509.Certificate) -> KeyKind | None:
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return None
    ids = {p.policy_identifier for p in policies}
    return next((k for k, oid in KIND_POLICIES.items() if oid in ids), None)


def card_serial_of(certificate: x509.Certificate) -> str:
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if not values:
        raise ValueError("the certificate names no card")
    return str(values[0].value)


class CardAuthority:
    """The CA: its key and self-signed certificate (distributed to relying parties)."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self.key = key
        self.certificate = certificate

    @classmethod
    def create(cls, now: datetime, name: str = "juki card CA") -> CardAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=20 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def to_pem(self) -> tuple[bytes, bytes]:
        key = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return key, self.certificate.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def from_pem(cls, key_pem: bytes, cert_pem: bytes) -> CardAuthority:
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the card CA key is not an EC key")
        return cls(key, x509.load_pem_x509_certificate(cert_pem))

    def issue(
        self,
        kind: KeyKind,
        card_serial: str,
        public_key: rsa.RSAPublicKey,
        now: datetime,
        items: SigningItems | None = None,
    ) -> x509.Certificate:
        """The certificate of `kind` for the card; a signing one needs the holder's items."""
        if (kind is KeyKind.SIGNING) != (items is not None):
            raise ValueError("a signing certificate carries the 基本4情報; an auth one none")
        attrs = [x509.NameAttribute(NameOID.SERIAL_NUMBER, card_serial)]
        if items is not None:
            attrs.insert(0, x509.NameAttribute(NameOID.COMMON_NAME, items.name))
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    True, kind is KeyKind.SIGNING, False, False, False, False, False, False, False
                ),
                critical=True,
            )
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(KIND_POLICIES[kind], None)]),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        if kind is KeyKind.AUTH:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
        if items is not None:
            values = {
                "name": items.name,
                "birth_date": items.birth_date.isoformat(),
                "sex": items.sex,
                "address": items.address,
            }
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.OtherName(ITEM_OIDS[k], _utf8_der(v)) for k, v in values.items()]
                ),
                critical=False,
            )
        return builder.sign(self.key, hashes.SHA256())

    def crl(
        self,
        revoked: Iterable[tuple[int, datetime]],
        now: datetime,
        number: int,
        held: Iterable[tuple[int, datetime]] = (),
    ) -> x509.CertificateRevocationList:
        """The CRL of every revoked (serial, when) as of `now`, valid for `CRL_LIFETIME`; a
        held (一時停止) certificate is listed with the reason certificateHold."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now)
            .next_update(now + CRL_LIFETIME)
            .add_extension(x509.CRLNumber(number), critical=False)
        )
        for serial, when in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
            )
        for serial, when in held:
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(when)
                .add_extension(x509.CRLReason(x509.ReasonFlags.certificate_hold), critical=False)
            )
            builder = builder.add_revoked_certificate(entry.build())
        return builder.sign(self.key, hashes.SHA256())
