"""Life-event throughput through the real services, next to single-row commits of the same database.

After seeding N residents: K relocations (転居) of whole households to a new address in the same
municipality, and K name changes (氏名変更), each its own unit-of-work transaction by a counter
clerk — authorisation, household rules, change history, outbox and oplog included. The raw figure
is one single-row INSERT and COMMIT per operation on the same database (SQLite with the engine's
pragmas, synchronous=FULL; PostgreSQL through psycopg).
"""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from datetime import datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from faker import Faker

from bench.common import Backend, backends, table, timed
from juki.core.clock import JST, FixedClock
from juki.core.errors import DomainRuleError
from juki.population.addresses import municipality_from_lg_code, town_areas
from juki.population.seeding import seed_registry
from juki.registry import services as svc
from juki.registry import tables as registry_tables
from juki.registry.commands import ChangeName, RecordRelocation
from juki.registry.store.records import SqlRegistry
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine

CLOCK = FixedClock(datetime(2025, 4, 1, 10, 0, tzinfo=JST))
CLERK = Actor("bench", Role.COUNTER_CLERK, "bench")
LOADER = Actor("bench-loader", Role.OPERATIONS_MANAGER, "bench")


def _raw_commits(engine: sa.Engine, n: int) -> float:
    """Single-row INSERT + COMMIT, n times, on a raw connection of the same engine."""
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if engine.dialect.name == "sqlite":
            conn: sqlite3.Connection = driver
            conn.execute("CREATE TABLE raw_events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")

            def run() -> None:
                for i in range(n):
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("INSERT INTO raw_events (payload) VALUES (?)", (f"event {i}",))
                    conn.execute("COMMIT")

        else:
            pg: psycopg.Connection[Any] = driver
            pg.execute("CREATE TABLE raw_events (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)")
            pg.commit()

            def run() -> None:
                for i in range(n):
                    pg.execute("INSERT INTO raw_events (payload) VALUES (%s)", (f"event {i}",))
                    pg.commit()

        seconds, _ = timed(run)
    finally:
        raw.close()
    return n / seconds


def run_backend(
    backend: Backend, residents: int, events: int, lg_code: str, seed: int
) -> list[list[object]]:
    engine = make_engine(backend.new_url())
    try:
        seed_registry(
            engine, lg_code=lg_code, residents=residents, seed=seed, by=LOADER, clock=CLOCK
        )
        rng = random.Random(seed)
        fake = Faker("ja_JP")
        fake.seed_instance(seed)
        towns = town_areas(lg_code)
        r = registry_tables.resident_records.c
        with engine.connect() as conn:
            pairs = conn.execute(sa.select(r.household_id, r.record_id).order_by(r.record_id))
            members: dict[str, list[str]] = defaultdict(list)
            for household_id, record_id in pairs:
                members[household_id].append(record_id)
        households = rng.sample(sorted(members), min(events, len(members)))
        renamed = rng.sample(sorted(rid for ids in members.values() for rid in ids), events)

        def address() -> str:
            t = rng.choice(towns)
            return (
                f"{t.prefecture}{t.city}{t.town}{rng.randint(1, 5)}丁目"
                f"{rng.randint(1, 40)}番{rng.randint(1, 30)}号"
            )

        def relocate() -> None:
            for household_id in households:
                for _ in range(3):
                    cmd = RecordRelocation(
                        record_ids=tuple(members[household_id]),
                        new_address=address(),
                        moved_on=CLOCK.today(),
                        notified_on=CLOCK.today(),
                    )
                    try:
                        svc.record_relocation(
                            SqlRegistryUnitOfWork(engine, clock=CLOCK), CLERK, cmd
                        )
                        break
                    except DomainRuleError as exc:  # the same address drawn again
                        if exc.rule != "same_address":
                            raise

        with engine.connect() as conn:
            registry = SqlRegistry(conn, CLOCK.now)
            current = {rid: registry.get(rid) for rid in renamed}
        renames = []
        for record_id in renamed:
            record = current[record_id]
            family, kana = record.family_name, record.family_name_kana
            while family == record.family_name:
                family, kana, _ = fake.last_name_pair()
            if record.is_foreign:  # a foreign resident's name stays in Latin letters
                family, kana = f"{record.family_name}-SATO", f"{record.family_name_kana}・サトウ"
            renames.append(
                ChangeName(
                    record_id=record_id,
                    family_name=family,
                    given_name=record.given_name,
                    family_name_kana=kana,
                    given_name_kana=record.given_name_kana,
                    effective_on=CLOCK.today(),
                    notified_on=CLOCK.today(),
                )
            )

        def rename() -> None:
            for cmd in renames:
                svc.change_name(SqlRegistryUnitOfWork(engine, clock=CLOCK), CLERK, cmd)

        statements = [0]

        def count(*_: Any) -> None:
            statements[0] += 1

        sa.event.listen(engine, "before_cursor_execute", count)
        reloc_s, _ = timed(relocate)
        reloc_statements, statements[0] = statements[0], 0
        rename_s, _ = timed(rename)
        rename_statements = statements[0]
        sa.event.remove(engine, "before_cursor_execute", count)
        raw = _raw_commits(engine, 2 * events)
    finally:
        engine.dispose()
    reloc, ren = len(households) / reloc_s, events / rename_s
    per_reloc, per_rename = reloc_statements / len(households), rename_statements / events
    return [
        [backend.name, "relocation (household)", reloc, 1000 / reloc, per_reloc, raw, reloc / raw],
        [backend.name, "name change", ren, 1000 / ren, per_rename, raw, ren / raw],
    ]


def main(residents: int, events: int, backend: str, lg_code: str = "132250", seed: int = 1) -> None:
    m = municipality_from_lg_code(lg_code)
    print(
        f"\n== events: {events:,} of each on {residents:,} residents of "
        f"{m.prefecture}{m.name} ({lg_code}) =="
    )
    out: list[list[object]] = []
    with backends(backend) as available:
        for b in available:
            out += run_backend(b, residents, events, lg_code, seed)
    headers = ["backend", "event", "events/s", "ms/event", "SQL/event", "raw commits/s", "ratio"]
    print(table(headers, out))
    print(
        "each event = one service call in its own transaction (authorise, rules, history, outbox, "
        "oplog),\nSQL/event = statements it sent;\n"
        "raw = one single-row INSERT + COMMIT on the same database; ratio = events/s ÷ "
        "raw commits/s."
    )
