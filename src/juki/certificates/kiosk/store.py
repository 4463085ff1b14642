"""The kiosk's SQL: settings, the request register, and the one read a certificate is built from.

The read (`SqlKioskReader`) runs in a transaction of its own, before the certificate is
recorded: on PostgreSQL at REPEATABLE READ and READ ONLY, so every statement of it — the
holder's records, the household, the seal, the support measures, the 附票 and the settings —
sees one snapshot, without row locks; on SQLite under BEGIN IMMEDIATE, which no writer can
interleave with. A record update committed while the certificate is being issued is then
either wholly in it (committed before the read) or wholly absent (after): never half.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from juki.certificates.kiosk.model import (
    DEFAULT_SETTINGS,
    KioskRefused,
    KioskSettings,
    RefusalCode,
    settings_from_json,
    settings_to_json,
)
from juki.certificates.kiosk.ports import Gate, KioskRead, KioskRequestEntry
from juki.certificates.kiosk.tables import kiosk_requests, kiosk_settings
from juki.certificates.model import CertificateKind
from juki.certificates.store import SqlCertificates, SqlCertificateUnitOfWork
from juki.registry.store.municipality import load_municipality


def replay() -> KioskRefused:
    return KioskRefused(RefusalCode.REPLAY, "replay", "this request id was used before")


def _entry(row: Mapping[Any, Any]) -> KioskRequestEntry:
    return KioskRequestEntry(
        request_id=row["request_id"],
        card_serial=row["card_serial"],
        at=row["at"],
        subject_resident_code=row["subject_resident_code"],
        kind=None if row["kind"] is None else CertificateKind(row["kind"]),
        outcome=row["outcome"],
        code=row["code"],
        rule=row["rule"],
        certificate_id=row["certificate_id"],
    )


class SqlKiosk:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def settings(self, lg_code: str) -> KioskSettings | None:
        k = kiosk_settings.c
        text = self._conn.execute(
            sa.select(k.settings).where(k.lg_code == lg_code)
        ).scalar_one_or_none()
        return None if text is None else settings_from_json(text)

    def save_settings(self, lg_code: str, settings: KioskSettings, at: str, by: str) -> None:
        k = kiosk_settings.c
        values = {"settings": settings_to_json(settings), "updated_at": at, "updated_by": by}
        updated = self._conn.execute(
            kiosk_settings.update().where(k.lg_code == lg_code).values(**values)
        )
        if updated.rowcount == 0:
            self._conn.execute(kiosk_settings.insert().values(lg_code=lg_code, **values))

    def request(self, request_id: str) -> KioskRequestEntry | None:
        r = kiosk_requests.c
        row = (
            self._conn.execute(sa.select(kiosk_requests).where(r.request_id == request_id))
            .mappings()
            .first()
        )
        return None if row is None else _entry(row)

    def add_request(self, entry: KioskRequestEntry) -> None:
        """Two relays racing with one request id both pass a "seen" check on PostgreSQL; the
        later insert meets the primary key inside a savepoint and is refused as a replay."""
        savepoint = self._conn.begin_nested()
        try:
            self._conn.execute(
                kiosk_requests.insert().values(
                    request_id=entry.request_id,
                    card_serial=entry.card_serial,
                    at=entry.at,
                    subject_resident_code=entry.subject_resident_code,
                    kind=None if entry.kind is None else entry.kind.value,
                    outcome=entry.outcome,
                    code=entry.code,
                    rule=entry.rule,
                    certificate_id=entry.certificate_id,
                )
            )
        except sa.exc.IntegrityError:
            savepoint.rollback()
            if self.request(entry.request_id) is not None:
                raise replay() from None
            raise
        savepoint.commit()


class SqlKioskUnitOfWork(SqlCertificateUnitOfWork):
    """The certificates' unit of work plus the kiosk's tables, in the same transaction."""

    kiosk: SqlKiosk

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.kiosk = SqlKiosk(conn)


class SqlKioskReader:
    """One read transaction per request (see the module's docstring)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def _connect(self) -> sa.Connection:
        conn = self.engine.connect()
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        return conn

    def read(
        self,
        holder_resident_code: str,
        kind: CertificateKind,
        request_id: str,
        read_at: datetime,
        gate: Gate,
    ) -> KioskRead:
        with self._connect() as conn, conn.begin():
            municipality = load_municipality(conn)
            kiosk = SqlKiosk(conn)
            settings = kiosk.settings(municipality.lg_code) or DEFAULT_SETTINGS
            seen = kiosk.request(request_id) is not None
            gate(settings, seen)
            store = SqlCertificates(conn)
            snapshot = store.snapshot(
                holder_resident_code,
                removed=False,
                with_seal=kind is CertificateKind.SEAL,
                municipality=municipality,
                read_at=read_at,
                lock=False,
            )
            fuhyo = None
            if kind is CertificateKind.FUHYO:
                fuhyo = store.fuhyo_snapshot(
                    holder_resident_code, municipality=municipality, read_at=read_at, lock=False
                )
            return KioskRead(
                settings=settings,
                seen=seen,
                snapshot=snapshot,
                fuhyo=fuhyo,
            )
