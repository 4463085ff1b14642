"""Provision at a node (national, or a prefecture for its own municipalities): the SQL side of
`juki.provision.provide` — the node's identity_info read set-based, in chunks — and the entry
point every caller uses (the HTTP route, the simulator's agencies, `python -m bench provision`):

    provide_batch(engine, agency_id, task_ref, purpose, requests, clock=…) -> ProvisionResult

It runs the whole request in one transaction: lookups, one `provision_records` row per lookup,
one oplog entry. Lookups by 住民票コード read `identity_copies` by code (500 at a time; on
PostgreSQL one prepared statement on the driver's cursor, `storage.driver_query`, whatever the
number); by the four items, by (reading key, birth date) pairs (one pair: a prepared
equality); `as_of` reads the change history (`identity_changes`), whose bodies are the
identity_info messages as the node applied them; by the four items with `as_of`, the history's
(reading, birth date) columns find who had them. A lookup by the four items identity_info finds
no one for is asked again of the 附票連携's copies (`fuhyo_identity_copies`,
`fuhyo_identity_changes`): a person who moved abroad is there — answered only as
住基法30条の44の6 allows (`juki.provision.answers`: never by or with the 住民票コード).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from juki.core.clock import Clock
from juki.core.ports import IdSource
from juki.nodes.tables import (
    fuhyo_identity_changes,
    fuhyo_identity_copies,
    identity_changes,
    identity_copies,
)
from juki.provision.answers import IdentityFound, Source
from juki.provision.provide import ProvisionResult, agency_actor, provide
from juki.provision.requests import LookupRequest
from juki.provision.store import SqlProvisionRecords, SqlProvisionUnitOfWork
from juki.storage.driver_query import DriverQuery
from juki.storage.standby import Standby

CHUNK: Final = 500
T = TypeVar("T")
Key = tuple[str, date | None]
ic, ich = identity_copies.c, identity_changes.c
fc, fch = fuhyo_identity_copies.c, fuhyo_identity_changes.c
_NOT_COLUMNS: Final = ("order", "source", "moved_abroad", "abroad_country")
FIELDS: Final = tuple(f for f in IdentityFound.__dataclass_fields__ if f not in _NOT_COLUMNS)
_COLUMNS: Final = [ic[f] for f in FIELDS]
# 附票本人確認情報 has no 個人番号, 旧氏 or 通称: those stay None in what it finds.
FUHYO_FIELDS: Final = (*(f for f in FIELDS if f in fc), "moved_abroad", "abroad_country")
_FUHYO_COLUMNS: Final = [fc[f] for f in FUHYO_FIELDS]
# On PostgreSQL an identity_info lookup is one prepared statement whatever the number of codes:
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


def _found(
    values: Mapping[Any, Any], order: int = 0, source: Source = Source.IDENTITY
) -> IdentityFound:
    names = FIELDS if source is Source.IDENTITY else FUHYO_FIELDS
    data: dict[str, Any] = {f: values.get(f) for f in names}
    for day in ("birth_date", "changed_on"):
        if isinstance(data[day], str):
            data[day] = date.fromisoformat(str(data[day]))
    if source is Source.FUHYO:
        data["moved_abroad"] = bool(data["moved_abroad"])
        data["my_number"] = None
    return IdentityFound(**data, order=order, source=source)


class _Tables:
    """The copies and the change history one source reads (identity_info, or the 附票's)."""

    def __init__(
        self, copies: sa.Table, changes: sa.Table, columns: list[Any], source: Source
    ) -> None:
        self.copies, self.changes, self.columns, self.source = copies, changes, columns, source


_IDENTITY: Final = _Tables(identity_copies, identity_changes, _COLUMNS, Source.IDENTITY)
_FUHYO: Final = _Tables(fuhyo_identity_copies, fuhyo_identity_changes, _FUHYO_COLUMNS, Source.FUHYO)


class SqlIdentitySource:
    """A node's identity_info (`identity_copies`, `identity_changes`), or with `fuhyo=True`
    its 附票本人確認情報 (`fuhyo_identity_copies`, `fuhyo_identity_changes`), read for
    provision in chunks. The 附票 answers only for a person who moved abroad (`reachable`)."""

    def __init__(self, conn: sa.Connection, *, fuhyo: bool = False) -> None:
        self._conn = conn
        self._t = _FUHYO if fuhyo else _IDENTITY
        # identity_info on PostgreSQL: the prepared statements above, on the driver's cursor
        self._driver = not fuhyo and conn.dialect.name == "postgresql"

    def _reachable(self) -> sa.ColumnElement[bool]:
        c = self._t.copies.c
        return c.moved_abroad.is_(True) if self._t is _FUHYO else c.status == "active"

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
        c = self._t.copies.c
        rows = self._conn.execute(sa.select(*self._t.columns).where(c.resident_code.in_(codes)))
        for r in rows.mappings():
            yield _found(dict(r), source=self._t.source)

    def histories(self, codes: Sequence[str]) -> dict[str, list[IdentityFound]]:
        out: defaultdict[str, list[IdentityFound]] = defaultdict(list)
        h = self._t.changes.c
        for part in _chunks(codes):
            rows = self._conn.execute(
                sa.select(h.change_id, h.resident_code, h.body)
                .where(h.resident_code.in_(part))
                .order_by(h.change_id)
            )
            for change_id, code, body in rows:
                out[code].append(_found(json.loads(body), int(change_id), self._t.source))
        return out

    def by_reading(self, keys: Sequence[Key]) -> dict[Key, list[IdentityFound]]:
        out: defaultdict[Key, list[IdentityFound]] = defaultdict(list)
        for part in _chunks(keys):
            for key, found in self._rows_by_reading(part):
                out[(key, found.birth_date)].append(found)
        return out

    def _rows_by_reading(self, keys: Sequence[Key]) -> Iterator[tuple[str, IdentityFound]]:
        if self._driver and len(keys) == 1:
            params = {"key": keys[0][0], "day": keys[0][1]}
            for key, *row in _BY_READING.rows(self._conn, params):
                yield key, _found(dict(zip(FIELDS, row, strict=True)))
            return
        c = self._t.copies.c
        rows = self._conn.execute(
            sa.select(c.name_kana_key, *self._t.columns).where(
                sa.tuple_(c.name_kana_key, c.birth_date).in_(list(keys)) & self._reachable()
            )
        )
        for r in rows.mappings():
            values = dict(r)
            yield values["name_kana_key"], _found(values, source=self._t.source)

    def histories_by_reading(self, keys: Sequence[Key]) -> dict[Key, list[IdentityFound]]:
        """Who had each (reading, birth date) in some version (the history's own index on
        them, migration 0031), then their whole histories."""
        h = self._t.changes.c
        who: defaultdict[Key, set[str]] = defaultdict(set)
        for part in _chunks(keys):
            rows = self._conn.execute(
                sa.select(h.name_kana_key, h.birth_date, h.resident_code)
                .where(sa.tuple_(h.name_kana_key, h.birth_date).in_(list(part)))
                .distinct()
            )
            for key, born, code in rows:
                day = date.fromisoformat(born) if isinstance(born, str) else born
                who[(key, day)].add(code)
        histories = self.histories(sorted(set().union(*who.values())))
        return {
            k: [v for code in sorted(codes) for v in histories[code]] for k, codes in who.items()
        }


class SqlProvideUnitOfWork(SqlProvisionUnitOfWork):
    """With a `standby`, identity_info and the 附票's copies are read on it once it has
    replayed what the primary held when the first lookup is read (`juki.storage.standby`); the
    register, the records and the oplog stay on the primary, in the request's transaction. A
    request refused as a whole reads nothing, and waits for no standby."""

    provisions: SqlProvisionRecords
    read_on: str = ""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Clock | None = None,
        ids: IdSource | None = None,
        standby: Standby | None = None,
    ) -> None:
        super().__init__(engine, clock=clock, ids=ids)
        self._standby = standby
        self._reads: tuple[SqlIdentitySource, SqlIdentitySource] | None = None
        self._standby_conn: sa.Connection | None = None

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self._reads = None
        self.read_on = ""
        self.provisions = SqlProvisionRecords(conn, self.clock)

    def _sources(self) -> tuple[SqlIdentitySource, SqlIdentitySource]:
        if self._reads is None:
            reads = self.connection
            if self._standby is not None:
                on = self._standby.caught_up(reads)
                self.read_on = on.describe()
                if on.connection is not None:
                    reads = self._standby_conn = on.connection
            self._reads = (SqlIdentitySource(reads), SqlIdentitySource(reads, fuhyo=True))
        return self._reads

    @property
    def identities(self) -> SqlIdentitySource:
        return self._sources()[0]

    @property
    def abroad(self) -> SqlIdentitySource:
        """The 附票本人確認情報 (people abroad), read where identity_info is."""
        return self._sources()[1]

    def _unbind(self) -> None:
        self._reads = None
        if self._standby_conn is not None:
            self._standby_conn.close()
            self._standby_conn = None


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
    standby: Standby | None = None,
) -> ProvisionResult:
    """Answer an authenticated agency's lookups at the node whose database `engine` is: judged
    by the node's register on the clock's day, every lookup recorded and the request in the
    oplog, in one transaction (`juki.provision.provide.provide`). `requests` come from
    `juki.provision.requests.parse_lines`; `bad_lines` is how many lines it refused; `ids`
    draws the request id (the simulator passes a seeded source); `standby`, a hot standby the
    lookups are read on when it has caught up (the oplog entry says where they were read)."""
    uow = SqlProvideUnitOfWork(engine, clock=clock, ids=ids, standby=standby)
    return provide(uow, agency_actor(agency_id), task_ref, purpose, requests, bad_lines=bad_lines)
