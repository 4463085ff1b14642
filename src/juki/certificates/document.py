"""A certificate as a document: one canonical JSON spelling, its digest, and parsing it back.

The canonical JSON of a certificate's content and issuance is what its digest covers, what the
PDF embeds and the database keeps; the content alone is what a home municipality's CS carries
to the issuing one for a wide-area copy. Anything juki did not write is refused as a
`ContentFormatError`, never half-read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from juki.certificates.model import (
    CONTENT_VERSION,
    CertificateContent,
    CertificateKind,
    Channel,
    Issuance,
    Line,
    PersonEntry,
)


def to_document(content: CertificateContent, issuance: Issuance) -> dict[str, Any]:
    return {"content": dataclasses.asdict(content), "issuance": dataclasses.asdict(issuance)}


def canonical_json(content: CertificateContent, issuance: Issuance) -> str:
    """One spelling per certificate: sorted keys, no spaces, characters (and IVS) as they are."""
    return json.dumps(
        to_document(content, issuance), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def digest_of(content: CertificateContent, issuance: Issuance) -> str:
    return hashlib.sha256(canonical_json(content, issuance).encode("utf-8")).hexdigest()


class ContentFormatError(ValueError):
    """A certificate document that is not one juki wrote."""


def _lines(raw: Any) -> tuple[Line, ...]:
    return tuple(Line(key=str(x["key"]), label=str(x["label"]), value=str(x["value"])) for x in raw)


def content_to_json(content: CertificateContent) -> dict[str, Any]:
    """The content alone as plain JSON values (what a wide-area answer carries)."""
    value: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(content), ensure_ascii=False))
    return value


def content_from_json(c: Mapping[str, Any]) -> CertificateContent:
    """The inverse of `content_to_json`; `ContentFormatError` for anything juki did not write."""
    try:
        if int(c["version"]) != CONTENT_VERSION:
            raise ContentFormatError(f"content version {c['version']} is not supported")
        return CertificateContent(
            kind=CertificateKind(c["kind"]),
            title=str(c["title"]),
            record_lg_code=str(c["record_lg_code"]),
            record_municipality=str(c["record_municipality"]),
            as_of=str(c["as_of"]),
            scope=str(c["scope"]),
            header=_lines(c["header"]),
            persons=tuple(
                PersonEntry(name=str(p["name"]), lines=_lines(p["lines"])) for p in c["persons"]
            ),
            certification=str(c["certification"]),
            items=tuple(str(x) for x in c["items"]),
            channel=Channel(c["channel"]),
            removed=bool(c["removed"]),
            seal_sha256=None if c["seal_sha256"] is None else str(c["seal_sha256"]),
            version=int(c["version"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ContentFormatError):
            raise
        raise ContentFormatError(f"not juki certificate content: {exc}") from exc


def from_document(doc: Mapping[str, Any]) -> tuple[CertificateContent, Issuance]:
    """Parse a certificate document (from a PDF or the database)."""
    try:
        content = content_from_json(doc["content"])
        i = doc["issuance"]
        issuance = Issuance(
            certificate_id=str(i["certificate_id"]),
            lg_code=str(i["lg_code"]),
            municipality=str(i["municipality"]),
            signatory=str(i["signatory"]),
            issued_at=str(i["issued_at"]),
            issued_on=str(i["issued_on"]),
            terminal_id=str(i["terminal_id"]),
            issue_numbers=tuple(str(x) for x in i["issue_numbers"]),
            verify_base_url=str(i["verify_base_url"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ContentFormatError):
            raise
        raise ContentFormatError(f"not a juki certificate document: {exc}") from exc
    return content, issuance


def parse_document(text: str) -> tuple[CertificateContent, Issuance]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContentFormatError(f"certificate document is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ContentFormatError("certificate document is not a JSON object")
    return from_document(doc)
