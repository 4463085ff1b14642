"""Certificates, the issuance register and fees in SQL, and the snapshot they are built from.

The snapshot is read inside the issuing transaction. On SQLite that transaction already holds
the write lock (BEGIN IMMEDIATE), so nothing can change underneath it. On PostgreSQL (READ
COMMITTED) each statement sees its own committed state, so the rows read are locked FOR SHARE:
the subject, the household's members and the seal cannot change until the certificate is
recorded, and each set is read in one statement — the certificate shows one consistent state.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from juki.certificates.document import parse_document
from juki.certificates.fuhyo import FuhyoSnapshot
from juki.certificates.fuhyo_store import fuhyo_snapshot
from juki.certificates.model import CertificateKind, CertificateStatus, Snapshot
from juki.certificates.ports import (
    CertificateRecord,
    CertificateState,
    RegisterEntry,
    RegisterEvent,
    WideAreaOutcome,
    WideAreaReplay,
    WideAreaRequestEntry,
)
from juki.certificates.requests_store import SqlSelfNotices, SqlThirdPartyRequests
from juki.certificates.tables import (
    certificate_fees,
    certificate_register,
    certificates,
    wide_area_requests,
)
from juki.certificates.third_party import ThirdPartyRequest
from juki.core.clock import JST
from juki.core.errors import NotFoundError
from juki.registry.model import (
    Municipality,
    RecordStatus,
    Relationship,
    ResidentRecord,
    record_from_row,
)
from juki.registry.seal import SealStatus
from juki.registry.standing import PLANNED_REMOVALS, as_of, household_on
from juki.registry.store.municipality import save_mayor
from juki.registry.store.seals import seal_from_row
from juki.registry.support.store import with_protection_on
from juki.registry.tables import resident_records, seal_registrations
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.storage.counters import counters

_HOUSEHOLDER_FIRST = sa.case(
    (resident_records.c.relationship == Relationship.HOUSEHOLDER.value, 0), else_=1
)


def _record_row(r: CertificateRecord) -> dict[str, Any]:
    return {
        "certificate_id": r.certificate_id,
        "lg_code": r.lg_code,
        "record_lg_code": r.record_lg_code,
        "kind": r.kind.value,
        "channel": r.channel,
        "subject_resident_code": r.subject_resident_code,
        "subject_record_id": r.subject_record_id,
        "content": r.content_json,
        "content_digest": r.digest,
        "issue_numbers": json.dumps(list(r.issue_numbers)),
        "copies": r.copies,
        "fee_yen": r.fee_yen,
        "issued_at": r.issued_at,
        "issued_on": r.issued_on,
        "operator_id": r.operator_id,
        "terminal_id": r.terminal_id,
        "status": r.status.value,
        "printed_at": r.printed_at,
        "pdf_sha256": r.pdf_sha256,
        "signer_sha256": r.signer_sha256,
        "voided_at": r.voided_at,
        "voided_by": r.voided_by,
        "void_reason": r.void_reason,
        "source_request_id": r.source_request_id,
    }


def _record(row: Mapping[Any, Any]) -> CertificateRecord:
    return CertificateRecord(
        certificate_id=row["certificate_id"],
        lg_code=row["lg_code"],
        record_lg_code=row["record_lg_code"],
        kind=CertificateKind(row["kind"]),
        channel=row["channel"],
        subject_resident_code=row["subject_resident_code"],
        subject_record_id=row["subject_record_id"],
        content_json=row["content"],
        digest=row["content_digest"],
        issue_numbers=tuple(json.loads(row["issue_numbers"])),
        copies=row["copies"],
        fee_yen=row["fee_yen"],
        issued_at=row["issued_at"],
        issued_on=row["issued_on"],
        operator_id=row["operator_id"],
        terminal_id=row["terminal_id"],
        status=CertificateState(row["status"]),
        printed_at=row["printed_at"],
        pdf_sha256=row["pdf_sha256"],
        signer_sha256=row["signer_sha256"],
        voided_at=row["voided_at"],
        voided_by=row["voided_by"],
        void_reason=row["void_reason"],
        source_request_id=row["source_request_id"],
    )


def _entry_row(e: RegisterEntry) -> dict[str, Any]:
    return {
        "at": e.at,
        "event": e.event.value,
        "certificate_id": e.certificate_id,
        "lg_code": e.lg_code,
        "terminal_id": e.terminal_id,
        "operator_id": e.operator_id,
        "subject_resident_code": e.subject_resident_code,
        "kind": e.kind.value,
        "items": e.items,
        "members": e.members,
        "copies": e.copies,
        "issue_numbers": json.dumps(list(e.issue_numbers)),
        "fee_yen": e.fee_yen,
        "requester": e.requester,
        "override_by": e.override_by,
        "override_reason": e.override_reason,
        "disposal": e.disposal,
        "source_lg_code": e.source_lg_code,
    }


def _entry(row: Mapping[Any, Any]) -> RegisterEntry:
    return RegisterEntry(
        entry_id=row["entry_id"],
        at=row["at"],
        event=RegisterEvent(row["event"]),
        certificate_id=row["certificate_id"],
        lg_code=row["lg_code"],
        terminal_id=row["terminal_id"],
        operator_id=row["operator_id"],
        subject_resident_code=row["subject_resident_code"],
        kind=CertificateKind(row["kind"]),
        items=row["items"],
        members=row["members"],
        copies=row["copies"],
        issue_numbers=tuple(json.loads(row["issue_numbers"])),
        fee_yen=row["fee_yen"],
        requester=row["requester"],
        override_by=row["override_by"],
        override_reason=row["override_reason"],
        disposal=row["disposal"],
        source_lg_code=row["source_lg_code"],
    )


class SqlCertificates:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self._third_party = SqlThirdPartyRequests(conn)

    # -- the snapshot ----------------------------------------------------------------------

    def snapshot(
        self,
        resident_code: str,
        *,
        removed: bool,
        with_seal: bool,
        municipality: Municipality,
        read_at: datetime,
        lock: bool = True,
    ) -> Snapshot:
        """`lock=False` for a read in a snapshot transaction of its own (the kiosk's REPEATABLE
        READ read, `certificates.kiosk.store`): one snapshot needs no row locks."""
        c = resident_records.c

        def locked(stmt: sa.Select[Any]) -> sa.Select[Any]:
            return stmt.with_for_update(read=True) if lock else stmt

        rows = (
            self._conn.execute(
                locked(
                    sa.select(resident_records)
                    .where(c.resident_code == resident_code)
                    .order_by(c.record_id)
                )
            )
            .mappings()
            .all()
        )
        day = read_at.astimezone(JST).date()  # a pending move-out is a 住民票 until its date
        # 支援措置 in force on the day read (juki.registry.support), not as of the last change
        read = [as_of(record_from_row(r), day) for r in rows]
        records = with_protection_on(self._conn, read, day)
        active = [r for r in records if r.status is RecordStatus.ACTIVE]
        gone = sorted(
            (r for r in records if r.status is RecordStatus.REMOVED),
            key=lambda r: (r.removed_on or date.min, r.record_id),
            reverse=True,
        )
        ordered = (gone + active) if removed else (active + gone)
        if not ordered:
            raise NotFoundError("resident_record", resident_code)
        subject = ordered[0]
        members: tuple[Any, ...] = ()
        if subject.is_active:
            members = self._household(subject.household_id, day, locked)
        seal = None
        if with_seal:
            s = seal_registrations.c
            seal_row = (
                self._conn.execute(
                    locked(
                        sa.select(seal_registrations).where(
                            (s.record_id == subject.record_id) & (s.status == SealStatus.LIVE.value)
                        )
                    )
                )
                .mappings()
                .first()
            )
            seal = seal_from_row(seal_row) if seal_row else None
        return Snapshot(
            municipality=municipality,
            subject=subject,
            household_members=members,
            seal=seal,
            read_at=read_at,
        )

    def _household(
        self,
        household_id: str,
        day: date,
        locked: Callable[[sa.Select[Any]], sa.Select[Any]],
    ) -> tuple[ResidentRecord, ...]:
        """The household's members on `day` (those pending a move-out too), protection read."""
        c = resident_records.c
        member_rows = (
            self._conn.execute(
                locked(
                    sa.select(resident_records)
                    .where(
                        (c.household_id == household_id)
                        & (
                            (c.status == RecordStatus.ACTIVE.value)
                            | (
                                c.removal_reason.in_([r.value for r in PLANNED_REMOVALS])
                                & (c.removed_on > day)
                                & c.move_out_confirmed_on.is_(None)
                            )
                        )
                    )
                    .order_by(_HOUSEHOLDER_FIRST, c.birth_date, c.record_id)
                )
            )
            .mappings()
            .all()
        )
        found = household_on(day, [record_from_row(r) for r in member_rows])
        return tuple(with_protection_on(self._conn, found, day))

    def fuhyo_snapshot(
        self,
        resident_code: str,
        *,
        municipality: Municipality,
        read_at: datetime,
        lock: bool = True,
    ) -> FuhyoSnapshot:
        """The 附票 the person is on, kept here as their 本籍 (`certificates.fuhyo_store`)."""
        return fuhyo_snapshot(self._conn, resident_code, municipality, read_at, lock=lock)

    # -- fees and numbers ------------------------------------------------------------------

    def fee(self, lg_code: str, kind: CertificateKind) -> int | None:
        f = certificate_fees.c
        value = self._conn.execute(
            sa.select(f.fee_yen).where((f.lg_code == lg_code) & (f.kind == kind.value))
        ).scalar_one_or_none()
        return None if value is None else int(value)

    def set_mayor(self, title: str | None, name: str) -> None:
        save_mayor(self._conn, title, name)

    def set_fee(self, lg_code: str, kind: CertificateKind, fee_yen: int, at: str, by: str) -> None:
        f = certificate_fees.c
        values = {"fee_yen": fee_yen, "updated_at": at, "updated_by": by}
        updated = self._conn.execute(
            certificate_fees.update()
            .where((f.lg_code == lg_code) & (f.kind == kind.value))
            .values(**values)
        )
        if updated.rowcount == 0:
            self._conn.execute(
                certificate_fees.insert().values(lg_code=lg_code, kind=kind.value, **values)
            )

    def take_sequence(self, name: str, count: int) -> int:
        """Take `count` consecutive numbers from a named counter; return the first.

        The counter rolls back with the transaction, so numbers have no gaps; two
        transactions creating the same new counter race only for the insert, which the
        loser skips (inside a savepoint) before taking its numbers in turn.
        """
        where = counters.c.name == name
        bump = counters.update().where(where).values(value=counters.c.value + count)
        if self._conn.execute(bump).rowcount == 0:
            try:
                with self._conn.begin_nested():
                    self._conn.execute(counters.insert().values(name=name, value=0))
            except sa.exc.IntegrityError:
                pass
            self._conn.execute(bump)
        last = int(self._conn.execute(sa.select(counters.c.value).where(where)).scalar_one())
        return last - count + 1

    # -- certificates and the register -----------------------------------------------------

    def add(self, record: CertificateRecord) -> None:
        self._conn.execute(certificates.insert().values(_record_row(record)))

    def get(self, certificate_id: str) -> CertificateRecord:
        row = (
            self._conn.execute(
                sa.select(certificates).where(certificates.c.certificate_id == certificate_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError("certificate", certificate_id[:36])
        return _record(row)

    def save(self, record: CertificateRecord) -> None:
        self._conn.execute(
            certificates.update()
            .where(certificates.c.certificate_id == record.certificate_id)
            .values(_record_row(record))
        )

    def append_register(self, entry: RegisterEntry) -> None:
        self._conn.execute(certificate_register.insert().values(_entry_row(entry)))

    def register(self, on: date | None, limit: int) -> Sequence[RegisterEntry]:
        r = certificate_register.c
        stmt = sa.select(certificate_register).order_by(r.entry_id.desc()).limit(limit)
        if on is not None:
            stmt = stmt.where(r.at.startswith(on.isoformat()))
        entries = [_entry(row) for row in self._conn.execute(stmt).mappings()]
        # 第三者請求: each issue line shows who obtained the certificate and for what.
        asked = self._third_party.of(
            [e.certificate_id for e in entries if e.event is RegisterEvent.ISSUED]
        )
        return [
            dataclasses.replace(e, third_party=asked[e.certificate_id])
            if e.event is RegisterEvent.ISSUED and e.certificate_id in asked
            else e
            for e in entries
        ]

    def add_third_party_request(
        self, certificate_id: str, at: str, subject_resident_code: str, request: ThirdPartyRequest
    ) -> None:
        self._third_party.add(certificate_id, at, subject_resident_code, request)

    def third_party_request(self, certificate_id: str) -> ThirdPartyRequest | None:
        return self._third_party.of([certificate_id]).get(certificate_id)

    def spoiled_numbers(self, certificate_id: str) -> tuple[str, ...]:
        r = certificate_register.c
        rows = self._conn.execute(
            sa.select(r.issue_numbers)
            .where((r.certificate_id == certificate_id) & (r.event == RegisterEvent.SPOILED.value))
            .order_by(r.entry_id)
        ).scalars()
        return tuple(n for raw in rows for n in json.loads(raw))

    def status(self, certificate_id: str, digest: str) -> CertificateStatus | None:
        c = certificates.c
        row = (
            self._conn.execute(
                sa.select(certificates).where(
                    (c.certificate_id == certificate_id) & (c.content_digest == digest)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        record = _record(row)
        content, issuance = parse_document(record.content_json)
        return CertificateStatus(
            certificate_id=record.certificate_id,
            status="void" if record.status is CertificateState.VOID else "valid",
            kind=record.kind,
            issuer_lg_code=record.lg_code,
            issuer_name=issuance.municipality,
            issued_at=record.issued_at,
            issue_numbers=record.issue_numbers,
            spoiled_issue_numbers=self.spoiled_numbers(record.certificate_id),
            names=content.names,
            voided_at=record.voided_at,
            pdf_sha256=record.pdf_sha256,
        )

    # -- wide-area requests answered here (the home municipality's side) -----------------------

    def wide_area_request_seen(self, request_id: str) -> bool:
        w = wide_area_requests.c
        found = self._conn.execute(
            sa.select(w.request_id).where(w.request_id == request_id)
        ).first()
        return found is not None

    def add_wide_area_request(self, entry: WideAreaRequestEntry) -> None:
        """Two CS workers answering the same request id at once both pass the "seen" check on
        PostgreSQL (READ COMMITTED); the later insert then meets the primary key. The insert runs
        in a savepoint so that loss leaves the transaction usable, and is reported as the replay
        it is (the id now visible) rather than as a storage failure."""
        savepoint = self._conn.begin_nested()
        try:
            self._conn.execute(wide_area_requests.insert().values(_wide_area_row(entry)))
        except sa.exc.IntegrityError:
            savepoint.rollback()
            if self.wide_area_request_seen(entry.request_id):
                raise WideAreaReplay() from None
            raise
        savepoint.commit()

    def wide_area_requests(
        self, limit: int, since: date | None = None, until: date | None = None
    ) -> Sequence[WideAreaRequestEntry]:
        w = wide_area_requests.c
        stmt = sa.select(wide_area_requests).order_by(w.at.desc(), w.request_id.desc())
        # `at` is ISO 8601 text in the municipality's offset: a day's entries sort between
        # "YYYY-MM-DD" and the next day's "YYYY-MM-DD", on every backend.
        if since is not None:
            stmt = stmt.where(w.at >= since.isoformat())
        if until is not None and until < date.max:
            stmt = stmt.where(w.at < (until + timedelta(days=1)).isoformat())
        rows = self._conn.execute(stmt.limit(limit)).mappings()
        return [_wide_area_entry(r) for r in rows]


def _wide_area_row(e: WideAreaRequestEntry) -> dict[str, Any]:
    return {
        "request_id": e.request_id,
        "at": e.at,
        "requesting_lg_code": e.requesting_lg_code,
        "requested_by": e.requested_by,
        "subject_resident_code": e.subject_resident_code,
        "members": e.members,
        "items": e.items,
        "outcome": e.outcome.value,
        "persons": e.persons,
        "rule": e.rule,
    }


def _wide_area_entry(row: Mapping[Any, Any]) -> WideAreaRequestEntry:
    return WideAreaRequestEntry(
        request_id=row["request_id"],
        at=row["at"],
        requesting_lg_code=row["requesting_lg_code"],
        requested_by=row["requested_by"],
        subject_resident_code=row["subject_resident_code"],
        members=row["members"],
        items=row["items"],
        outcome=WideAreaOutcome(row["outcome"]),
        persons=row["persons"],
        rule=row["rule"],
    )


class SqlCertificateUnitOfWork(SqlRegistryUnitOfWork):
    """The registry's unit of work plus the certificate tables, in the same transaction."""

    certificates: SqlCertificates
    self_notices: SqlSelfNotices

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.certificates = SqlCertificates(conn)
        self.self_notices = SqlSelfNotices(conn)
