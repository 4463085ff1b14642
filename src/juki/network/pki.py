"""The network's public-key infrastructure: a national root certifies every node's key.

Node keys are ECDSA P-256: one key both signs envelopes and authenticates the node in mutual TLS,
and P-256 works with every TLS stack a municipality's firewall or proxy might have.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey
KIND_ATTRIBUTE = NameOID.ORGANIZATIONAL_UNIT_NAME
# What every node key and envelope signature is: one place, read by the transparency report.
CURVE: Final = ec.SECP256R1
SIGNATURE_HASH: Final = hashes.SHA256


def generate_key() -> PrivateKey:
    return ec.generate_private_key(CURVE())


def key_to_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def key_from_pem(data: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("node keys must be EC P-256")
    return key


def cert_to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_from_pem(data: bytes | str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(data.encode() if isinstance(data, str) else data)


def _name(common_name: str, kind: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "juki network"),
            x509.NameAttribute(KIND_ATTRIBUTE, kind),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def create_root(
    now: datetime, *, days: int = 3650, name: str = "juki national root"
) -> tuple[PrivateKey, x509.Certificate]:
    key = generate_key()
    subject = _name(name, "root")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_certificate(
    root_key: PrivateKey,
    root_cert: x509.Certificate,
    *,
    node_id: str,
    kind: str,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime,
    days: int = 825,
    hosts: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = ("127.0.0.1",),
) -> x509.Certificate:
    """A node certificate: CN is the node id, OU its kind; valid for TLS server and client."""
    san: list[x509.GeneralName] = [x509.DNSName(h) for h in hosts]
    san += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    return (
        x509.CertificateBuilder()
        .subject_name(_name(node_id, kind))
        .issuer_name(root_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )


@dataclass(frozen=True, slots=True)
class CertifiedNode:
    node_id: str
    kind: str


def issue_key_pair(
    root_key: PrivateKey,
    root_cert: x509.Certificate,
    *,
    node_id: str,
    kind: str,
    now: datetime,
    hosts: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = ("127.0.0.1",),
) -> tuple[PrivateKey, x509.Certificate]:
    """A new key and its root-issued certificate: a node, the console, a signing key."""
    key = generate_key()
    cert = issue_certificate(
        root_key,
        root_cert,
        node_id=node_id,
        kind=kind,
        public_key=key.public_key(),
        now=now,
        hosts=hosts,
        ips=ips,
    )
    return key, cert


def check_issued_by(cert: x509.Certificate, root: x509.Certificate, at: datetime) -> CertifiedNode:
    """Verify the root's signature and the validity period; return who the certificate names."""
    try:
        cert.verify_directly_issued_by(root)
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise ValueError("certificate is not issued by the network root") from exc
    if not (cert.not_valid_before_utc <= at <= cert.not_valid_after_utc):
        raise ValueError("certificate is outside its validity period")
    return named_in(cert)


def named_in(cert: x509.Certificate) -> CertifiedNode:
    """Who a (verified) certificate names: its node id and kind."""
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    ou = cert.subject.get_attributes_for_oid(KIND_ATTRIBUTE)
    if not cn or not ou:
        raise ValueError("certificate does not name a node")
    return CertifiedNode(node_id=str(cn[0].value), kind=str(ou[0].value))


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, in hex: how a register names the one it accepts."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def sign(key: PrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(SIGNATURE_HASH()))


def verify(public_key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public_key.verify(signature, data, ec.ECDSA(SIGNATURE_HASH()))
    except InvalidSignature:
        return False
    return True


def public_key_of(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("node certificates carry EC keys")
    return key
