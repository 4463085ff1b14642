"""Issuing, voiding and registering certificates at the counter, each through `perform`.

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
from datetime import date
from typing import Final, Protocol

from juki.certificates.content import build_content, check_request
from juki.certificates.document import canonical_json, digest_of
from juki.certificates.fonts import GlyphCoverage
from juki.certificates.model import (
    CertificateContent,
    CertificateKind,
    CertificateRequest,
    Issuance,
    SupportOverride,
    all_lines,
)
from juki.certificates.ports import (
    CertificateRecord,
    CertificateState,
    CertificateUnitOfWork,
    PrintSink,
    ProducedPdf,
    RegisterEntry,
    RegisterEvent,
    SuppliedContent,
)
from juki.certificates.verify import CertificateStatus
from juki.core.errors import DomainRuleError, JukiError, NotFoundError, ValidationError
from juki.core.identifiers import ResidentCode
from juki.core.ports import OpLogEntry
from juki.core.text import validate_name
from juki.registry.ports import RegistryUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission, authorize, is_allowed

DEFAULT_FEE_YEN: Final = 300  # per copy, when the municipality's fee table has no row
MAX_FEE_YEN: Final = 100_000
MAX_REASON: Final = 200


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
class PreparedCertificate:
    record: CertificateRecord
    content: CertificateContent
    issuance: Issuance
    digest: str
    seal_png: bytes | None
    municipality_name: str


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


def ensure_printable(content: CertificateContent, coverage: GlyphCoverage) -> None:
    """Refuse, naming the item and the character, anything the certificate font cannot draw."""
    for line in all_lines(content):
        coverage.ensure(line.key, line.label, line.value)


def fee_per_copy(uow: CertificateUnitOfWork, lg_code: str, kind: CertificateKind) -> int:
    fee = uow.certificates.fee(lg_code, kind)
    return DEFAULT_FEE_YEN if fee is None else fee


def _build(
    uow: CertificateUnitOfWork, request: CertificateRequest, coverage: GlyphCoverage
) -> tuple[CertificateContent, int, bytes | None, str | None]:
    check_request(request)
    snapshot = uow.certificates.snapshot(
        request.resident_code,
        removed=request.removed,
        with_seal=request.kind is CertificateKind.SEAL,
        municipality=uow.municipality,
        read_at=uow.clock.now(),
    )
    content = build_content(request, snapshot)
    ensure_printable(content, coverage)
    per_copy = fee_per_copy(uow, snapshot.municipality.lg_code, request.kind)
    seal_png = snapshot.seal.image_png if content.seal_sha256 and snapshot.seal else None
    return content, per_copy, seal_png, snapshot.subject.record_id


def _target(request: CertificateRequest) -> str:
    return f"resident_code:{request.resident_code[:11]}"


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
    municipality = uow.municipality
    now = uow.clock.now()
    today = uow.clock.today()
    day = today.strftime("%Y%m%d")
    first = uow.certificates.take_sequence(f"certificate:{municipality.lg_code}:{day}", req.copies)
    numbers = tuple(
        f"{day}-{municipality.lg_code}-{by.terminal_id}-{n:06d}"
        for n in range(first, first + req.copies)
    )
    issuance = Issuance(
        certificate_id=uow.ids.new_id(),
        lg_code=municipality.lg_code,
        municipality=municipality.address_prefix,
        signatory=f"{municipality.address_prefix}長",
        issued_at=now.isoformat(),
        issued_on=today.isoformat(),
        terminal_id=by.terminal_id,
        issue_numbers=numbers,
        verify_base_url=verify_base_url.rstrip("/"),
    )
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
        issue_numbers=numbers,
        copies=req.copies,
        fee_yen=per_copy * req.copies,
        issued_at=issuance.issued_at,
        issued_on=today,
        operator_id=by.actor_id,
        terminal_id=by.terminal_id,
        source_request_id=source.request_id if source else None,
    )
    uow.certificates.add(record)
    override = req.support_override
    uow.certificates.append_register(
        RegisterEntry(
            at=issuance.issued_at,
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
            issue_numbers=numbers,
            fee_yen=record.fee_yen,
            requester=req.requester.value,
            override_by=override.approved_by if override else None,
            override_reason=override.reason if override else None,
            source_lg_code=source.home_lg_code if source else None,
        )
    )
    return PreparedCertificate(
        record=record,
        content=content,
        issuance=issuance,
        digest=digest,
        seal_png=seal_png,
        municipality_name=municipality.name,
    )


# -- issuing ------------------------------------------------------------------------------------


def preview_certificate(
    uow: CertificateUnitOfWork, by: Actor, request: CertificateRequest, *, coverage: GlyphCoverage
) -> Preview:
    """Everything issuing would check and show, without taking numbers; logged as a read."""

    def run(_: RegistryUnitOfWork) -> Preview:
        parse_request_code(request)
        content, per_copy, _seal, _rid = _build(uow, _with_override(request, by), coverage)
        return Preview(content=content, fee_yen=per_copy * request.copies, fee_per_copy=per_copy)

    return perform(
        uow,
        by,
        Permission.ISSUE_CERTIFICATE,
        _target(request),
        run,
        describe=lambda p: f"preview {p.content.kind.value}, {len(p.content.persons)} person(s)",
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
        req = _with_override(request, by)
        content, per_copy, seal_png, record_id = _build(uow, req, coverage)
        return record_certificate(
            uow,
            by,
            req,
            content,
            per_copy,
            seal_png,
            record_id,
            verify_base_url=verify_base_url,
        )

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
        ),
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
            _event_entry(record, RegisterEvent.FAILED, now, by, disposal=cause[:400])
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


def _event_entry(
    record: CertificateRecord,
    event: RegisterEvent,
    at: str,
    by: Actor,
    *,
    numbers: tuple[str, ...] | None = None,
    disposal: str | None = None,
) -> RegisterEntry:
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


# -- after issuing ------------------------------------------------------------------------------


def _reason(field: str, text: str, what_ja: str) -> str:
    value = validate_name(field, text, max_len=MAX_REASON)
    if not value:
        raise ValidationError(
            field, "required", f"{field} is required", f"{what_ja}を入力してください"
        )
    return value


def void_certificate(
    uow: CertificateUnitOfWork, by: Actor, certificate_id: str, reason: str
) -> CertificateRecord:
    """無効: the certificate stops verifying; the paper copies must be collected."""

    def run(_: RegistryUnitOfWork) -> CertificateRecord:
        why = _reason("reason", reason, "無効とする理由")
        record = uow.certificates.get(certificate_id)
        if record.status is CertificateState.VOID:
            raise DomainRuleError(
                "certificate_id",
                "already_void",
                f"certificate {certificate_id} is already void",
                "この証明書は既に無効です",
            )
        now = uow.clock.now().isoformat()
        voided = dataclasses.replace(
            record,
            status=CertificateState.VOID,
            voided_at=now,
            voided_by=by.actor_id,
            void_reason=why,
        )
        uow.certificates.save(voided)
        uow.certificates.append_register(
            _event_entry(record, RegisterEvent.VOIDED, now, by, disposal=why)
        )
        return voided

    return perform(uow, by, Permission.VOID_CERTIFICATE, f"certificate:{certificate_id[:36]}", run)


def record_spoiled_copy(
    uow: CertificateUnitOfWork, by: Actor, certificate_id: str, issue_number: str, disposal: str
) -> RegisterEntry:
    """書損: one copy jammed or misprinted; its number becomes void and its disposal is noted."""

    def run(_: RegistryUnitOfWork) -> RegisterEntry:
        how = _reason("disposal", disposal, "書損の処理内容")
        record = uow.certificates.get(certificate_id)
        if issue_number not in record.issue_numbers:
            raise ValidationError(
                "issue_number",
                "not_of_certificate",
                "the issue number is not one of this certificate's copies",
                "この証明書の発行番号ではありません",
            )
        if issue_number in uow.certificates.spoiled_numbers(certificate_id):
            raise DomainRuleError(
                "issue_number",
                "already_spoiled",
                "this copy is already recorded as spoiled",
                "この発行番号は既に書損として記録されています",
            )
        entry = _event_entry(
            record,
            RegisterEvent.SPOILED,
            uow.clock.now().isoformat(),
            by,
            numbers=(issue_number,),
            disposal=how,
        )
        uow.certificates.append_register(entry)
        return entry

    return perform(
        uow,
        by,
        Permission.ISSUE_CERTIFICATE,
        f"certificate:{certificate_id[:36]}",
        run,
        describe=lambda e: f"spoiled copy {issue_number}",
    )


def certificate_register(
    uow: CertificateUnitOfWork, by: Actor, on: date | None = None, limit: int = 500
) -> Sequence[RegisterEntry]:
    """交付履歴, newest first."""
    return perform(
        uow,
        by,
        Permission.VIEW_CERTIFICATE_REGISTER,
        f"register:{on.isoformat() if on else 'recent'}",
        lambda _: uow.certificates.register(on, max(1, min(limit, 5000))),
        describe=lambda rows: f"{len(rows)} entries",
    )


def view_issued_certificate(
    uow: CertificateUnitOfWork, by: Actor, certificate_id: str
) -> CertificateRecord:
    """One certificate and what it says: a supervisor any, a clerk only their own.

    Auditors read the register (resident codes, numbers, events) but not what certificates say.
    """
    any_certificate = is_allowed(by.role, Permission.VOID_CERTIFICATE)
    permission = Permission.VOID_CERTIFICATE if any_certificate else Permission.ISSUE_CERTIFICATE

    def run(_: RegistryUnitOfWork) -> CertificateRecord:
        record = uow.certificates.get(certificate_id)
        if not any_certificate and record.operator_id != by.actor_id:
            raise NotFoundError("certificate", certificate_id[:36])
        return record

    return perform(uow, by, permission, f"certificate:{certificate_id[:36]}", run)


def set_fee(uow: CertificateUnitOfWork, by: Actor, kind: CertificateKind, fee_yen: int) -> int:
    """手数料 per copy for this municipality."""

    def run(_: RegistryUnitOfWork) -> int:
        if not 0 <= fee_yen <= MAX_FEE_YEN:
            raise ValidationError(
                "fee_yen",
                "range",
                f"a fee must be between 0 and {MAX_FEE_YEN} yen",
                f"手数料は0〜{MAX_FEE_YEN}円で指定してください",
            )
        uow.certificates.set_fee(
            uow.municipality.lg_code,
            CertificateKind(kind),
            fee_yen,
            uow.clock.now().isoformat(),
            by.actor_id,
        )
        return fee_yen

    return perform(
        uow,
        by,
        Permission.MANAGE_CERTIFICATE_FEES,
        f"fee:{CertificateKind(kind).value}",
        run,
        describe=lambda v: f"{v} yen per copy",
    )


def certificate_status(
    uow: CertificateUnitOfWork, certificate_id: str, digest: str
) -> CertificateStatus | None:
    """The public answer for one certificate; needs its id *and* digest, so it reveals nothing
    to anyone who does not already hold the certificate."""
    with uow:
        return uow.certificates.status(certificate_id, digest)
