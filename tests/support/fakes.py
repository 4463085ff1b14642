"""An in-memory registry unit of work, so the registry's services run without a database.

The services are rules over a few reads and writes; running each scenario through SQL costs a
migrated database per test. These repositories answer the SQL stores' queries in Python over
the in-memory tables of `support.fakedb`, whose rows are the SQL tables' rows, written and read
back by the SQL stores' own row mappers (`record_to_row`, `change_row`, `outbox_row`, …). What
the services depend on is mirrored, not approximated: READ COMMITTED transactions that publish
on `commit()` and leave nothing behind otherwise, the record version a change applies to, the
order of members and of search hits, the allotment of resident codes, gap-free seal numbers,
`NotFoundError` where SQL raises it, and the tables' constraints.

`FakeDatabase` is the shared state (one per test); `FakeRegistryUnitOfWork` is one action's
transaction over it. `tests/integration/registry/test_repository_contract.py` runs the same
cases against this fake and the SQL unit of work on SQLite and PostgreSQL, so it cannot drift.
"""

from __future__ import annotations

import itertools
import json
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

import sqlalchemy as sa

from juki.core.clock import JST, Clock, SystemClock
from juki.core.errors import ConcurrentChangeError, DomainRuleError, NotFoundError
from juki.core.identifiers import ResidentCode
from juki.core.ports import IdSource, OpLogEntry
from juki.core.text import normalize_kana
from juki.network.messages import FuhyoNotice, MoveOutCertificateInfo
from juki.registry.codes import MAX_DRAWS, random_code
from juki.registry.events import RegistryEvent
from juki.registry.model import (
    ChangeReason,
    Household,
    HouseholdStatus,
    Municipality,
    RecordChange,
    RecordedChange,
    RecordStatus,
    Relationship,
    ResidentRecord,
    decode_fields,
    record_from_row,
    record_to_row,
)
from juki.registry.ports import SearchQuery
from juki.registry.seal import SealRegistration, SealStatus
from juki.registry.standing import PLANNED_REMOVALS, as_of
from juki.registry.store.codes import NATIONAL, exhausted
from juki.registry.store.journal import outbox_row
from juki.registry.store.records import (
    RESIDENT_CODE,
    change_row,
    household_from_row,
    household_row,
    name_kana_key,
)
from juki.registry.store.seals import SEAL_COUNTER, seal_from_row
from juki.registry.support.model import SupportMeasure
from juki.registry.support.store import measure_from_row, measure_row
from juki.security.chain import GENESIS, link
from juki.security.store import oplog_row
from juki.storage.errors import is_unique_violation
from juki.storage.uow import RandomIds
from support.fakedb import FakeConnection, FakeTables, Row

if TYPE_CHECKING:
    from juki.registry.ports import RegistryUnitOfWork


class FakeDatabase(FakeTables):
    """One registry's state, shared by every unit of work of a test as a database is by
    every connection. The set-up a node does outside the services mirrors the SQL function of
    the same name, so a test sets up a fake as it would a database."""

    def save_municipality(self, m: Municipality) -> None:
        """`juki.registry.store.municipality.save_municipality`."""
        with self.begin() as tx:
            existing = [row["lg_code"] for row in tx.scan("municipality")]
            if existing and existing != [m.lg_code]:
                raise DomainRuleError(
                    "municipality",
                    "already_initialised",
                    f"this database belongs to municipality {existing[0]}",
                    f"このデータベースは団体コード{existing[0]}の市区町村のものです",
                )
            if not existing:
                tx.insert(
                    "municipality",
                    {"lg_code": m.lg_code, "prefecture": m.prefecture, "name": m.name},
                )

    def add_allotment(self, first_body: int, last_body: int, allotted_by: str) -> None:
        """`juki.registry.store.municipality.add_allotment`."""
        with self.begin() as tx:
            tx.insert(
                "code_allotments",
                {
                    "kind": RESIDENT_CODE,
                    "first_body": first_body,
                    "last_body": last_body,
                    "next_body": first_body,
                    "allotted_by": allotted_by,
                },
            )

    def add_pool(self, codes: Sequence[str], source: str = NATIONAL) -> None:
        """`juki.registry.store.codes.receive_pool` (of codes not known here)."""
        with self.begin() as tx:
            batch = tx.insert(
                "code_pool_batches",
                {"source": source, "allotted_by": source, "codes": len(codes), "received_at": ""},
            )
            for code in codes:
                tx.insert(
                    "code_pool",
                    {"resident_code": code, "batch_id": batch["batch_id"], "reserved_by": None},
                )

    def keep_move_out_info(self, info: MoveOutCertificateInfo, now: str) -> None:
        """`juki.registry.store.journal.keep_move_out_info`: a later one replaces the earlier."""
        with self.begin() as tx:
            tx.delete("move_out_infos", info.identity.resident_code, info.from_lg_code)
            tx.insert(
                "move_out_infos",
                {
                    "resident_code": info.identity.resident_code,
                    "from_lg_code": info.from_lg_code,
                    "body": info.model_dump_json(),
                    "received_at": now,
                },
            )

    def record_fuhyo(self, notice: FuhyoNotice, message_id: str, now: str) -> None:
        """`juki.registry.store.journal.record_fuhyo`: a 附票 notice for a 本籍 here, kept."""
        with self.begin() as tx:
            tx.insert(
                "fuhyo_entries",
                notice.model_dump() | {"message_id": message_id, "received_at": now},
            )

    def withdraw_move_out_info(self, resident_code: str, from_lg_code: str, on: date) -> None:
        """`juki.registry.store.journal.withdraw_move_out_info`."""
        with self.begin() as tx:
            row = tx.get("move_out_infos", resident_code, from_lg_code)
            if row is not None:
                tx.update("move_out_infos", row | {"withdrawn_on": on})


_RECORDS: Final = "resident_records"


def _member_order(record: ResidentRecord) -> tuple[int, Any, str]:
    head = 0 if record.relationship is Relationship.HOUSEHOLDER else 1
    return head, record.birth_date, record.record_id


class FakeRegistry:
    """`SqlRegistry` in memory: every read remembers the version it first saw of each record,
    and `append_change` applies only to that version (ADR 0001)."""

    def __init__(
        self, conn: FakeConnection, now: Callable[[], datetime], rng: random.Random
    ) -> None:
        self._conn = conn
        self._now = now
        self._rng = rng
        self._read_versions: dict[str, int] = {}

    def _loaded(self, row: Row) -> ResidentRecord:
        self._read_versions.setdefault(row["record_id"], int(row["version"]))
        return record_from_row(row)

    def _row(self, record: ResidentRecord, version: int) -> Row:
        key = name_kana_key(record.family_name_kana, record.given_name_kana)
        return record_to_row(record) | {"name_kana_key": key, "version": version}

    def get(self, record_id: str) -> ResidentRecord:
        row = self._conn.tx.get(_RECORDS, record_id)
        if row is None:
            raise NotFoundError("resident_record", record_id)
        return self._loaded(row)

    def _records(self, where: Callable[[Row], bool]) -> list[ResidentRecord]:
        rows = [row for row in self._conn.tx.scan(_RECORDS) if where(row)]
        return sorted((self._loaded(row) for row in rows), key=_member_order)

    def find_by_resident_code(self, resident_code: str) -> Sequence[ResidentRecord]:
        return self._records(lambda row: row["resident_code"] == resident_code)

    def find_by_my_number(self, my_number: str) -> Sequence[ResidentRecord]:
        return self._records(lambda row: row["my_number"] == my_number)

    def members(self, household_id: str) -> Sequence[ResidentRecord]:
        return self._records(
            lambda row: (
                row["household_id"] == household_id and row["status"] == RecordStatus.ACTIVE.value
            )
        )

    def get_household(self, household_id: str) -> Household:
        row = self._conn.tx.get("households", household_id)
        if row is None:
            raise NotFoundError("household", household_id)
        return household_from_row(row)

    def add_household(self, household: Household) -> None:
        self._conn.tx.insert("households", household_row(household))

    def save_household(self, household: Household) -> None:
        self._conn.tx.update("households", household_row(household))

    def add_record(
        self,
        record: ResidentRecord,
        change: RecordChange,
        actor_id: str,
        approved_by: str | None = None,
    ) -> None:
        try:
            self._conn.tx.insert(_RECORDS, self._row(record, 1))
        except sa.exc.IntegrityError as exc:
            raise ConcurrentChangeError(
                f"resident code {record.resident_code} was recorded concurrently"
            ) from exc
        self._read_versions[record.record_id] = 1
        self._conn.tx.insert(
            "record_changes",
            change_row(record.record_id, 1, change, actor_id, self._now(), approved_by),
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
        current = self._conn.tx.get(_RECORDS, after.record_id)
        if current is None or current["version"] != version:
            raise ConcurrentChangeError(f"record {after.record_id} changed concurrently")
        self._conn.tx.update(_RECORDS, self._row(after, version + 1))
        self._read_versions[after.record_id] = version + 1
        self._conn.tx.insert(
            "record_changes",
            change_row(after.record_id, version + 1, change, actor_id, self._now(), approved_by),
        )
        return version + 1

    def history(self, record_id: str) -> Sequence[RecordedChange]:
        rows = [r for r in self._conn.tx.scan("record_changes") if r["record_id"] == record_id]
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
                approved_by=r.get("approved_by"),
            )
            for r in sorted(rows, key=lambda r: r["seq"])
        ]

    def search(self, query: SearchQuery) -> Sequence[ResidentRecord]:
        """The SQL's conditions: LIKE prefixes (autoescaped, so `%` and `_` are literal) as
        `startswith`, with PostgreSQL's case-sensitive LIKE."""
        kana = normalize_kana(query.name_kana) if query.name_kana else None
        name = query.name.replace(" ", "").replace("\u3000", "") if query.name else None
        day = self._now().astimezone(JST).date()

        def resident_today(row: Row) -> bool:
            return row["status"] == RecordStatus.ACTIVE.value or (
                row["removal_reason"] in {r.value for r in PLANNED_REMOVALS}
                and row["removed_on"] > day
                and row["move_out_confirmed_on"] is None
            )

        def matches(row: Row) -> bool:
            return (
                (query.include_removed or resident_today(row))
                and (kana is None or row["name_kana_key"].startswith(kana))
                and (name is None or _name_matches(row["family_name"] + row["given_name"], name))
                and (not query.birth_date or row["birth_date"] == query.birth_date)
                and (not query.resident_code or row["resident_code"] == query.resident_code)
            )

        rows = sorted(
            (row for row in self._conn.tx.scan(_RECORDS) if matches(row)),
            key=lambda row: (row["name_kana_key"], row["birth_date"], row["record_id"]),
        )
        return [as_of(self._loaded(row), day) for row in rows[: max(1, min(query.limit, 500))]]

    def stats(self) -> Mapping[str, int]:
        rows = self._conn.tx.scan(_RECORDS)
        active = [r for r in rows if r["status"] == RecordStatus.ACTIVE.value]
        households = self._conn.tx.scan("households")
        return {
            "residents": len(active),
            "households": sum(h["status"] == HouseholdStatus.ACTIVE.value for h in households),
            "foreign_residents": sum(r["is_foreign"] is True for r in active),
            "removed_records": sum(r["status"] == RecordStatus.REMOVED.value for r in rows),
            "male": sum(r["sex"] == "male" for r in active),
            "female": sum(r["sex"] == "female" for r in active),
            "without_my_number": sum(r["my_number"] is None for r in active),
        }

    def allot_resident_code(self) -> str:
        """`juki.registry.store.codes.draw_resident_code`: the pool, then (before any pool
        from national) a range, then (standalone) a random code of its own."""
        tx = self._conn.tx
        free = sorted(r["resident_code"] for r in tx.scan("code_pool") if r["reserved_by"] is None)
        if free:
            code = free[self._rng.randrange(len(free))]
            tx.delete("code_pool", code)
            return code
        national_pool = any(b["source"] == NATIONAL for b in tx.scan("code_pool_batches"))
        ranges = [a for a in tx.scan("code_allotments") if a["kind"] == RESIDENT_CODE]
        open_ = [a for a in ranges if a["next_body"] <= a["last_body"]]
        if open_ and not national_pool:
            allotment = min(open_, key=lambda a: a["allotment_id"])
            tx.update("code_allotments", allotment | {"next_body": allotment["next_body"] + 1})
            return ResidentCode.complete(f"{allotment['next_body']:010d}").value
        if national_pool or any(a["allotted_by"].startswith("national") for a in ranges):
            raise exhausted()
        taken = {r["resident_code"] for t in _CODE_TABLES for r in tx.scan(t)}
        for _ in range(MAX_DRAWS):
            candidate = random_code(self._rng)
            if candidate not in taken:
                return candidate
        raise exhausted()

    def retire_resident_code(self, code: str, successor: str, record_id: str) -> None:
        self._conn.tx.insert(
            "retired_codes",
            {
                "resident_code": code,
                "successor": successor,
                "record_id": record_id,
                "retired_at": self._now().isoformat(),
            },
        )


_CODE_TABLES: Final = ("resident_records", "retired_codes", "code_pool")


def _name_matches(full: str, name: str) -> bool:
    """As `SqlRegistry.search`: an ASCII query ignores case, any other matches as written."""
    if name.isascii():
        return full.lower().startswith(name.lower())
    return full.startswith(name)


class FakeSeals:
    """`SqlSeals` in memory; registration numbers come from a gap-free counter that rolls back
    with its transaction."""

    def __init__(self, conn: FakeConnection) -> None:
        self._conn = conn

    def live_for(self, record_id: str) -> SealRegistration | None:
        for row in self._conn.tx.scan("seal_registrations"):
            if row["record_id"] == record_id and row["status"] == SealStatus.LIVE.value:
                return seal_from_row(row)
        return None

    def get(self, registration_number: str) -> SealRegistration:
        row = self._conn.tx.get("seal_registrations", registration_number)
        if row is None:
            raise NotFoundError("seal_registration", registration_number)
        return seal_from_row(row)

    def add(self, registration: SealRegistration) -> None:
        try:
            self._conn.tx.insert("seal_registrations", _seal_row(registration))
        except sa.exc.IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            raise ConcurrentChangeError(
                f"a seal of record {registration.record_id} was registered concurrently"
            ) from exc

    def save(self, registration: SealRegistration) -> None:
        self._conn.tx.update("seal_registrations", _seal_row(registration))

    def next_number(self) -> str:
        tx = self._conn.tx
        row = tx.get("counters", SEAL_COUNTER)
        if row is None:
            row = tx.insert("counters", {"name": SEAL_COUNTER, "value": 1})
        else:
            row["value"] += 1
            tx.update("counters", row)
        return f"{row['value']:08d}"


def _seal_row(s: SealRegistration) -> Row:
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


class FakeOutbox:
    """Rows exactly as `SqlOutbox` writes them: the message body as JSON, its type and version."""

    def __init__(self, conn: FakeConnection, ids: IdSource, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._ids = ids
        self._now = now

    def put(self, event: RegistryEvent, key: str) -> None:
        self._conn.tx.insert("outbox", outbox_row(self._ids.new_id(), event, key, self._now()))


class FakeMoveOutInfos:
    """転出証明書情報 the CS kept (`FakeDatabase.keep_move_out_info`), taken once."""

    def __init__(self, conn: FakeConnection, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._now = now

    def take(self, resident_code: str, from_lg_code: str) -> Mapping[str, Any] | None:
        row = self._conn.tx.get("move_out_infos", resident_code, from_lg_code)
        if row is None or row["used_at"] is not None or row["withdrawn_on"] is not None:
            return None
        self._conn.tx.update("move_out_infos", row | {"used_at": self._now().isoformat()})
        loaded: dict[str, Any] = json.loads(row["body"])
        return loaded

    def withdrawn_on(self, resident_code: str, from_lg_code: str) -> date | None:
        row = self._conn.tx.get("move_out_infos", resident_code, from_lg_code)
        return None if row is None else row["withdrawn_on"]


class FakeSupportMeasures:
    """`SqlSupportMeasures` in memory, with its row mappers; `save` only at the version read."""

    def __init__(self, conn: FakeConnection) -> None:
        self._conn = conn

    def _measure(self, row: Row) -> SupportMeasure:
        persons = [
            p["record_id"]
            for p in self._conn.tx.scan("support_measure_persons")
            if p["measure_id"] == row["measure_id"]
        ]
        return measure_from_row(row, persons)

    def get(self, measure_id: str) -> SupportMeasure:
        row = self._conn.tx.get("support_measures", measure_id)
        if row is None:
            raise NotFoundError("support_measure", measure_id)
        return self._measure(row)

    def for_records(self, record_ids: Iterable[str]) -> Sequence[SupportMeasure]:
        wanted = set(record_ids)
        ids = {
            p["measure_id"]
            for p in self._conn.tx.scan("support_measure_persons")
            if p["record_id"] in wanted
        }
        rows = [r for r in self._conn.tx.scan("support_measures") if r["measure_id"] in ids]
        rows.sort(key=lambda r: (r["starts_on"], r["measure_id"]))
        return [self._measure(r) for r in rows]

    def add(self, measure: SupportMeasure) -> None:
        self._conn.tx.insert("support_measures", measure_row(measure))
        for record_id in measure.protected:
            self._conn.tx.insert(
                "support_measure_persons",
                {"measure_id": measure.measure_id, "record_id": record_id},
            )

    def save(self, measure: SupportMeasure) -> None:
        current = self._conn.tx.get("support_measures", measure.measure_id)
        if current is None or current["version"] != measure.version - 1:
            raise ConcurrentChangeError(
                f"support measure {measure.measure_id} changed concurrently"
            )
        self._conn.tx.update("support_measures", measure_row(measure))


class FakeCardHolders:
    """The card register's one question, as `SqlCardHolders` asks it."""

    def __init__(self, conn: FakeConnection) -> None:
        self._conn = conn

    def holds_card(self, resident_code: str) -> bool:
        return any(
            r["resident_code"] == resident_code and r["status"] == "issued"
            for r in self._conn.tx.scan("cards")
        )


class FakeOpLog:
    def __init__(self, conn: FakeConnection) -> None:
        self._conn = conn

    def append(self, entry: OpLogEntry) -> None:
        """Chained as the SQL store chains it (the fake's transactions are serial)."""
        rows = self._conn.tx.scan("oplog")
        last = max(rows, key=lambda r: r["seq"], default=None)
        seq, prev = (last["seq"], last["entry_hash"]) if last else (0, GENESIS)
        self._conn.tx.insert("oplog", link(oplog_row(entry), seq + 1, prev))


class CountingIds:
    """Ids shaped like the UUIDs `RandomIds` gives, counted so that they sort in creation order
    and a scenario reads the same on every run."""

    def __init__(self, start: int = 1) -> None:
        self._next = itertools.count(start)

    def new_id(self) -> str:
        return str(uuid.UUID(int=next(self._next)))


# Bound at `with` and kept after it, as the SQL unit of work keeps its stores: using one after
# the block fails on the closed connection.
_Repositories = tuple[
    FakeRegistry,
    FakeSeals,
    FakeOutbox,
    FakeMoveOutInfos,
    FakeOpLog,
    FakeSupportMeasures,
    FakeCardHolders,
]


class FakeRegistryUnitOfWork:
    """One action's transaction on a `FakeDatabase`, as `SqlRegistryUnitOfWork` is on an
    engine: `with uow:` begins, `commit()` publishes, leaving without it discards."""

    def __init__(
        self,
        db: FakeDatabase,
        *,
        clock: Clock | None = None,
        ids: IdSource | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.ids: IdSource = ids or RandomIds()
        self.rng = rng or random.Random(0)
        self._conn: FakeConnection | None = None
        self._repos: _Repositories | None = None
        self._municipality: Municipality | None = None

    @property
    def connection(self) -> FakeConnection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside `with`")
        return self._conn

    def _repositories(self) -> _Repositories:
        if self._repos is None:
            raise RuntimeError("unit of work used before `with`")
        return self._repos

    @property
    def registry(self) -> FakeRegistry:
        return self._repositories()[0]

    @property
    def seals(self) -> FakeSeals:
        return self._repositories()[1]

    @property
    def outbox(self) -> FakeOutbox:
        return self._repositories()[2]

    @property
    def move_out_infos(self) -> FakeMoveOutInfos:
        return self._repositories()[3]

    @property
    def oplog(self) -> FakeOpLog:
        return self._repositories()[4]

    @property
    def support_measures(self) -> FakeSupportMeasures:
        return self._repositories()[5]

    @property
    def card_holders(self) -> FakeCardHolders:
        return self._repositories()[6]

    @property
    def municipality(self) -> Municipality:
        """Loaded once per unit of work, as the SQL one caches it."""
        if self._municipality is None:
            rows = self.connection.tx.scan("municipality")
            if not rows:
                raise NotFoundError(
                    "municipality", "(not initialised: run `juki seed` or `juki db init`)"
                )
            row = rows[0]
            self._municipality = Municipality(row["lg_code"], row["prefecture"], row["name"])
        return self._municipality

    def __enter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("unit of work is already in a transaction")
        conn = self._conn = FakeConnection(self.db)
        now = self.clock.now
        self._repos = (
            FakeRegistry(conn, now, self.rng),
            FakeSeals(conn),
            FakeOutbox(conn, self.ids, now),
            FakeMoveOutInfos(conn, now),
            FakeOpLog(conn),
            FakeSupportMeasures(conn),
            FakeCardHolders(conn),
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def commit(self) -> None:
        if self._conn is None:
            raise RuntimeError("no transaction to commit")
        self._conn.commit()

    def rollback(self) -> None:
        if self._conn is not None:
            self._conn.rollback()


if TYPE_CHECKING:
    _conforms: type[RegistryUnitOfWork] = FakeRegistryUnitOfWork
