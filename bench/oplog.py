"""What the hash-chained oplog costs: the same operations with it and without it, side by side.

After seeding N residents: K name changes (氏名変更) through the real service, each its own unit of
work — authorisation, rules, history, outbox — once with the oplog as it is (the entry chained to
the head, which is locked FOR UPDATE on PostgreSQL, in the operation's transaction) and once with
an oplog that writes nothing. The two runs alternate in rounds on the same database, so machine
noise falls on both alike. Goal: the oplog costs under 10 %.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from faker import Faker

from bench.common import Backend, backends, table, timed
from juki.core.clock import JST, FixedClock
from juki.core.ports import OpLogEntry
from juki.population.seeding import seed_registry
from juki.registry import services as svc
from juki.registry import tables as registry_tables
from juki.registry.commands import ChangeName
from juki.registry.store.records import SqlRegistry
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine

CLOCK = FixedClock(datetime(2025, 4, 1, 10, 0, tzinfo=JST))
CLERK = Actor("bench", Role.COUNTER_CLERK, "bench", purpose="bench")
LOADER = Actor("bench-loader", Role.OPERATIONS_MANAGER, "bench")
ROUNDS: Final = 10


class _NoOpLog:
    def append(self, entry: OpLogEntry) -> None:
        return None


class UnloggedUnitOfWork(SqlRegistryUnitOfWork):
    """The same unit of work with an oplog that writes nothing: the baseline."""

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.oplog = _NoOpLog()  # type: ignore[assignment]


def _renames(engine: sa.Engine, n: int, seed: int) -> list[ChangeName]:
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    r = registry_tables.resident_records.c
    with engine.connect() as conn:
        ids = conn.execute(
            sa.select(r.record_id).where(r.status == "active").order_by(r.record_id).limit(n)
        ).scalars()
        registry = SqlRegistry(conn, CLOCK.now)
        records = [registry.get(rid) for rid in ids]
    out = []
    for record in records:
        family, kana = record.family_name, record.family_name_kana
        while family == record.family_name:
            family, kana, _ = fake.last_name_pair()
        if record.is_foreign:
            family, kana = f"{record.family_name}-SATO", f"{record.family_name_kana}・サトウ"
        out.append(
            ChangeName(
                record_id=record.record_id,
                family_name=family,
                given_name=record.given_name,
                family_name_kana=kana,
                given_name_kana=record.given_name_kana,
                effective_on=CLOCK.today(),
                notified_on=CLOCK.today(),
            )
        )
    return out


def run_backend(backend: Backend, residents: int, events: int, seed: int) -> list[object]:
    engine = make_engine(backend.new_url())
    try:
        seed_registry(
            engine, lg_code="132250", residents=residents, seed=seed, by=LOADER, clock=CLOCK
        )
        commands = _renames(engine, 2 * events, seed)
        logged, unlogged = commands[0::2], commands[1::2]
        size = max(1, len(logged) // ROUNDS)
        seconds = {"with": 0.0, "without": 0.0}
        for start in range(0, len(logged), size):
            batches: dict[str, Any] = {
                "without": (UnloggedUnitOfWork, unlogged[start : start + size]),
                "with": (SqlRegistryUnitOfWork, logged[start : start + size]),
            }
            for name, (uow_class, batch) in batches.items():

                def run(uow_class: Any = uow_class, batch: list[ChangeName] = batch) -> None:
                    for cmd in batch:
                        svc.change_name(uow_class(engine, clock=CLOCK), CLERK, cmd)

                elapsed, _ = timed(run)
                seconds[name] += elapsed
        with engine.connect() as conn:
            from juki.security.oplog_verify import verify_chain

            assert verify_chain(conn) is None
    finally:
        engine.dispose()
    without, with_ = len(unlogged) / seconds["without"], len(logged) / seconds["with"]
    return [backend.name, "name change", without, with_, 100 * (1 - with_ / without)]


def main(residents: int, events: int, backend: str, seed: int = 1) -> None:
    print(f"\n== oplog: {events:,} name changes with and without it, {residents:,} residents ==")
    rows = []
    with backends(backend) as available:
        for b in available:
            rows.append(run_backend(b, residents, events, seed))
    headers = ["backend", "operation", "ops/s without oplog", "ops/s with oplog", "cost %"]
    print(table(headers, rows))
    load = os.getloadavg()
    print(
        "with = the chained entry in the operation's transaction (head row locked FOR UPDATE on "
        "PostgreSQL);\nwithout = the same service calls with an oplog that writes nothing; "
        f"goal: cost under 10 %. load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
