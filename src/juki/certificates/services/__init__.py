"""The certificate services: issuing at the counter, and everything done with a certificate after.

Each takes a unit of work (`juki.certificates.ports.CertificateUnitOfWork`) and the actor
(`by`), and runs through the one action runner (`juki.security.actions.perform`): authorised,
applied, logged and committed together. The modules group them by what they do: `issuing`
(preview, record, produce), `recording` (numbers, the certificate row and its register lines,
shared with wide-area issuance), `register` (void, spoiled copies, reading the books) and
`fees`.
"""

from juki.certificates.services.fees import fee_per_copy, set_fee
from juki.certificates.services.issuing import (
    CertificateProducer,
    IssuedCertificate,
    Preview,
    ProductionError,
    ensure_printable,
    issue_certificate,
    parse_request_code,
    prepare_certificate,
    preview_certificate,
    produce_certificate,
)
from juki.certificates.services.recording import PreparedCertificate, record_certificate
from juki.certificates.services.register import (
    certificate_register,
    certificate_status,
    record_spoiled_copy,
    view_issued_certificate,
    void_certificate,
)

__all__ = [
    "CertificateProducer",
    "IssuedCertificate",
    "PreparedCertificate",
    "Preview",
    "ProductionError",
    "certificate_register",
    "certificate_status",
    "ensure_printable",
    "fee_per_copy",
    "issue_certificate",
    "parse_request_code",
    "prepare_certificate",
    "preview_certificate",
    "produce_certificate",
    "record_certificate",
    "record_spoiled_copy",
    "set_fee",
    "view_issued_certificate",
    "void_certificate",
]
