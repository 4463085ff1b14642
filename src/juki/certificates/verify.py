"""Is this PDF a genuine, unaltered, still-valid juki certificate? Offline, or with a status source.

The checks, in order, each naming what failed:

0. it is no larger and no more complex than a certificate can be (bytes, revisions, objects,
   pages, decoded stream sizes), checked before anything of it is trusted;
1. it is one PDF with exactly one signature, in juki's field;
2. the signature's hex string is exactly what the signer wrote (upper-case hex, DER then zero
   padding) — the only bytes a PDF signature does not cover, so with this check *any* changed
   byte of the file fails;
3. the PAdES signature is intact, covers the entire file, and chains to a trusted root;
4. the signer's certificate is a certificate-issuing one for the municipality the document names;
5. the embedded certificate document hashes to the digest the PDF (and its QR code) carries;
6. with a status source (the registry database, or the public status endpoint), the
   certificate was issued, is not void, and (from the database) is this very file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from juki.certificates.document import ContentFormatError, digest_of, parse_document
from juki.certificates.model import CertificateContent, CertificateStatus, Issuance
from juki.certificates.render import DOCUMENT_NAME
from juki.certificates.signing import SIGNATURE_FIELD, SIGNER_KIND, outside_event_loop

# What a juki certificate can be at most: ten copies of a large household are ≈ 40 pages and
# under 2 MiB (the IPAmj明朝 subset is embedded once). Anything beyond is refused before parsing.
MAX_PDF_BYTES: Final = 4 * 1024 * 1024
MAX_PAGES: Final = 200
MAX_OBJECTS: Final = 20_000  # the trailer's /Size: one past the highest object number
MAX_REVISIONS: Final = 2  # WeasyPrint's file and the signature's incremental update
MAX_DECODED_BYTES: Final = 32 * 1024 * 1024  # every stream decoded, all together
SUBJECT_PREFIX: Final = "juki-certificate:"
_HEX: Final = frozenset(b"0123456789ABCDEF")


@dataclass(frozen=True, slots=True)
class PublicStatus:
    """What the public status endpoint says: valid or void (unknown is None); nothing else."""

    status: str  # "valid" | "void"
    spoiled_issue_numbers: tuple[str, ...] = ()
    voided_at: str | None = None
    pdf_sha256: str | None = None


StatusLookup = Callable[[str, str], CertificateStatus | PublicStatus | None]
"""(certificate id, digest) → status, or None when no such certificate was issued."""


class StatusUnavailable(Exception):
    """The status source could not be asked (network down, server error)."""


_REASONS: Final = {
    "too_large": ("the file is too large to be a certificate", "ファイルが大きすぎます"),
    "too_complex": (
        "the file is more complex than any certificate",
        "証明書としては構造が複雑すぎるファイルです",
    ),
    "not_pdf": ("the file is not a PDF", "PDFファイルではありません"),
    "unreadable": ("the PDF cannot be read", "PDFを読み取れません（改変されている可能性）"),
    "no_signature": ("the PDF carries no juki signature", "電子署名がありません"),
    "tampered": (
        "the file was changed after it was signed",
        "署名後にファイルが改変されています",
    ),
    "signature_invalid": (
        "the signature does not match the document",
        "電子署名が文書と一致しません（改変されています）",
    ),
    "untrusted_signer": (
        "the signing key is not certified by a trusted root",
        "署名鍵が信頼できる認証局に認証されていません",
    ),
    "wrong_signer": (
        "the signing certificate is not a certificate issuer for this municipality",
        "署名者が証明書を発行する市区町村ではありません",
    ),
    "no_document": (
        "the PDF does not carry its certificate document",
        "証明内容のデータが含まれていません",
    ),
    "digest_mismatch": (
        "the certificate's content does not match its digest",
        "証明内容が照合番号と一致しません",
    ),
    "unknown_certificate": (
        "the issuing registry has no such certificate",
        "発行元にこの証明書の発行記録がありません",
    ),
    "voided": ("the certificate has been declared void", "この証明書は無効とされています"),
    "not_this_file": (
        "the issuing registry recorded a different file for this certificate",
        "発行元の記録と異なるファイルです",
    ),
    "status_unavailable": (
        "the issuing registry could not be asked for the certificate's status",
        "発行元に状態を照会できませんでした",
    ),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str | None = None
    message: str = ""
    message_ja: str = ""
    detail: str = ""
    certificate_id: str | None = None
    digest: str | None = None
    kind: str | None = None
    title: str | None = None
    issuer_lg_code: str | None = None
    issuer_name: str | None = None
    signatory: str | None = None
    issued_at: str | None = None
    issue_numbers: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    signer: str | None = None
    signer_fingerprint: str | None = None
    status: str = "not_checked"  # valid | void | not_checked
    spoiled_issue_numbers: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        """What the certificate certifies, for a person reading a terminal."""
        if not self.ok:
            return f"NOT VALID: {self.message} [{self.reason}]" + (
                f" ({self.detail})" if self.detail else ""
            )
        lines = [
            f"VALID: {self.title} ({self.kind}) issued by {self.issuer_name} "
            f"({self.issuer_lg_code}) at {self.issued_at}",
            f"  certificate id: {self.certificate_id}",
            f"  digest:         {self.digest}",
            f"  issue numbers:  {', '.join(self.issue_numbers)}",
            f"  persons:        {', '.join(self.names)}",
            f"  signed by:      {self.signer} (SHA-256 {self.signer_fingerprint})",
            f"  status:         {self.status}",
        ]
        if self.spoiled_issue_numbers:
            lines.append(f"  spoiled copies: {', '.join(self.spoiled_issue_numbers)} (void)")
        return "\n".join(lines)


def _fail(reason: str, detail: str = "", **known: Any) -> Verdict:
    en, ja = _REASONS[reason]
    return Verdict(ok=False, reason=reason, message=en, message_ja=ja, detail=detail, **known)


def _signature_hex_is_pristine(data: bytes, byte_range: Sequence[int]) -> str | None:
    """Check the one region a PDF signature does not cover; return what is wrong, or None."""
    if len(byte_range) != 4 or byte_range[0] != 0:
        return "unexpected /ByteRange"
    start, end = byte_range[1], byte_range[2]
    if byte_range[2] + byte_range[3] != len(data) or not 0 < start < end <= len(data):
        return "the /ByteRange does not span the file"
    region = data[start:end]
    if len(region) < 4 or region[:1] != b"<" or region[-1:] != b">":
        return "the signature is not a hex string"
    hexdigits = region[1:-1]
    if len(hexdigits) % 2 or not set(hexdigits) <= _HEX:
        return "the signature hex string was altered"
    blob = bytes.fromhex(hexdigits.decode("ascii"))
    if len(blob) < 2 or blob[0] != 0x30:
        return "the signature is not DER"
    if blob[1] < 0x80:
        total = 2 + blob[1]
    else:
        n = blob[1] & 0x7F
        total = 2 + n + int.from_bytes(blob[2 : 2 + n], "big")
    if total > len(blob) or any(blob[total:]):
        return "bytes after the signature were altered"
    return _canonical_der_problem(blob[:total])


def _canonical_der_problem(der: bytes) -> str | None:
    """The signature container must be exactly what juki's signer writes around its signature.

    A CMS SignedData has fields no signature covers (its version, the digest-algorithm set, the
    certificate set, the encodings of lengths); verifiers ignore most of them, so a changed byte
    there would go unnoticed. The container is therefore rebuilt from its covered parts — the
    signed attributes, the signature value and the signer's certificate (bound by the ESS
    signing-certificate-v2 attribute) — and must equal the file's bytes exactly.
    """
    from asn1crypto import cms  # type: ignore[import-untyped]

    try:
        parsed = cms.ContentInfo.load(der, strict=True)
        signed = parsed["content"]
        certs = signed["certificates"]
        signers = signed["signer_infos"]
        if len(certs) != 1 or len(signers) != 1:
            return "the signature container has unexpected parts"
        cert = certs[0].chosen
        signer = signers[0]
        expected = cms.ContentInfo(
            {
                "content_type": "signed_data",
                "content": cms.SignedData(
                    {
                        "version": "v1",
                        "digest_algorithms": [cms.DigestAlgorithm({"algorithm": "sha256"})],
                        "encap_content_info": {"content_type": "data"},
                        "certificates": [cert],
                        "signer_infos": [
                            cms.SignerInfo(
                                {
                                    "version": "v1",
                                    "sid": cms.SignerIdentifier(
                                        name="issuer_and_serial_number",
                                        value={
                                            "issuer": cert.issuer,
                                            "serial_number": cert.serial_number,
                                        },
                                    ),
                                    "digest_algorithm": {"algorithm": "sha256"},
                                    "signed_attrs": signer["signed_attrs"],
                                    "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                                    "signature": signer["signature"].native,
                                }
                            )
                        ],
                    }
                ),
            }
        )
        if expected.dump() != der:
            return "the signature container was altered"
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        return f"the signature container does not parse: {exc}"[:200]
    return None


def _name_attr(native: dict[str, Any], key: str) -> str | None:
    value = native.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


def _asn1(cert: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class _NotValid(Exception):
    """Ends `verify_pdf` at a failed step, carrying the verdict that says why."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict


def verify_pdf(
    data: bytes, roots: Sequence[x509.Certificate], lookup: StatusLookup | None = None
) -> Verdict:
    """Check a certificate PDF; never raises for a bad file, only says why it is not valid."""
    if len(data) > MAX_PDF_BYTES:
        return _fail("too_large")
    if not data.startswith(b"%PDF-"):
        return _fail("not_pdf")
    try:
        signer, known = _trusted_signer(_the_signature(data), roots)
        content, issuance, subject = _the_document(data, known)
    except _NotValid as refusal:
        return refusal.verdict
    digest = digest_of(content, issuance)
    known.update(
        certificate_id=issuance.certificate_id,
        digest=digest,
        kind=content.kind.value,
        title=content.title,
        issuer_lg_code=issuance.lg_code,
        issuer_name=issuance.municipality,
        signatory=issuance.signatory,
        issued_at=issuance.issued_at,
        issue_numbers=issuance.issue_numbers,
        names=content.names,
    )
    if subject != f"{SUBJECT_PREFIX}{issuance.certificate_id}:{digest}":
        return _fail("digest_mismatch", **known)
    if _name_attr(signer, "common_name") != issuance.lg_code:
        return _fail("wrong_signer", "the signer is another municipality", **known)
    if lookup is None:
        return Verdict(
            ok=True, message="genuine and unaltered", message_ja="真正な証明書です", **known
        )
    return _with_status(data, issuance.certificate_id, digest, lookup, known)


def _the_signature(data: bytes) -> Any:
    """Steps 1 and 2: the one signature, in juki's field, with its hex string as signed."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=True, decode_limits=_decode_limits())
        problem = _complexity_problem(reader)
        if problem:
            raise _NotValid(_fail("too_complex", problem))
        signatures = list(reader.embedded_signatures)
    except _NotValid:
        raise
    except Exception as exc:  # a damaged file can fail anywhere in the parser
        raise _NotValid(_fail("unreadable", f"{type(exc).__name__}: {exc}"[:300])) from exc
    if len(signatures) != 1 or signatures[0].field_name != SIGNATURE_FIELD:
        raise _NotValid(_fail("no_signature", f"{len(signatures)} signature field(s)"))
    sig = signatures[0]
    try:
        problem = _signature_hex_is_pristine(data, [int(x) for x in sig.byte_range])
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        raise _NotValid(_fail("tampered", problem))
    return sig


def _decode_limits() -> Any:
    """pyHanko's limits for untrusted input, tightened to what a certificate needs: no stream
    decodes past 16 MiB or 100 times its size, and the whole file past `MAX_DECODED_BYTES`."""
    from pyhanko.pdf_utils.decode_limits import (
        DecodeLimits,
        DocumentDecodeBudget,
        StreamDecodeLimits,
    )

    return DecodeLimits(
        per_stream=StreamDecodeLimits(
            max_ratio=100, ratio_floor=1024 * 1024, max_output_size=16 * 1024 * 1024
        ),
        document_budget=DocumentDecodeBudget(base_allowance=MAX_DECODED_BYTES, max_ratio=1),
    )


def _complexity_problem(reader: Any) -> str | None:
    """What makes the file larger in structure than a certificate, or None. Read from the
    cross-reference data and the page tree's count, before any object is walked."""
    if reader.total_revisions > MAX_REVISIONS:
        return f"{reader.total_revisions} revisions (a certificate has {MAX_REVISIONS})"
    size = int(reader.trailer.raw_get("/Size"))
    if size > MAX_OBJECTS:
        return f"{size} objects (at most {MAX_OBJECTS})"
    pages = int(reader.root["/Pages"]["/Count"])
    if not 0 < pages <= MAX_PAGES:
        return f"{pages} pages (at most {MAX_PAGES})"
    return None


def _trusted_signer(
    sig: Any, roots: Sequence[x509.Certificate]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Steps 3 and 4: the signature is intact, covers the whole file and chains to a root, and
    its signer issues certificates; the signer's subject and what the verdict says of it."""
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        context = ValidationContext(trust_roots=[_asn1(r) for r in roots], allow_fetching=False)
        status = outside_event_loop(lambda: validate_pdf_signature(sig, context))
    except Exception as exc:
        raise _NotValid(_fail("signature_invalid", f"{type(exc).__name__}: {exc}"[:300])) from exc
    if not (status.intact and status.valid):
        raise _NotValid(_fail("signature_invalid"))
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        raise _NotValid(_fail("tampered", "the signature does not cover the entire file"))
    if status.modification_level is None or status.modification_level.name != "NONE":
        raise _NotValid(_fail("tampered", "the file was modified after signing"))
    signer: dict[str, Any] = status.signing_cert.subject.native
    known: dict[str, Any] = {
        "signer": status.signing_cert.subject.human_friendly,
        "signer_fingerprint": hashlib.sha256(status.signing_cert.dump()).hexdigest(),
    }
    if not status.trusted:
        raise _NotValid(_fail("untrusted_signer", **known))
    if _name_attr(signer, "organizational_unit_name") != SIGNER_KIND:
        raise _NotValid(_fail("wrong_signer", "the signer is not a certificate issuer", **known))
    return signer, known


def _the_document(data: bytes, known: dict[str, Any]) -> tuple[CertificateContent, Issuance, str]:
    """Step 5's inputs: the embedded certificate document, and the subject (id and digest) the
    PDF's metadata carries."""
    try:
        from pypdf import PdfReader

        plain = PdfReader(io.BytesIO(data))
        documents = plain.attachments.get(DOCUMENT_NAME) or []
        metadata = plain.metadata
        subject = str(metadata.get("/Subject", "")) if metadata is not None else ""
    except Exception as exc:
        raise _NotValid(_fail("unreadable", f"{type(exc).__name__}: {exc}"[:300], **known)) from exc
    if len(documents) != 1:
        raise _NotValid(_fail("no_document", **known))
    try:
        content, issuance = parse_document(documents[0].decode("utf-8"))
    except (ContentFormatError, UnicodeDecodeError) as exc:
        raise _NotValid(_fail("no_document", str(exc)[:300], **known)) from exc
    return content, issuance, subject


def _with_status(
    data: bytes, certificate_id: str, digest: str, lookup: StatusLookup, known: dict[str, Any]
) -> Verdict:
    """Step 6: the issuing registry issued this certificate, has not voided it, and recorded
    this very file."""
    try:
        registered = lookup(certificate_id, digest)
    except StatusUnavailable as exc:
        return _fail("status_unavailable", str(exc)[:300], **known)
    if registered is None:
        return _fail("unknown_certificate", **known)
    known["spoiled_issue_numbers"] = registered.spoiled_issue_numbers
    if registered.status == "void":
        return _fail("voided", f"voided at {registered.voided_at}", status="void", **known)
    if registered.pdf_sha256 and registered.pdf_sha256 != hashlib.sha256(data).hexdigest():
        return _fail("not_this_file", status=registered.status, **known)
    return Verdict(
        ok=True,
        message="genuine, unaltered and valid",
        message_ja="真正かつ有効な証明書です",
        status=registered.status,
        **known,
    )


def http_status_lookup(
    base_url: str, *, timeout: float = 10.0, cas: Sequence[x509.Certificate] = ()
) -> StatusLookup:
    """Ask a registry's public status endpoint (`GET /api/v1/certificates/{id}/status`), which
    answers over ordinary TLS with nothing but valid, voided or unknown. The server is trusted
    by the system's CAs and by `cas` (the network root certifies a demo node's listener)."""
    import ssl

    import httpx

    context = ssl.create_default_context()
    if cas:
        pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in cas)
        context.load_verify_locations(cadata=pem)

    def lookup(certificate_id: str, digest: str) -> PublicStatus | None:
        url = f"{base_url.rstrip('/')}/api/v1/certificates/{certificate_id}/status"
        try:
            response = httpx.get(url, params={"digest": digest}, timeout=timeout, verify=context)
        except httpx.HTTPError as exc:
            raise StatusUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise StatusUnavailable(f"HTTP {response.status_code} from {url}")
        try:
            answer = response.json()["status"]
        except (KeyError, TypeError, ValueError) as exc:
            raise StatusUnavailable(f"unexpected answer from {url}: {exc}") from exc
        if answer == "unknown":
            return None
        if answer not in ("valid", "voided"):
            raise StatusUnavailable(f"unexpected status {answer!r} from {url}")
        return PublicStatus(status="void" if answer == "voided" else "valid")

    return lookup
