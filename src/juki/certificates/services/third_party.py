"""第三者請求 at issue: the 申出 kept with the certificate it obtained, and the 本人通知 it owes.

Runs inside the issuing transaction (`juki.certificates.services.issuing.prepare_certificate`)
right after the certificate and its register line are recorded, so the certificate, who obtained
it for what, and the notices to its registered persons are committed together or not at all.
"""

from __future__ import annotations

from juki.certificates.content import select_members
from juki.certificates.model import CertificateRequest, Snapshot
from juki.certificates.ports import CertificateRecord, CertificateUnitOfWork
from juki.certificates.self_notice import IssuedToThirdParty, SelfNotice
from juki.certificates.services.self_notice import record_self_notices


def keep_third_party_request(
    uow: CertificateUnitOfWork,
    record: CertificateRecord,
    request: CertificateRequest,
    snapshot: Snapshot,
) -> list[SelfNotice]:
    """Keep a third party's 申出 with `record`; record the 本人通知 due. Nothing for a request
    by the person or their household."""
    details = request.third_party
    if details is None:
        return []
    uow.certificates.add_third_party_request(
        record.certificate_id, record.issued_at, record.subject_resident_code, details
    )
    issued = IssuedToThirdParty(
        certificate_id=record.certificate_id,
        issued_on=record.issued_on,
        kind=record.kind,
        copies=record.copies,
        request=details,
    )
    return record_self_notices(uow, issued, select_members(request, snapshot))
