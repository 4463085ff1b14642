"""The municipality's certificate-issuing key, and PAdES signatures made with it.

Where the key comes from:

* `JUKI_SIGNING_KEY`, `JUKI_SIGNING_CERT`, `JUKI_ROOT_CERT` (PEM paths) — the key and the
  certificate the national root issued for it (`juki network init` places them); all three or
  none.
* none set — **standalone mode**, for a registry that is not on the network: a local root and a
  key it certifies are created on first use under `JUKI_KEYS_DIR/<lg_code>/`. Certificates then
  verify against that local root only.

The signing certificate names the municipality (CN = 全国地方公共団体コード) and the kind
`certificate_issuer`, so a node's network key can never pass for a certificate signer. The key is
parsed once and kept loaded (STACK-NOTES: pyhanko's SimpleSigner re-parses it per signature), and
`bytes_reserved` is fixed so pyhanko signs once instead of twice.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from juki.core.files import write_private
from juki.core.identifiers import LgCode
from juki.core.settings import Settings
from juki.network import pki

SIGNER_KIND: Final = "certificate_issuer"
SIGNATURE_FIELD: Final = "JukiCertificateSignature"
BYTES_RESERVED: Final = 8192
ROOT_FILE: Final = "root.pem"
ROOT_KEY_FILE: Final = "root-key.pem"
KEY_FILE: Final = "signing-key.pem"
CERT_FILE: Final = "signing-cert.pem"


T = TypeVar("T")


def outside_event_loop(fn: Callable[[], T]) -> T:
    """Run `fn` where no asyncio loop is running: pyhanko's synchronous API calls
    `asyncio.run`, which fails inside a running loop (an async route, a Playwright test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


class SigningSetupError(RuntimeError):
    """The signing key cannot be used as configured; the message says what to fix."""


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


@dataclass(frozen=True, slots=True)
class SigningMaterial:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    root: x509.Certificate
    mode: str  # "configured" | "standalone"

    @property
    def lg_code(self) -> str | None:
        return _attr(self.cert.subject, NameOID.COMMON_NAME)

    @property
    def fingerprint(self) -> str:
        return pki.fingerprint(self.cert)


def _read_pem(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningSetupError(f"cannot read the {what} at {path}: {exc.strerror}") from exc


def check_material(material: SigningMaterial, lg_code: str, now: datetime) -> SigningMaterial:
    """The key matches the certificate, the root certifies it, and it names this issuer."""
    try:
        node = pki.check_issued_by(material.cert, material.root, now)
    except ValueError as exc:
        raise SigningSetupError(f"the signing certificate is not usable: {exc}") from exc
    if node.kind != SIGNER_KIND:
        raise SigningSetupError(
            f"the signing certificate is for a {node.kind!r}, not a {SIGNER_KIND!r}: "
            "a network node key cannot sign certificates"
        )
    if node.node_id != lg_code:
        raise SigningSetupError(
            f"the signing certificate names municipality {node.node_id}, not {lg_code}"
        )
    if (
        material.key.public_key().public_numbers()
        != pki.public_key_of(material.cert).public_numbers()
    ):
        raise SigningSetupError("the signing key does not belong to the signing certificate")
    return material


def _configured(settings: Settings) -> SigningMaterial | None:
    paths = (settings.signing_key, settings.signing_cert, settings.root_cert)
    if not any(paths):
        return None
    if not all(paths):
        raise SigningSetupError(
            "set JUKI_SIGNING_KEY, JUKI_SIGNING_CERT and JUKI_ROOT_CERT together "
            "(or none of them for a standalone registry)"
        )
    assert settings.signing_key and settings.signing_cert and settings.root_cert
    try:
        key = pki.key_from_pem(_read_pem(Path(settings.signing_key), "signing key"))
        cert = pki.cert_from_pem(_read_pem(Path(settings.signing_cert), "signing certificate"))
        root = pki.cert_from_pem(_read_pem(Path(settings.root_cert), "root certificate"))
    except ValueError as exc:
        raise SigningSetupError(f"a signing PEM file is not valid: {exc}") from exc
    return SigningMaterial(key=key, cert=cert, root=root, mode="configured")


def create_standalone(directory: Path, lg_code: str, now: datetime) -> None:
    """A local root and a certificate-issuing key it certifies, created all at once.

    Written to a temporary sibling and renamed, so two processes starting together end with
    one set of keys (the loser's rename fails and it reads the winner's).
    """
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{lg_code}-", dir=directory.parent))
    try:
        root_key, root = pki.create_root(now, name=f"juki standalone root {lg_code}")
        key, cert = pki.issue_key_pair(
            root_key,
            root,
            node_id=lg_code,
            kind=SIGNER_KIND,
            now=now,
            hosts=(f"certificates.{lg_code}.juki.invalid",),
            ips=(),
        )
        write_private(staging / ROOT_KEY_FILE, pki.key_to_pem(root_key))
        write_private(staging / KEY_FILE, pki.key_to_pem(key))
        (staging / ROOT_FILE).write_bytes(pki.cert_to_pem(root))
        (staging / CERT_FILE).write_bytes(pki.cert_to_pem(cert))
        try:
            staging.rename(directory)
        except OSError:
            if not (directory / CERT_FILE).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _standalone(settings: Settings, lg_code: str, now: datetime) -> SigningMaterial:
    directory = Path(settings.keys_dir) / lg_code
    if not (directory / CERT_FILE).exists():
        create_standalone(directory, lg_code, now)
    try:
        return SigningMaterial(
            key=pki.key_from_pem(_read_pem(directory / KEY_FILE, "signing key")),
            cert=pki.cert_from_pem(_read_pem(directory / CERT_FILE, "signing certificate")),
            root=pki.cert_from_pem(_read_pem(directory / ROOT_FILE, "root certificate")),
            mode="standalone",
        )
    except ValueError as exc:
        raise SigningSetupError(f"the standalone keys in {directory} are damaged: {exc}") from exc


def load_signing_material(
    settings: Settings, lg_code: str, now: datetime | None = None
) -> SigningMaterial:
    code = LgCode.parse(lg_code).value  # also keeps the path below free of anything but digits
    at = now or datetime.now(UTC)
    material = _configured(settings) or _standalone(settings, code, at)
    return check_material(material, code, at)


def trust_roots(settings: Settings, extra: tuple[Path, ...] = ()) -> list[x509.Certificate]:
    """Roots a verifier trusts: `JUKI_ROOT_CERT`, else every standalone root under the keys
    directory, plus any given explicitly."""
    paths = list(extra)
    if not paths:
        if settings.root_cert:
            paths.append(Path(settings.root_cert))
        else:
            keys = Path(settings.keys_dir)
            if keys.is_dir():
                paths.extend(sorted(keys.glob(f"*/{ROOT_FILE}")))
    roots: list[x509.Certificate] = []
    for path in paths:
        try:
            roots.append(pki.cert_from_pem(_read_pem(path, "root certificate")))
        except ValueError as exc:
            raise SigningSetupError(f"{path} is not a PEM certificate: {exc}") from exc
    return roots


def _asn1_cert(cert: x509.Certificate):  # type: ignore[no-untyped-def]
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _pades_attributes(signing_cert: Any) -> Any:
    """pyhanko's PAdES signed attributes, with the signing-certificate-v2 value made once.

    asn1crypto re-encodes a structure built in Python on every read of its contents, twice per
    level of nesting: the value pyhanko builds per signature (hash, issuer and serial of the
    signer's certificate) had its digest algorithm encoded ≈ 550 times per signature, more
    than half of a signature's CPU. The value is the same for every signature of this signer:
    it is built once, and each signature gets it parsed from its DER (encoded once, kept).
    Every other attribute is pyhanko's own choice for a PAdES signature.
    """
    from asn1crypto import tsp
    from pyhanko.sign.attributes import (
        SignedAttributeProviderSpec,
        SigningCertificateV2Provider,
    )
    from pyhanko.sign.general import as_signing_certificate_v2
    from pyhanko.sign.signers.pdf_cms import (
        CAdESSignedAttributeProviderSpec,
        PdfCMSSignedAttributes,
    )

    der = as_signing_certificate_v2(signing_cert).dump()

    class ParsedSigningCertificate(SigningCertificateV2Provider):
        async def build_attr_value(self, dry_run: bool = False) -> Any:
            return tsp.SigningCertificateV2.load(der)

    class PadesAttributes(SignedAttributeProviderSpec):
        def signed_attr_providers(self, data_digest: bytes, digest_algorithm: str) -> Any:
            pades = CAdESSignedAttributeProviderSpec(
                attr_settings=PdfCMSSignedAttributes(),
                signing_cert=signing_cert,
                is_pades=True,
                timestamper=None,
            )
            for provider in pades.signed_attr_providers(data_digest, digest_algorithm):
                if isinstance(provider, SigningCertificateV2Provider):
                    yield ParsedSigningCertificate(signing_cert)
                else:
                    yield provider

    return PadesAttributes()


class PdfCertificateSigner:
    """Signs PDFs with one loaded key; build once per process and reuse."""

    def __init__(self, material: SigningMaterial) -> None:
        from asn1crypto import cms as asn1_cms
        from asn1crypto import keys as asn1_keys
        from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
        from pyhanko.sign.signers.pdf_cms import SimpleSigner
        from pyhanko_certvalidator.registry import SimpleCertificateStore
        from pyhanko_certvalidator.util import get_pyca_cryptography_hash

        key = material.key

        class LoadedSigner(SimpleSigner):
            """SimpleSigner that signs with an already-parsed key, and hands pyhanko its
            signed attributes as parsed DER (`signed_attrs`)."""

            def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
                return key.sign(data, ECDSA(get_pyca_cryptography_hash(digest_algorithm)))

            async def signed_attrs(self, *args: Any, **kwargs: Any) -> Any:
                """The same attributes, read back from their DER encoding: the signer info
                and the signed data around them then encode them once, not once per level
                of nesting per read (`_pades_attributes`). Same bytes either way."""
                built = await super().signed_attrs(*args, **kwargs)
                return asn1_cms.CMSAttributes.load(built.dump())

        self.material = material
        self._signer = LoadedSigner(
            signing_cert=_asn1_cert(material.cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(
                key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            ),
            cert_registry=SimpleCertificateStore(),  # type: ignore[no-untyped-call]
            # Only the signer's certificate goes into the signature: it is bound to the signed
            # attributes (ESS signing-certificate-v2), while a copy of the root would be an
            # unsigned blob a forger could alter. Verifiers bring their own root.
            embed_roots=False,
        )
        self._signer.signed_attr_prov_spec = _pades_attributes(self._signer.signing_cert)

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        """A certification (DocMDP: no changes allowed) PAdES signature over the whole file."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers
        from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter

        meta = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD,
            md_algorithm="sha256",
            subfilter=SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            certify=True,
            docmdp_permissions=MDPPerm.NO_CHANGES,
        )

        def sign() -> bytes:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
            out = signers.sign_pdf(writer, meta, signer=self._signer, bytes_reserved=BYTES_RESERVED)
            signed: bytes = out.getvalue()
            return signed

        return outside_event_loop(sign)
