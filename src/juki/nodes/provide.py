"""Provision at a node (national, or a prefecture for its own municipalities): the SQL side of
`juki.provision.provide` — the node's identity_info read set-based, in chunks — and the entry
point every caller uses (the HTTP route, the simulator's agencies, `python -m bench provision`):

    provide_batch(engine, agency_id, task_ref, purpose, requests, clock=…) -> ProvisionResult

It runs the whole request in one transaction: lookups, one `provision_records` row per lookup,
one oplog entry. Lookups by 住民票コード read `identity_copies` by code (500 at a time; on
PostgreSQL one prepared statement on the driver's cursor, `storage.driver_query`, whatever the
number); by the four items, by (reading key, birth date) pairs (one pair: a prepared
equality); `as_of` reads the change history (`identity_changes`), whose bodies are the
identity_info messages as the node applied them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from juki.core.clock import Clock
from juki.core.ports import IdSource
from juki.nodes.tables import identity_changes, identity_copies
from juki.provision.answers import IdentityFound
from juki.provision.provide import ProvisionResult, agency_actor, provide
from juki.provision.requests import LookupRequest
from juki.provision.store import SqlProvisionRecords, SqlProvisionUnitOfWork
from juki.storage.driver_query import DriverQuery

CHUNK: Final = 500
T = TypeVar("T")
ic, ich = identity_copies.c, identity_changes.c
FIELDS: Final = tuple(f for f in IdentityFound.__dataclass_fields__ if f != "order")
_COLUMNS: Final = [ic[f] for f in FIELDS]
# On PostgreSQL a lookup is one prepared statement whatever the number of codes or readings:
# an array parameter instead of an IN list whose length changes the SQL (bench national).
_CODES: Final = sa.bindparam("codes", type_=postgresql.ARRAY(sa.String))
_BY_CODES: Final = DriverQuery(sa.select(*_COLUMNS).where(ic.resident_code == sa.any_(_CODES)))
_BY_CODE: Final = DriverQuery(sa.select(*_COLUMNS).where(ic.resident_code == sa.bindparam("code")))
# One reading and birth date: the index's two columns by equality. (An array of pairs joined
# through unnest was planned as scans of every partition of a partitioned index: batches of
# readings keep the IN list of pairs.)
_BY_READING: Final = DriverQuery(
    sa.select(ic.name_kana_key, *_COLUMNS).where(
        (ic.name_kana_key == sa.bindparam("key"))
        & (ic.birth_date == sa.bindparam("day", type_=sa.Date))
        & (ic.status == "active")
    )
)


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
        self._driver = conn.dialect.name == "postgresql"

    def by_codes(self, codes: Sequence[str]) -> dict[str, list[IdentityFound]]:
        out: defaultdict[str, list[IdentityFound]] = defaultdict(list)
        for part in _chunks(codes):
            for found in self._rows_by_codes(part):
                out[found.resident_code].append(found)
        return out

    def _rows_by_codes(self, codes: Sequence[str]) -> Iterator[IdentityFound]:
        if self._driver:
            found = (
                _BY_CODE.rows(self._conn, {"code": codes[0]})
                if len(codes) == 1
                else _BY_CODES.rows(self._conn, {"codes": list(codes)})
            )
            for row in found:
                yield _found(dict(zip(FIELDS, row, strict=True)))
            return
        rows = self._conn.execute(sa.select(*_COLUMNS).where(ic.resident_code.in_(codes)))
        for r in rows.mappings():
            yield _found(dict(r))

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
            for key, found in self._rows_by_reading(part):
                out[(key, found.birth_date)].append(found)
        return out

    def _rows_by_reading(
        self, keys: Sequence[tuple[str, date | None]]
    ) -> Iterator[tuple[str, IdentityFound]]:
        if self._driver and len(keys) == 1:
            params = {"key": keys[0][0], "day": keys[0][1]}
            for key, *row in _BY_READING.rows(self._conn, params):
                yield key, _found(dict(zip(FIELDS, row, strict=True)))
            return
        rows = self._conn.execute(
            sa.select(ic.name_kana_key, *_COLUMNS).where(
                sa.tuple_(ic.name_kana_key, ic.birth_date).in_(list(keys)) & (ic.status == "active")
            )
        )
        for r in rows.mappings():
            values = dict(r)
            yield values["name_kana_key"], _found(values)


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
