"""Provision at a node (national, or a prefecture for its own municipalities): the SQL side of
`juki.provision.provide` — the node's identity_info read set-based, in chunks — and the entry
point every caller uses (the HTTP route, the simulator's agencies, `python -m bench provision`):

    provide_batch(engine, agency_id, task_ref, purpose, requests, clock=…) -> ProvisionResult

It runs the whole request in one transaction: lookups, one `provision_records` row per lookup,
one oplog entry. Lookups by 住民票コード read `identity_copies` by code (`IN`, 500 at a time);
by the four items, by (reading key, birth date) pairs; `as_of` reads the change history
(`identity_changes`), whose bodies are the identity_info messages as the node applied them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, Final, TypeVar

import sqlalchemy as sa

from juki.core.clock import Clock
from juki.core.ports import IdSource
from juki.nodes.tables import identity_changes, identity_copies
from juki.provision.answers import IdentityFound
from juki.provision.provide import ProvisionResult, agency_actor, provide
from juki.provision.requests import LookupRequest
from juki.provision.store import SqlProvisionRecords, SqlProvisionUnitOfWork

CHUNK: Final = 500
T = TypeVar("T")
ic, ich = identity_copies.c, identity_changes.c
FIELDS: Final = tuple(f for f in IdentityFound.__dataclass_fields__ if f != "order")
_COLUMNS: Final = [ic[f] for f in FIELDS]


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _found(values: dict[str, Any], order: int = 0) -> IdentityFound:
    data: dict[str, Any] = {f: values.get(f) for f in FIELDS}
    for day in ("birth_date", "changed_on"):
        if isinstance(data[day], str):
            data[day] = date.fromisoformat(str(data[day]))
    return IdentityFound(**data, order=order)


class SqlIdentitySource:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def by_codes(self, codes: Sequence[str]) -> dict[str, list[IdentityFound]]:
        out: defaultdict[str, list[IdentityFound]] = defaultdict(list)
        for part in _chunks(codes):
            rows = self._conn.execute(
                sa.select(*_COLUMNS).where(ic.resident_code.in_(part))
            ).mappings()
            for r in rows:
                out[r["resident_code"]].append(_found(dict(r)))
        return out

    def histories(self, codes: Sequence[str]) -> dict[str, list[IdentityFound]]:
        out: defaultdict[str, list[IdentityFound]] = defaultdict(list)
        for part in _chunks(codes):
            rows = self._conn.execute(
                sa.select(ich.change_id, ich.resident_code, ich.body)
                .where(ich.resident_code.in_(part))
                .order_by(ich.change_id)
            )
            for change_id, code, body in rows:
                out[code].append(_found(json.loads(body), int(change_id)))
        return out

    def by_reading(
        self, keys: Sequence[tuple[str, date | None]]
    ) -> dict[tuple[str, date | None], list[IdentityFound]]:
        out: defaultdict[tuple[str, date | None], list[IdentityFound]] = defaultdict(list)
        for part in _chunks(keys):
            rows = self._conn.execute(
                sa.select(ic.name_kana_key, *_COLUMNS).where(
                    sa.tuple_(ic.name_kana_key, ic.birth_date).in_(list(part))
                    & (ic.status == "active")
                )
            ).mappings()
            for r in rows:
                values = dict(r)
                found = _found(values)
                out[(values["name_kana_key"], found.birth_date)].append(found)
        return out


class SqlProvideUnitOfWork(SqlProvisionUnitOfWork):
    identities: SqlIdentitySource
    provisions: SqlProvisionRecords

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.identities = SqlIdentitySource(conn)
        self.provisions = SqlProvisionRecords(conn, self.clock)


def provide_batch(
    engine: sa.Engine,
    agency_id: str,
    task_ref: str,
    purpose: str,
    requests: Sequence[LookupRequest],
    *,
    clock: Clock | None = None,
    bad_lines: int = 0,
    ids: IdSource | None = None,
) -> ProvisionResult:
    """Answer an authenticated agency's lookups at the node whose database `engine` is: judged
    by the node's register on the clock's day, every lookup recorded and the request in the
    oplog, in one transaction (`juki.provision.provide.provide`). `requests` come from
    `juki.provision.requests.parse_lines`; `bad_lines` is how many lines it refused; `ids`
    draws the request id (the simulator passes a seeded source)."""
    uow = SqlProvideUnitOfWork(engine, clock=clock, ids=ids)
    return provide(uow, agency_actor(agency_id), task_ref, purpose, requests, bad_lines=bad_lines)
