"""第三者請求 at issue: the 申出 kept with the certificate it obtained, and the 本人通知 it owes.

Runs inside the issuing transaction (`juki.certificates.services.issuing.prepare_certificate`)
right after the certificate and its register line are recorded, so the certificate, who obtained
it for what, and the notices to its registered persons are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from juki.certificates.model import CertificateRequest
from juki.certificates.ports import CertificateRecord, CertificateUnitOfWork
from juki.certificates.self_notice import IssuedToThirdParty, NoticeSubject, SelfNotice
from juki.certificates.services.self_notice import record_self_notices


def keep_third_party_request(
    uow: CertificateUnitOfWork,
    record: CertificateRecord,
    request: CertificateRequest,
    shown: Sequence[NoticeSubject],
) -> list[SelfNotice]:
    """Keep a third party's 申出 with `record`; record the 本人通知 due to the persons it shows
    (`shown`). Nothing for a request by the person or their household (or, for a 附票の写し,
    their 本人等)."""
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
    return record_self_notices(uow, issued, shown)
