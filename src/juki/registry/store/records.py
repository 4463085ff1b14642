"""The registry's records, households and change history in SQL."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from juki.core.clock import JST
from juki.core.errors import ConcurrentChangeError, NotFoundError
from juki.core.text import normalize_kana
from juki.registry.model import (
    ChangeReason,
    Household,
    HouseholdStatus,
    RecordChange,
    RecordedChange,
    RecordStatus,
    Relationship,
    ResidentRecord,
    decode_fields,
    encode_fields,
    record_from_row,
    record_to_row,
)
from juki.registry.ports import SearchQuery
from juki.registry.standing import PLANNED_REMOVALS, as_of
from juki.registry.store.codes import RESIDENT_CODE, draw_resident_code, retire_code
from juki.registry.tables import households, record_changes, resident_records

__all__ = ["RESIDENT_CODE", "SqlRegistry", "change_row", "household_row", "name_kana_key"]


def name_kana_key(family_kana: str, given_kana: str) -> str:
    return normalize_kana(family_kana + given_kana)


def _row_for(record: ResidentRecord, version: int) -> dict[str, Any]:
    row = record_to_row(record)
    row["name_kana_key"] = name_kana_key(record.family_name_kana, record.given_name_kana)
    row["version"] = version
    return row


def change_row(
    record_id: str,
    seq: int,
    change: RecordChange,
    actor_id: str,
    at: datetime,
    approved_by: str | None = None,
) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "seq": seq,
        "reason": change.reason.value,
        "effective_on": change.effective_on,
        "notified_on": change.notified_on,
        "fields": json.dumps(encode_fields(change.fields), ensure_ascii=False, sort_keys=True),
        "note": change.note,
        "actor_id": actor_id,
        "recorded_at": at.isoformat(),
        "approved_by": approved_by,
    }


def household_from_row(row: Mapping[Any, Any]) -> Household:
    return Household(
        household_id=row["household_id"],
        lg_code=row["lg_code"],
        address=row["address"],
        formed_on=row["formed_on"],
        status=HouseholdStatus(row["status"]),
        dissolved_on=row["dissolved_on"],
    )


def household_row(h: Household) -> dict[str, Any]:
    return {
        "household_id": h.household_id,
        "lg_code": h.lg_code,
        "address": h.address,
        "formed_on": h.formed_on,
        "status": h.status.value,
        "dissolved_on": h.dissolved_on,
    }


_HOUSEHOLDER_FIRST = sa.case(
    (resident_records.c.relationship == Relationship.HOUSEHOLDER.value, 0), else_=1
)


class SqlRegistry:
    """Records as one transaction reads and writes them.

    A change applies only to the version of the record the transaction first read (ADR 0001):
    every read remembers each record's version, and `append_change` updates the row only if it
    is still at that version. Without this, on PostgreSQL's READ COMMITTED a change computed
    from a record read before another transaction's commit would silently put back the other
    change's fields.
    """

    def __init__(self, conn: sa.Connection, now: Any, rng: random.Random | None = None) -> None:
        self._conn = conn
        self._now = now
        self._rng = rng or random.SystemRandom()
        self._read_versions: dict[str, int] = {}

    def _loaded(self, row: Mapping[Any, Any]) -> ResidentRecord:
        self._read_versions.setdefault(row["record_id"], int(row["version"]))
        return record_from_row(row)

    def get(self, record_id: str) -> ResidentRecord:
        row = (
            self._conn.execute(
                sa.select(resident_records).where(resident_records.c.record_id == record_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError("resident_record", record_id)
        return self._loaded(row)

    def _records(self, where: sa.ColumnElement[bool]) -> list[ResidentRecord]:
        rows = self._conn.execute(
            sa.select(resident_records)
            .where(where)
            .order_by(
                _HOUSEHOLDER_FIRST, resident_records.c.birth_date, resident_records.c.record_id
            )
        ).mappings()
        return [self._loaded(r) for r in rows]

    def find_by_resident_code(self, resident_code: str) -> Sequence[ResidentRecord]:
        return self._records(resident_records.c.resident_code == resident_code)

    def find_by_my_number(self, my_number: str) -> Sequence[ResidentRecord]:
        return self._records(resident_records.c.my_number == my_number)

    def members(self, household_id: str) -> Sequence[ResidentRecord]:
        return self._records(
            (resident_records.c.household_id == household_id)
            & (resident_records.c.status == RecordStatus.ACTIVE.value)
        )

    def get_household(self, household_id: str) -> Household:
        row = (
            self._conn.execute(
                sa.select(households).where(households.c.household_id == household_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError("household", household_id)
        return household_from_row(row)

    def add_household(self, household: Household) -> None:
        self._conn.execute(households.insert().values(household_row(household)))

    def save_household(self, household: Household) -> None:
        self._conn.execute(
            households.update()
            .where(households.c.household_id == household.household_id)
            .values(household_row(household))
        )

    def add_record(
        self,
        record: ResidentRecord,
        change: RecordChange,
        actor_id: str,
        approved_by: str | None = None,
    ) -> None:
        try:
            self._conn.execute(resident_records.insert().values(_row_for(record, 1)))
        except sa.exc.IntegrityError as exc:
            # Two counters racing for the same resident code: the loser retries and is refused.
            raise ConcurrentChangeError(
                f"resident code {record.resident_code} was recorded concurrently"
            ) from exc
        self._read_versions[record.record_id] = 1
        self._conn.execute(
            record_changes.insert().values(
                change_row(record.record_id, 1, change, actor_id, self._now(), approved_by)
            )
        )

    def append_change(
        self,
        after: ResidentRecord,
        change: RecordChange,
        actor_id: str,
        approved_by: str | None = None,
    ) -> int:
        version = self._read_versions.get(after.record_id)
        if version is None:
            raise RuntimeError(f"record {after.record_id} changed without being read first")
        updated = self._conn.execute(
            resident_records.update()
            .where(
                (resident_records.c.record_id == after.record_id)
                & (resident_records.c.version == version)
            )
            .values(_row_for(after, version + 1))
        )
        if updated.rowcount != 1:
            raise ConcurrentChangeError(f"record {after.record_id} changed concurrently")
        self._read_versions[after.record_id] = version + 1
        self._conn.execute(
            record_changes.insert().values(
                change_row(after.record_id, version + 1, change, actor_id, self._now(), approved_by)
            )
        )
        return version + 1

    def history(self, record_id: str) -> Sequence[RecordedChange]:
        rows = self._conn.execute(
            sa.select(record_changes)
            .where(record_changes.c.record_id == record_id)
            .order_by(record_changes.c.seq)
        ).mappings()
        return [
            RecordedChange(
                record_id=r["record_id"],
                seq=r["seq"],
                change=RecordChange(
                    reason=ChangeReason(r["reason"]),
                    effective_on=r["effective_on"],
                    notified_on=r["notified_on"],
                    fields=decode_fields(json.loads(r["fields"])),
                    note=r["note"],
                ),
                actor_id=r["actor_id"],
                recorded_at=r["recorded_at"],
                approved_by=r["approved_by"],
            )
            for r in rows
        ]

    def search(self, query: SearchQuery) -> Sequence[ResidentRecord]:
        """Residents as they stand today (ADR 0005): one pending a move-out is still found."""
        c = resident_records.c
        day = self._now().astimezone(JST).date()
        conds: list[sa.ColumnElement[bool]] = []
        if not query.include_removed:
            conds.append(
                (c.status == RecordStatus.ACTIVE.value)
                | (
                    c.removal_reason.in_([r.value for r in PLANNED_REMOVALS])
                    & (c.removed_on > day)
                    & c.move_out_confirmed_on.is_(None)
                )
            )
        if query.name_kana:
            conds.append(
                c.name_kana_key.startswith(normalize_kana(query.name_kana), autoescape=True)
            )
        if query.name:
            name = query.name.replace(" ", "").replace("\u3000", "")
            full: sa.ColumnElement[str] = c.family_name + c.given_name
            if name.isascii():
                # "nguyen" finds NGUYEN. Only for an ASCII query: SQLite's lower() folds ASCII
                # alone and PostgreSQL's folds more, but an ASCII prefix matches the same
                # rows under either.
                full, name = sa.func.lower(full), name.lower()
            conds.append(full.startswith(name, autoescape=True))
        if query.birth_date:
            conds.append(c.birth_date == query.birth_date)
        if query.resident_code:
            conds.append(c.resident_code == query.resident_code)
        rows = self._conn.execute(
            sa.select(resident_records)
            .where(sa.and_(*conds))
            .order_by(c.name_kana_key, c.birth_date, c.record_id)
            .limit(max(1, min(query.limit, 500)))
        ).mappings()
        return [as_of(self._loaded(r), day) for r in rows]

    def stats(self) -> Mapping[str, int]:
        c = resident_records.c
        active = c.status == RecordStatus.ACTIVE.value

        def count(where: sa.ColumnElement[bool]) -> int:
            return int(
                self._conn.execute(
                    sa.select(sa.func.count()).select_from(resident_records).where(where)
                ).scalar_one()
            )

        hh = int(
            self._conn.execute(
                sa.select(sa.func.count())
                .select_from(households)
                .where(households.c.status == HouseholdStatus.ACTIVE.value)
            ).scalar_one()
        )
        return {
            "residents": count(active),
            "households": hh,
            "foreign_residents": count(active & c.is_foreign.is_(True)),
            "removed_records": count(c.status == RecordStatus.REMOVED.value),
            "male": count(active & (c.sex == "male")),
            "female": count(active & (c.sex == "female")),
            "without_my_number": count(active & c.my_number.is_(None)),
        }

    def allot_resident_code(self) -> str:
        """A random code from the pool national allotted, or drawn here (ADR 0006)."""
        return draw_resident_code(self._conn, self._rng)

    def retire_resident_code(self, code: str, successor: str, record_id: str) -> None:
        """住民票コードの変更請求: the old code is never handed out again."""
        retire_code(
            self._conn, code, successor=successor, record_id=record_id, now=self._now().isoformat()
        )
