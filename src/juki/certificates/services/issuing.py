"""Issuing a certificate at the counter: check and preview, record, then render, sign and print.

Issuing happens in two steps so that no lock is held while a PDF is drawn:

1. one transaction (authorised and written to the oplog by `perform`) reads the snapshot,
   applies the content rules, checks every character can be printed, computes the fee, takes
   the issue numbers, and records the certificate and its register line;
2. outside it, the PDF is rendered from exactly that recorded content, signed and printed, and
   a short transaction marks the certificate printed (with the file's hash). If anything in
   step 2 fails, the certificate is voided and the register says so: no issue number ever
   stands for a PDF that does not exist.

The PDF is made only from the recorded content, never by reading the registry again, so what
is printed is what was recorded and signed — for this applicant and no one else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from juki.certificates.content import build_content, check_request, select_members
from juki.certificates.fonts import GlyphCoverage
from juki.certificates.fuhyo import fuhyo_content, shown_persons
from juki.certificates.model import (
    CertificateContent,
    CertificateKind,
    CertificateRequest,
    Issuance,
    SupportOverride,
    all_lines,
    carries_my_number,
)
from juki.certificates.ports import (
    CertificateRecord,
    CertificateState,
    CertificateUnitOfWork,
    PrintSink,
    ProducedPdf,
    RegisterEvent,
)
from juki.certificates.self_notice import NoticeSubject
from juki.certificates.services.fees import fee_per_copy
from juki.certificates.services.recording import (
    MAX_REASON,
    PreparedCertificate,
    event_entry,
    record_certificate,
)
from juki.certificates.services.third_party import keep_third_party_request
from juki.certificates.third_party import check_third_party
from juki.core.errors import JukiError, ValidationError
from juki.core.identifiers import ResidentCode
from juki.core.ports import OpLogEntry
from juki.registry.ports import RegistryUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission, authorize


class CertificateProducer(Protocol):
    """Renders and signs a prepared certificate (juki.certificates.desk.PdfProducer)."""

    def produce(self, prepared: PreparedCertificate) -> ProducedPdf: ...


class ProductionError(JukiError):
    """The certificate was recorded but its PDF could not be made or printed; it is now void."""

    def __init__(self, certificate_id: str, cause: str) -> None:
        super().__init__(certificate_id, cause)
        self.certificate_id = certificate_id
        self.message_en = f"certificate {certificate_id} could not be produced: {cause}"
        self.message_ja = "証明書を作成できませんでした（この発行は無効とし、記録しました）"

    def __str__(self) -> str:
        return self.message_en


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    certificate_id: str
    kind: CertificateKind
    subject_resident_code: str
    issue_numbers: tuple[str, ...]
    fee_yen: int
    digest: str
    content: CertificateContent
    issuance: Issuance
    pdf: bytes
    printed_to: str


@dataclass(frozen=True, slots=True)
class Preview:
    """What the clerk confirms before issuing: the content and the fee (no numbers taken)."""

    content: CertificateContent
    fee_yen: int
    fee_per_copy: int


# -- helpers ----------------------------------------------------------------------------------


def parse_request_code(request: CertificateRequest) -> None:
    ResidentCode.parse(request.resident_code)
    if isinstance(request.members, tuple):
        for position, code in enumerate(request.members):
            try:
                ResidentCode.parse(code)
            except ValidationError as exc:
                raise ValidationError(
                    f"members.{position}", exc.rule, exc.message_en, exc.message_ja
                ) from exc


def _with_override(request: CertificateRequest, by: Actor) -> CertificateRequest:
    """The override is always the acting operator's, and needs their authority."""
    if request.support_override is None:
        return request
    authorize(by.actor_id, by.role, Permission.OVERRIDE_SUPPORT_MEASURE)
    reason = request.support_override.reason.strip()[:MAX_REASON]
    return dataclasses.replace(
        request, support_override=SupportOverride(approved_by=by.actor_id, reason=reason)
    )


def _checked(request: CertificateRequest) -> CertificateRequest:
    """The request's own rules first (copies, items, channel), then a third party's 申出."""
    check_request(request)
    return check_third_party(request)


def ensure_printable(content: CertificateContent, coverage: GlyphCoverage) -> None:
    """Refuse, naming the item and the character, anything the certificate font cannot draw."""
    for line in all_lines(content):
        coverage.ensure(line.key, line.label, line.value)


@dataclass(frozen=True, slots=True)
class _Built:
    """What one request read and decided: the content, its price, and whom it shows."""

    content: CertificateContent
    per_copy: int
    seal_png: bytes | None
    record_id: str | None  # the subject's 住民票 (none for a 附票の写し)
    shown: Sequence[NoticeSubject]  # the persons a 本人通知 may be owed to


def _read(
    uow: CertificateUnitOfWork, request: CertificateRequest
) -> tuple[CertificateContent, bytes | None, str | None, Sequence[NoticeSubject]]:
    now = uow.clock.now()
    if request.kind is CertificateKind.FUHYO:  # from the 附票 entries kept as 本籍 (法20条)
        fuhyo = uow.certificates.fuhyo_snapshot(
            request.resident_code, municipality=uow.municipality, read_at=now
        )
        return fuhyo_content(request, fuhyo), None, None, shown_persons(request, fuhyo)
    snapshot = uow.certificates.snapshot(
        request.resident_code,
        removed=request.removed,
        with_seal=request.kind is CertificateKind.SEAL,
        municipality=uow.municipality,
        read_at=now,
    )
    content = build_content(request, snapshot)
    seal_png = snapshot.seal.image_png if content.seal_sha256 and snapshot.seal else None
    shown = select_members(request, snapshot) if request.third_party else ()
    return content, seal_png, snapshot.subject.record_id, shown


def _build(
    uow: CertificateUnitOfWork, request: CertificateRequest, coverage: GlyphCoverage
) -> _Built:
    check_request(request)
    content, seal_png, record_id, shown = _read(uow, request)
    ensure_printable(content, coverage)
    per_copy = fee_per_copy(uow, uow.municipality.lg_code, request.kind)
    return _Built(content, per_copy, seal_png, record_id, shown)


def _target(request: CertificateRequest) -> str:
    return f"resident_code:{request.resident_code[:11]}"


# -- issuing ------------------------------------------------------------------------------------


def preview_certificate(
    uow: CertificateUnitOfWork, by: Actor, request: CertificateRequest, *, coverage: GlyphCoverage
) -> Preview:
    """Everything issuing would check and show, without taking numbers; logged as a read."""

    def run(_: RegistryUnitOfWork) -> Preview:
        parse_request_code(request)
        req = _checked(_with_override(request, by))
        built = _build(uow, req, coverage)
        return Preview(
            content=built.content,
            fee_yen=built.per_copy * request.copies,
            fee_per_copy=built.per_copy,
        )

    return perform(
        uow,
        by,
        Permission.ISSUE_CERTIFICATE,
        _target(request),
        run,
        describe=lambda p: f"preview {p.content.kind.value}, {len(p.content.persons)} person(s)",
        shows_my_number=lambda p: carries_my_number(p.content),
    )


def prepare_certificate(
    uow: CertificateUnitOfWork,
    by: Actor,
    request: CertificateRequest,
    *,
    coverage: GlyphCoverage,
    verify_base_url: str,
) -> PreparedCertificate:
    """Step 1: record the certificate (content, digest, numbers, fee) and its register line."""

    def run(_: RegistryUnitOfWork) -> PreparedCertificate:
        parse_request_code(request)
        req = _checked(_with_override(request, by))
        built = _build(uow, req, coverage)
        prepared = record_certificate(
            uow,
            by,
            req,
            built.content,
            built.per_copy,
            built.seal_png,
            built.record_id,
            verify_base_url=verify_base_url,
        )
        keep_third_party_request(uow, prepared.record, req, built.shown)
        return prepared

    return perform(
        uow,
        by,
        Permission.ISSUE_CERTIFICATE,
        _target(request),
        run,
        describe=lambda p: (
            f"{p.record.kind.value} certificate {p.record.certificate_id}, "
            f"{p.record.copies} cop{'y' if p.record.copies == 1 else 'ies'} "
            f"{','.join(p.record.issue_numbers)}, {len(p.content.persons)} person(s), "
            f"items [{','.join(p.content.items)}]"
            + (" (支援措置 override)" if request.support_override else "")
            + (" to a third party (第12条の3)" if request.third_party else "")
        ),
        shows_my_number=lambda p: carries_my_number(p.content),
    )


def issue_certificate(
    uow: CertificateUnitOfWork,
    by: Actor,
    request: CertificateRequest,
    *,
    coverage: GlyphCoverage,
    producer: CertificateProducer,
    sink: PrintSink,
    verify_base_url: str,
) -> IssuedCertificate:
    """Record, render, sign and print one certificate (all its copies)."""
    prepared = prepare_certificate(
        uow, by, request, coverage=coverage, verify_base_url=verify_base_url
    )
    return produce_certificate(uow, by, prepared, producer, sink, Permission.ISSUE_CERTIFICATE)


def produce_certificate(
    uow: CertificateUnitOfWork,
    by: Actor,
    prepared: PreparedCertificate,
    producer: CertificateProducer,
    sink: PrintSink,
    action: Permission,
) -> IssuedCertificate:
    """Step 2: render, sign and print the recorded certificate; void it if that fails."""
    record = prepared.record
    try:
        produced = producer.produce(prepared)
        printed_to = sink.print(produced.pdf, record.certificate_id)
    except Exception as exc:
        _void_after_failure(uow, by, record, f"{type(exc).__name__}: {exc}", action)
        raise ProductionError(record.certificate_id, type(exc).__name__) from exc
    with uow:
        current = uow.certificates.get(record.certificate_id)
        uow.certificates.save(
            dataclasses.replace(
                current,
                printed_at=uow.clock.now().isoformat(),
                pdf_sha256=produced.sha256,
                signer_sha256=produced.signer_sha256,
            )
        )
        uow.commit()
    return IssuedCertificate(
        certificate_id=record.certificate_id,
        kind=record.kind,
        subject_resident_code=record.subject_resident_code,
        issue_numbers=record.issue_numbers,
        fee_yen=record.fee_yen,
        digest=prepared.digest,
        content=prepared.content,
        issuance=prepared.issuance,
        pdf=produced.pdf,
        printed_to=printed_to,
    )


def _void_after_failure(
    uow: CertificateUnitOfWork,
    by: Actor,
    record: CertificateRecord,
    cause: str,
    action: Permission = Permission.ISSUE_CERTIFICATE,
) -> None:
    with uow:
        now = uow.clock.now().isoformat()
        uow.certificates.save(
            dataclasses.replace(
                record,
                status=CertificateState.VOID,
                voided_at=now,
                voided_by=by.actor_id,
                void_reason=f"発行処理の失敗: {cause}"[:400],
            )
        )
        uow.certificates.append_register(
            event_entry(record, RegisterEvent.FAILED, now, by, disposal=cause[:400])
        )
        uow.oplog.append(
            OpLogEntry(
                at=uow.clock.now(),
                actor_id=by.actor_id,
                role=by.role.value,
                terminal_id=by.terminal_id,
                action=action.value,
                target=f"certificate:{record.certificate_id}",
                outcome="failed",
                detail=cause[:500],
            )
        )
        uow.commit()
