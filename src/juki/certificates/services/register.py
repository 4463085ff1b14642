"""After issue: voiding a certificate, recording a spoiled copy, and reading the books.

A certificate is never deleted or changed once issued; what happens to it later is a new line
in the register (無効, 書損), so the register alone tells its whole story. Reading it — the
register, one certificate's content, its public status — is authorised and logged as well,
except the public status, which answers only someone holding the certificate's id and digest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from juki.certificates.document import parse_document
from juki.certificates.model import CertificateStatus, carries_my_number
from juki.certificates.ports import (
    CertificateRecord,
    CertificateState,
    CertificateUnitOfWork,
    RegisterEntry,
    RegisterEvent,
)
from juki.certificates.services.recording import MAX_REASON, event_entry
from juki.core.errors import DomainRuleError, NotFoundError, ValidationError
from juki.core.text import validate_name
from juki.registry.ports import RegistryUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission, is_allowed


def _reason(field: str, text: str, what_ja: str) -> str:
    value = validate_name(field, text, max_len=MAX_REASON)
    if not value:
        raise ValidationError(
            field, "required", f"{field} is required", f"{what_ja}を入力してください"
        )
    return value


def void_record(
    uow: CertificateUnitOfWork, by: Actor, record: CertificateRecord, why: str
) -> CertificateRecord:
    """The one way a certificate becomes void, in the caller's action: the record says VOID
    (when, by whom, why) and the register gets its VOIDED line (無効, with the reason). Used by
    the counter's 無効, the kiosk's abandoned request and the kiosk's 全部数書損."""
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
        event_entry(record, RegisterEvent.VOIDED, now, by, disposal=why)
    )
    return voided


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
        return void_record(uow, by, record, why)

    return perform(uow, by, Permission.VOID_CERTIFICATE, f"certificate:{certificate_id[:36]}", run)


def spoil_copy(
    uow: CertificateUnitOfWork, by: Actor, certificate_id: str, issue_number: str, disposal: str
) -> RegisterEntry:
    """The 書損 line of one copy, in the caller's action (the counter's, or the kiosk's)."""
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
    entry = event_entry(
        record,
        RegisterEvent.SPOILED,
        uow.clock.now().isoformat(),
        by,
        numbers=(issue_number,),
        disposal=how,
    )
    uow.certificates.append_register(entry)
    return entry


def record_spoiled_copy(
    uow: CertificateUnitOfWork, by: Actor, certificate_id: str, issue_number: str, disposal: str
) -> RegisterEntry:
    """書損: one copy jammed or misprinted; its number becomes void and its disposal is noted."""
    return perform(
        uow,
        by,
        Permission.ISSUE_CERTIFICATE,
        f"certificate:{certificate_id[:36]}",
        lambda _: spoil_copy(uow, by, certificate_id, issue_number, disposal),
        describe=lambda e: f"spoiled copy {issue_number}",
    )


def certificate_register(
    uow: CertificateUnitOfWork, by: Actor, on: date | None = None, limit: int = 500
) -> Sequence[RegisterEntry]:
    """交付履歴, newest first. The subject's 住民票コード only for a role that may see it
    (`view_resident_code`: the counter and 審査); an auditor reads the line without it."""
    rows = perform(
        uow,
        by,
        Permission.VIEW_CERTIFICATE_REGISTER,
        f"register:{on.isoformat() if on else 'recent'}",
        lambda _: uow.certificates.register(on, max(1, min(limit, 5000))),
        describe=lambda rows: f"{len(rows)} entries",
    )
    if is_allowed(by.role, Permission.VIEW_RESIDENT_CODE):
        return rows
    return [dataclasses.replace(e, subject_resident_code=None) for e in rows]


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

    return perform(
        uow,
        by,
        permission,
        f"certificate:{certificate_id[:36]}",
        run,
        shows_my_number=lambda r: carries_my_number(parse_document(r.content_json)[0]),
    )


def certificate_status(
    uow: CertificateUnitOfWork, certificate_id: str, digest: str
) -> CertificateStatus | None:
    """The public answer for one certificate; needs its id *and* digest, so it reveals nothing
    to anyone who does not already hold the certificate."""
    with uow:
        return uow.certificates.status(certificate_id, digest)
