"""第三者請求 and 本人通知 in SQL: the 申出 kept with a certificate, the registrations and the
notices to send. The row mappers are shared with the in-memory fake (tests/support/fakes.py),
so both keep the same columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from juki.certificates.model import CertificateKind
from juki.certificates.self_notice import SelfNotice, SelfNoticeRegistration
from juki.certificates.tables import self_notice_registrations, self_notices, third_party_requests
from juki.certificates.third_party import IdDocument, Qualification, RequestBasis, ThirdPartyRequest
from juki.core.errors import DomainRuleError, NotFoundError
from juki.registry.tables import fuhyo_entries


def already_registered() -> DomainRuleError:
    return DomainRuleError(
        "resident_code",
        "already_registered",
        "this person is already registered for self notice",
        "この方は既に本人通知に登録されています",
    )


def third_party_row(
    certificate_id: str, at: str, subject_resident_code: str, r: ThirdPartyRequest
) -> dict[str, Any]:
    return {
        "certificate_id": certificate_id,
        "at": at,
        "subject_resident_code": subject_resident_code,
        "basis": r.basis.value,
        "purpose": r.purpose,
        "requester_name": r.requester_name,
        "requester_address": r.requester_address,
        "corporation": r.corporation,
        "person_in_charge": r.person_in_charge or None,
        "qualification": r.qualification.value if r.qualification else None,
        "registration_number": r.registration_number or None,
        "client_name": r.client_name or None,
        "id_document": r.id_document.value if r.id_document else "",
        "id_document_number": r.id_document_number,
    }


def third_party_from_row(row: Mapping[Any, Any]) -> ThirdPartyRequest:
    return ThirdPartyRequest(
        basis=RequestBasis(row["basis"]),
        purpose=row["purpose"],
        requester_name=row["requester_name"],
        requester_address=row["requester_address"],
        id_document=IdDocument(row["id_document"]),
        id_document_number=row["id_document_number"],
        corporation=bool(row["corporation"]),
        person_in_charge=row["person_in_charge"] or "",
        qualification=Qualification(row["qualification"]) if row["qualification"] else None,
        registration_number=row["registration_number"] or "",
        client_name=row["client_name"] or "",
    )


def registration_row(r: SelfNoticeRegistration) -> dict[str, Any]:
    return {
        "registration_id": r.registration_id,
        "resident_code": r.resident_code,
        "registered_at": r.registered_at,
        "registered_by": r.registered_by,
        "withdrawn_at": r.withdrawn_at,
        "withdrawn_by": r.withdrawn_by,
    }


def registration_from_row(row: Mapping[Any, Any]) -> SelfNoticeRegistration:
    return SelfNoticeRegistration(
        **{c.name: row[c.name] for c in self_notice_registrations.columns}
    )


def notice_row(n: SelfNotice) -> dict[str, Any]:
    return {
        "notice_id": n.notice_id,
        "registration_id": n.registration_id,
        "certificate_id": n.certificate_id,
        "resident_code": n.resident_code,
        "issued_on": n.issued_on,
        "kind": n.kind.value,
        "copies": n.copies,
        "basis": n.basis.value,
        "requester_name": n.requester_name,
        "recipient_name": n.recipient_name,
        "recipient_address": n.recipient_address,
        "created_at": n.created_at,
        "sent_at": n.sent_at,
        "sent_by": n.sent_by,
    }


def notice_from_row(row: Mapping[Any, Any]) -> SelfNotice:
    values = {c.name: row[c.name] for c in self_notices.columns}
    values["kind"] = CertificateKind(values["kind"])
    values["basis"] = RequestBasis(values["basis"])
    return SelfNotice(**values)


class SqlThirdPartyRequests:
    """The 申出 of third parties, by certificate (used by `SqlCertificates`)."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def add(
        self, certificate_id: str, at: str, subject_resident_code: str, request: ThirdPartyRequest
    ) -> None:
        row = third_party_row(certificate_id, at, subject_resident_code, request)
        self._conn.execute(third_party_requests.insert().values(row))

    def of(self, certificate_ids: Sequence[str]) -> dict[str, ThirdPartyRequest]:
        if not certificate_ids:
            return {}
        t = third_party_requests.c
        rows = self._conn.execute(
            sa.select(third_party_requests).where(t.certificate_id.in_(list(certificate_ids)))
        ).mappings()
        return {r["certificate_id"]: third_party_from_row(r) for r in rows}


class SqlSelfNotices:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def live_registrations(
        self, resident_codes: Sequence[str]
    ) -> Mapping[str, SelfNoticeRegistration]:
        if not resident_codes:
            return {}
        r = self_notice_registrations.c
        rows = self._conn.execute(
            sa.select(self_notice_registrations).where(
                r.resident_code.in_(list(resident_codes)) & r.withdrawn_at.is_(None)
            )
        ).mappings()
        return {row["resident_code"]: registration_from_row(row) for row in rows}

    def on_fuhyo(self, resident_code: str) -> bool:
        f = fuhyo_entries.c
        found = self._conn.execute(
            sa.select(f.entry_id).where(f.resident_code == resident_code).limit(1)
        ).first()
        return found is not None

    def add_registration(self, registration: SelfNoticeRegistration) -> None:
        """A concurrent registration of the same person meets the partial unique index; the
        insert runs in a savepoint so the loss is reported as the rule it is."""
        savepoint = self._conn.begin_nested()
        try:
            self._conn.execute(
                self_notice_registrations.insert().values(registration_row(registration))
            )
        except sa.exc.IntegrityError:
            savepoint.rollback()
            raise already_registered() from None
        savepoint.commit()

    def end_registration(self, registration_id: str, at: str, by: str) -> None:
        r = self_notice_registrations.c
        self._conn.execute(
            self_notice_registrations.update()
            .where((r.registration_id == registration_id) & r.withdrawn_at.is_(None))
            .values(withdrawn_at=at, withdrawn_by=by)
        )

    def add_notice(self, notice: SelfNotice) -> None:
        self._conn.execute(self_notices.insert().values(notice_row(notice)))

    def notices(self, *, pending: bool, limit: int) -> Sequence[SelfNotice]:
        n = self_notices.c
        stmt = sa.select(self_notices).order_by(n.created_at, n.notice_id).limit(limit)
        if pending:
            stmt = stmt.where(n.sent_at.is_(None))
        return [notice_from_row(row) for row in self._conn.execute(stmt).mappings()]

    def get_notice(self, notice_id: str) -> SelfNotice:
        row = (
            self._conn.execute(sa.select(self_notices).where(self_notices.c.notice_id == notice_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError("self_notice", notice_id[:36])
        return notice_from_row(row)

    def mark_sent(self, notice_id: str, at: str, by: str) -> None:
        n = self_notices.c
        self._conn.execute(
            self_notices.update()
            .where((n.notice_id == notice_id) & n.sent_at.is_(None))
            .values(sent_at=at, sent_by=by)
        )
