"""Seal registrations (印鑑登録) in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from juki.core.errors import ConcurrentChangeError, NotFoundError
from juki.registry.seal import SealRegistration, SealStatus
from juki.registry.tables import seal_registrations
from juki.storage.counters import next_counter
from juki.storage.errors import is_unique_violation

SEAL_COUNTER = "seal_registration"


def seal_from_row(row: Mapping[Any, Any]) -> SealRegistration:
    return SealRegistration(
        registration_number=row["registration_number"],
        record_id=row["record_id"],
        image_png=bytes(row["image_png"]),
        image_sha256=row["image_sha256"],
        registered_on=row["registered_on"],
        status=SealStatus(row["status"]),
        abolished_on=row["abolished_on"],
        abolish_reason=row["abolish_reason"],
    )


def _row(s: SealRegistration) -> dict[str, Any]:
    return {
        "registration_number": s.registration_number,
        "record_id": s.record_id,
        "image_png": s.image_png,
        "image_sha256": s.image_sha256,
        "registered_on": s.registered_on,
        "status": s.status.value,
        "abolished_on": s.abolished_on,
        "abolish_reason": s.abolish_reason,
    }


class SqlSeals:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def live_for(self, record_id: str) -> SealRegistration | None:
        row = (
            self._conn.execute(
                sa.select(seal_registrations).where(
                    (seal_registrations.c.record_id == record_id)
                    & (seal_registrations.c.status == SealStatus.LIVE.value)
                )
            )
            .mappings()
            .first()
        )
        return seal_from_row(row) if row else None

    def get(self, registration_number: str) -> SealRegistration:
        row = (
            self._conn.execute(
                sa.select(seal_registrations).where(
                    seal_registrations.c.registration_number == registration_number
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError("seal_registration", registration_number)
        return seal_from_row(row)

    def add(self, registration: SealRegistration) -> None:
        try:
            self._conn.execute(seal_registrations.insert().values(_row(registration)))
        except sa.exc.IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            # The service saw no live seal, but a concurrent registration committed one first.
            raise ConcurrentChangeError(
                f"a seal of record {registration.record_id} was registered concurrently"
            ) from exc

    def save(self, registration: SealRegistration) -> None:
        self._conn.execute(
            seal_registrations.update()
            .where(seal_registrations.c.registration_number == registration.registration_number)
            .values(_row(registration))
        )

    def next_number(self) -> str:
        return f"{next_counter(self._conn, SEAL_COUNTER):08d}"
