"""Recording a certificate: its issue numbers, its row and its register line, in one transaction.

Counter and wide-area issuance both end here (`record_certificate`, in the caller's
transaction), so every certificate is numbered, digested and registered the same way whichever
municipality's record its content came from; the register lines of later events (a failed
print, a void, a spoiled copy) are built here too, so the register has one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from juki.certificates.document import canonical_json, digest_of
from juki.certificates.model import CertificateContent, CertificateRequest, Issuance
from juki.certificates.ports import (
    CertificateRecord,
    CertificateUnitOfWork,
    RegisterEntry,
    RegisterEvent,
    SuppliedContent,
)
from juki.security.actors import Actor

MAX_REASON: Final = 200  # the longest reason (override, void, disposal) the register keeps


@dataclass(frozen=True, slots=True)
class PreparedCertificate:
    record: CertificateRecord
    content: CertificateContent
    issuance: Issuance
    digest: str
    seal_png: bytes | None
    municipality_name: str


def record_certificate(
    uow: CertificateUnitOfWork,
    by: Actor,
    req: CertificateRequest,
    content: CertificateContent,
    per_copy: int,
    seal_png: bytes | None,
    record_id: str | None,
    *,
    verify_base_url: str,
    source: SuppliedContent | None = None,
) -> PreparedCertificate:
    """Take the issue numbers and record the certificate and its register line (in the
    caller's transaction); a wide-area issuance also records where its content came from."""
    issuance = _issuance(uow, by, req.copies, verify_base_url)
    digest = digest_of(content, issuance)
    record = CertificateRecord(
        certificate_id=issuance.certificate_id,
        lg_code=issuance.lg_code,
        record_lg_code=content.record_lg_code,
        kind=req.kind,
        channel=req.channel.value,
        subject_resident_code=req.resident_code,
        subject_record_id=record_id,
        content_json=canonical_json(content, issuance),
        digest=digest,
        issue_numbers=issuance.issue_numbers,
        copies=req.copies,
        fee_yen=per_copy * req.copies,
        issued_at=issuance.issued_at,
        issued_on=issuance.issued_date,
        operator_id=by.actor_id,
        terminal_id=by.terminal_id,
        source_request_id=source.request_id if source else None,
    )
    uow.certificates.add(record)
    uow.certificates.append_register(issued_entry(record, req, content, source))
    return PreparedCertificate(
        record=record,
        content=content,
        issuance=issuance,
        digest=digest,
        seal_png=seal_png,
        municipality_name=uow.municipality.name,
    )


def _issuance(uow: CertificateUnitOfWork, by: Actor, copies: int, verify_base_url: str) -> Issuance:
    """This municipality certifies, now, under the next `copies` numbers of the day."""
    municipality = uow.municipality
    now = uow.clock.now()
    today = uow.clock.today()
    day = today.strftime("%Y%m%d")
    first = uow.certificates.take_sequence(f"certificate:{municipality.lg_code}:{day}", copies)
    numbers = tuple(
        f"{day}-{municipality.lg_code}-{by.terminal_id}-{n:06d}"
        for n in range(first, first + copies)
    )
    return Issuance(
        certificate_id=uow.ids.new_id(),
        lg_code=municipality.lg_code,
        municipality=municipality.address_prefix,
        signatory=municipality.signatory,  # 市区町村長の職名と氏名
        issued_at=now.isoformat(),
        issued_on=today.isoformat(),
        terminal_id=by.terminal_id,
        issue_numbers=numbers,
        verify_base_url=verify_base_url.rstrip("/"),
    )


def issued_entry(
    record: CertificateRecord,
    req: CertificateRequest,
    content: CertificateContent,
    source: SuppliedContent | None,
) -> RegisterEntry:
    """The register line of an issue: what was shown, to whom, for what fee, on whose say."""
    override = req.support_override
    return RegisterEntry(
        at=record.issued_at,
        event=RegisterEvent.ISSUED,
        certificate_id=record.certificate_id,
        lg_code=record.lg_code,
        terminal_id=record.terminal_id,
        operator_id=record.operator_id,
        subject_resident_code=record.subject_resident_code,
        kind=record.kind,
        items=",".join(content.items),
        members=len(content.persons),
        copies=record.copies,
        issue_numbers=record.issue_numbers,
        fee_yen=record.fee_yen,
        requester=req.requester.value,
        override_by=override.approved_by if override else None,
        override_reason=override.reason if override else None,
        source_lg_code=source.home_lg_code if source else None,
    )


def event_entry(
    record: CertificateRecord,
    event: RegisterEvent,
    at: str,
    by: Actor,
    *,
    numbers: tuple[str, ...] | None = None,
    disposal: str | None = None,
) -> RegisterEntry:
    """The register line of a later event on a certificate (failed, voided, a spoiled copy)."""
    return RegisterEntry(
        at=at,
        event=event,
        certificate_id=record.certificate_id,
        lg_code=record.lg_code,
        terminal_id=by.terminal_id,
        operator_id=by.actor_id,
        subject_resident_code=record.subject_resident_code,
        kind=record.kind,
        items="",
        members=0,
        copies=len(numbers) if numbers is not None else record.copies,
        issue_numbers=numbers if numbers is not None else record.issue_numbers,
        fee_yen=0,
        requester="-",
        disposal=disposal,
    )
