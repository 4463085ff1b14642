"""The 支援措置 record in SQL, and the one question other features ask of it: who is protected
on a day (`with_protection_on`, used by the certificate snapshot)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from juki.core.errors import ConcurrentChangeError, NotFoundError
from juki.registry.model import ResidentRecord
from juki.registry.support.model import (
    RestrainedParty,
    SupportKind,
    SupportMeasure,
    SupportPeriod,
    TemporaryRelease,
    protected_records,
)
from juki.registry.tables import support_measure_persons, support_measures


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _dumps(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, sort_keys=True)


def measure_row(m: SupportMeasure) -> dict[str, Any]:
    """The measure's row (its persons are rows of `support_measure_persons`)."""
    return {
        "measure_id": m.measure_id,
        "kind": m.kind.value,
        "requested_on": m.requested_on,
        "starts_on": m.starts_on,
        "ends_on": m.ends_on,
        "terminated_on": m.terminated_on,
        "termination_reason": m.termination_reason,
        "restrained": _dumps(
            [
                {
                    "family_name": p.family_name,
                    "given_name": p.given_name,
                    "name_kana": p.name_kana,
                    "birth_date": _iso(p.birth_date),
                    "address": p.address,
                    "relation": p.relation,
                }
                for p in m.restrained
            ]
        ),
        "periods": _dumps(
            [
                {
                    "starts_on": p.starts_on.isoformat(),
                    "ends_on": p.ends_on.isoformat(),
                    "requested_on": p.requested_on.isoformat(),
                    "renewal": p.renewal,
                }
                for p in m.periods
            ]
        ),
        "releases": _dumps(
            [
                {
                    "released_from": r.released_from.isoformat(),
                    "released_until": r.released_until.isoformat(),
                    "purpose": r.purpose,
                    "requested_on": r.requested_on.isoformat(),
                }
                for r in m.releases
            ]
        ),
        "note": m.note,
        "recorded_by": m.recorded_by,
        "version": m.version,
    }


def measure_from_row(row: Mapping[Any, Any], protected: Sequence[str]) -> SupportMeasure:
    restrained = tuple(
        RestrainedParty(
            family_name=p["family_name"],
            given_name=p["given_name"],
            name_kana=p["name_kana"],
            birth_date=_day(p["birth_date"]),
            address=p["address"],
            relation=p["relation"],
        )
        for p in json.loads(row["restrained"])
    )
    periods = tuple(
        SupportPeriod(
            starts_on=date.fromisoformat(p["starts_on"]),
            ends_on=date.fromisoformat(p["ends_on"]),
            requested_on=date.fromisoformat(p["requested_on"]),
            renewal=bool(p["renewal"]),
        )
        for p in json.loads(row["periods"])
    )
    releases = tuple(
        TemporaryRelease(
            released_from=date.fromisoformat(r["released_from"]),
            released_until=date.fromisoformat(r["released_until"]),
            purpose=r["purpose"],
            requested_on=date.fromisoformat(r["requested_on"]),
        )
        for r in json.loads(row["releases"])
    )
    return SupportMeasure(
        measure_id=row["measure_id"],
        kind=SupportKind(row["kind"]),
        requested_on=row["requested_on"],
        protected=tuple(sorted(protected)),
        restrained=restrained,
        periods=periods,
        releases=releases,
        terminated_on=row["terminated_on"],
        termination_reason=row["termination_reason"],
        note=row["note"],
        recorded_by=row["recorded_by"],
        version=int(row["version"]),
    )


def measures_for_records(conn: sa.Connection, record_ids: Iterable[str]) -> list[SupportMeasure]:
    """Every measure protecting any of these records, oldest first."""
    ids = sorted(set(record_ids))
    if not ids:
        return []
    p = support_measure_persons.c
    measure_ids = sa.select(p.measure_id).where(p.record_id.in_(ids))
    return _load(conn, support_measures.c.measure_id.in_(measure_ids))


def _load(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[SupportMeasure]:
    m, p = support_measures.c, support_measure_persons.c
    rows = (
        conn.execute(sa.select(support_measures).where(where).order_by(m.starts_on, m.measure_id))
        .mappings()
        .all()
    )
    if not rows:
        return []
    persons: dict[str, list[str]] = {}
    for measure_id, record_id in conn.execute(
        sa.select(p.measure_id, p.record_id).where(
            p.measure_id.in_([r["measure_id"] for r in rows])
        )
    ):
        persons.setdefault(measure_id, []).append(record_id)
    return [measure_from_row(r, persons.get(r["measure_id"], [])) for r in rows]


def with_protection_on(
    conn: sa.Connection, records: Sequence[ResidentRecord], day: date
) -> list[ResidentRecord]:
    """The records with `support_measure` saying whether a measure protects them on `day`
    (the stored flag is only as of each record's latest change)."""
    protected = protected_records(measures_for_records(conn, (r.record_id for r in records)), day)
    return [
        r
        if r.support_measure == (r.record_id in protected)
        else dataclasses.replace(r, support_measure=r.record_id in protected)
        for r in records
    ]


class SqlSupportMeasures:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, measure_id: str) -> SupportMeasure:
        found = _load(self._conn, support_measures.c.measure_id == measure_id)
        if not found:
            raise NotFoundError("support_measure", measure_id)
        return found[0]

    def for_records(self, record_ids: Iterable[str]) -> Sequence[SupportMeasure]:
        return measures_for_records(self._conn, record_ids)

    def add(self, measure: SupportMeasure) -> None:
        self._conn.execute(support_measures.insert().values(**measure_row(measure)))
        self._conn.execute(
            support_measure_persons.insert(),
            [{"measure_id": measure.measure_id, "record_id": rid} for rid in measure.protected],
        )

    def save(self, measure: SupportMeasure) -> None:
        """Write the measure if it is still at the version it was read at (one less)."""
        m = support_measures.c
        done = self._conn.execute(
            support_measures.update()
            .where((m.measure_id == measure.measure_id) & (m.version == measure.version - 1))
            .values(**measure_row(measure))
        )
        if done.rowcount != 1:
            raise ConcurrentChangeError(
                f"support measure {measure.measure_id} changed concurrently"
            )
