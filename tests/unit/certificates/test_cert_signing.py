"""Where the certificate-issuing key comes from, and what is refused."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from juki.certificates.signing import (
    CERT_FILE,
    KEY_FILE,
    ROOT_FILE,
    ROOT_KEY_FILE,
    SIGNER_KIND,
    SigningSetupError,
    load_signing_material,
    outside_event_loop,
    trust_roots,
)
from juki.core.errors import ValidationError
from juki.core.settings import Settings
from juki.network import pki

NOW = datetime.now(UTC)


def standalone(tmp_path: Path) -> Settings:
    return Settings(keys_dir=str(tmp_path / "keys"))


def test_standalone_keys_are_created_once_and_private(tmp_path: Path) -> None:
    settings = standalone(tmp_path)
    first = load_signing_material(settings, "132250", NOW)
    again = load_signing_material(settings, "132250", NOW)
    assert first.mode == "standalone" and first.lg_code == "132250"
    assert first.fingerprint == again.fingerprint
    directory = tmp_path / "keys" / "132250"
    for name in (KEY_FILE, ROOT_KEY_FILE):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    assert (directory / ROOT_FILE).exists() and (directory / CERT_FILE).exists()
    assert trust_roots(settings) == [first.root]


def test_standalone_lg_code_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        load_signing_material(standalone(tmp_path), "../../etc", NOW)


def _configured(tmp_path: Path, *, kind: str = SIGNER_KIND, node: str = "132250") -> Settings:
    root_key, root = pki.create_root(NOW)
    key = pki.generate_key()
    cert = pki.issue_certificate(
        root_key, root, node_id=node, kind=kind, public_key=key.public_key(), now=NOW
    )
    (tmp_path / "k.pem").write_bytes(pki.key_to_pem(key))
    (tmp_path / "c.pem").write_bytes(pki.cert_to_pem(cert))
    (tmp_path / "r.pem").write_bytes(pki.cert_to_pem(root))
    return Settings(
        signing_key=str(tmp_path / "k.pem"),
        signing_cert=str(tmp_path / "c.pem"),
        root_cert=str(tmp_path / "r.pem"),
        keys_dir=str(tmp_path / "unused"),
    )


def test_configured_keys_are_used(tmp_path: Path) -> None:
    material = load_signing_material(_configured(tmp_path), "132250", NOW)
    assert material.mode == "configured"
    assert not (tmp_path / "unused").exists()


def test_partial_configuration_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SigningSetupError, match="together"):
        load_signing_material(Settings(signing_key=str(tmp_path / "k.pem")), "132250", NOW)


def test_a_network_node_key_cannot_sign_certificates(tmp_path: Path) -> None:
    with pytest.raises(SigningSetupError, match="cannot sign certificates"):
        load_signing_material(_configured(tmp_path, kind="municipality"), "132250", NOW)


def test_another_municipalitys_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SigningSetupError, match="names municipality 142051"):
        load_signing_material(_configured(tmp_path, node="142051"), "132250", NOW)


def test_a_key_that_is_not_the_certificates_is_refused(tmp_path: Path) -> None:
    settings = _configured(tmp_path)
    (tmp_path / "k.pem").write_bytes(pki.key_to_pem(pki.generate_key()))
    with pytest.raises(SigningSetupError, match="does not belong"):
        load_signing_material(settings, "132250", NOW)


def test_a_certificate_from_another_root_is_refused(tmp_path: Path) -> None:
    settings = _configured(tmp_path)
    _, other_root = pki.create_root(NOW)
    (tmp_path / "r.pem").write_bytes(pki.cert_to_pem(other_root))
    with pytest.raises(SigningSetupError, match="not usable"):
        load_signing_material(settings, "132250", NOW)


def test_unreadable_pem_is_reported(tmp_path: Path) -> None:
    settings = _configured(tmp_path)
    (tmp_path / "c.pem").write_text("not a certificate")
    with pytest.raises(SigningSetupError, match="not valid"):
        load_signing_material(settings, "132250", NOW)


def _signed_attributes(pdf: bytes) -> dict[str, bytes]:
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return {a["type"].native: a.dump() for a in signature.signer_info["signed_attrs"]}


def test_the_signature_has_pyhankos_own_pades_attributes_and_validates(tmp_path: Path) -> None:
    """The signing-certificate value made once per signer (`_pades_attributes`) is the one
    pyhanko makes per signature, byte for byte; the attributes are those of a PAdES signature;
    and each signature validates against the root."""
    import io

    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from weasyprint import HTML  # type: ignore[import-untyped]

    from juki.certificates.signing import PdfCertificateSigner

    def asn1(cert: object) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))  # type: ignore[attr-defined]

    material = load_signing_material(standalone(tmp_path), "132250", NOW)
    pdf = HTML(string="<p>住民票の写し</p>").write_pdf()
    signer = PdfCertificateSigner(material)
    expected = simple_cms_attribute(  # type: ignore[no-untyped-call]
        "signing_certificate_v2", as_signing_certificate_v2(asn1(material.cert))
    ).dump()
    context = ValidationContext(trust_roots=[asn1(material.root)])
    for _ in range(2):  # the second from the value made once
        signed = signer.sign(pdf, reason="r", location="l")
        attrs = _signed_attributes(signed)
        assert set(attrs) == {"content_type", "message_digest", "signing_certificate_v2"}
        assert attrs["signing_certificate_v2"] == expected
        (embedded,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
        # pyhanko's validation runs its own event loop: outside any loop this worker runs
        status = outside_event_loop(
            lambda sig=embedded: validate_pdf_signature(sig, signer_validation_context=context)
        )
        assert status.intact and status.valid and status.trusted
