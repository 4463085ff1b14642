"""identity_info end to end: a change at a municipality until it is in the national index.

The nodes are the real ones (registry services, CS pump, signed envelopes, receiver, delivery
worker) in one process on the in-memory transport, each with its own database; only HTTP is
left out (`tests/e2e` runs the same flows over HTTPS). Printed next to the raw limits measured
in the same run: ECDSA P-256 sign + verify of an envelope of the same size, and single-row
insert + commit on the same database.
"""

from __future__ import annotations

import time
from datetime import date, datetime

import sqlalchemy as sa

from bench.common import Backend, backends, table
from juki.core.clock import JST, FixedClock
from juki.network import pki
from juki.network.envelope import Envelope, uuid7
from juki.nodes.codes import POOL_BATCH
from juki.nodes.layout import municipality, national, prefecture
from juki.nodes.memory import build_network
from juki.nodes.tables import identity_changes
from juki.population.seeding import seed_registry
from juki.registry import services as svc
from juki.registry.commands import RecordRelocation
from juki.registry.tables import resident_records
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine

CLERK = Actor("bench", Role.COUNTER_CLERK, "bench")


def raw_sign_verify(n: int = 2000) -> float:
    """Sign and verify envelopes of the size an identity_info message has."""
    import random

    key = pki.generate_key()
    now = datetime(2025, 4, 1, tzinfo=JST)
    body = {"identity": {"address": "東京都稲城市東長沼1丁目1番1号" * 3, "resident_code": "1" * 11}}
    rng = random.Random(1)
    start = time.perf_counter()
    for i in range(n):
        env = Envelope(
            uuid7(now, rng),
            "identity_info_changed",
            1,
            "132250",
            "130001",
            now.isoformat(),
            i + 1,
            body,
        ).signed(key)
        env.has_valid_signature(key.public_key())
    return n / (time.perf_counter() - start)


def raw_commits(url: str, n: int = 1000) -> float:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE raw_commit (id INTEGER PRIMARY KEY, body TEXT)")
        start = time.perf_counter()
        for i in range(n):
            with engine.begin() as conn:
                conn.execute(
                    sa.text("INSERT INTO raw_commit VALUES (:i, :b)"), {"i": i, "b": "x" * 300}
                )
        return n / (time.perf_counter() - start)
    finally:
        engine.dispose()


def run_backend(backend: Backend, residents: int, changes: int) -> list[list[object]]:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    tokyo = prefecture("130001", "東京都")
    layout = (national(), tokyo, municipality("132250", tokyo, "稲城市"))
    urls = {spec.node_id: backend.new_url() for spec in layout}
    net = build_network(layout, urls.__getitem__, clock, seed=1)
    inagi = net.municipality("132250")
    try:
        net.national.allot("132250", residents + POOL_BATCH)  # a pool of random codes
        net.run_until_quiet()
        seed_registry(
            inagi.engine,
            lg_code="132250",
            residents=residents,
            seed=1,
            by=Actor.system("bench"),
            clock=clock,
        )
        start = time.perf_counter()
        net.run_until_quiet()
        seed_s = time.perf_counter() - start
        with inagi.engine.connect() as conn:
            ids = (
                conn.execute(
                    sa.select(resident_records.c.record_id)
                    .where(resident_records.c.status == "active")
                    .order_by(resident_records.c.record_id)
                    .limit(changes)
                )
                .scalars()
                .all()
            )
        with net.national.engine.connect() as conn:
            before = conn.execute(
                sa.select(sa.func.count()).select_from(identity_changes)
            ).scalar_one()
        start = time.perf_counter()
        moved = 0
        for i, rid in enumerate(ids):
            record = svc.get_record(SqlRegistryUnitOfWork(inagi.engine, clock=clock), CLERK, rid)
            household = svc.household_view(
                SqlRegistryUnitOfWork(inagi.engine, clock=clock), CLERK, record.household_id
            )[1]
            out = (
                svc.record_relocation(
                    SqlRegistryUnitOfWork(inagi.engine, clock=clock),
                    CLERK,
                    RecordRelocation(
                        tuple(m.record_id for m in household),
                        f"東京都稲城市百村{i + 1}番地",
                        date(2025, 4, 1),
                        date(2025, 4, 1),
                    ),
                )
                if record.is_active and record.address != f"東京都稲城市百村{i + 1}番地"
                else []
            )
            moved += len(out)
        services_s = time.perf_counter() - start
        net.run_until_quiet()
        total_s = time.perf_counter() - start
        with net.national.engine.connect() as conn:
            after = conn.execute(
                sa.select(sa.func.count()).select_from(identity_changes)
            ).scalar_one()
        arrived = int(after) - int(before)
        assert arrived >= moved, (arrived, moved)
        assert not net.check()
        raw_commit = raw_commits(backend.new_url())
        return [
            [
                backend.name,
                "seeded identity_info → national",
                f"{residents / seed_s:,.0f}",
                f"{raw_commit:,.0f}",
                f"{residents / seed_s / raw_commit:.2f}",
            ],
            [
                backend.name,
                "relocations → national",
                f"{moved / total_s:,.0f}",
                f"{raw_commit:,.0f}",
                f"{moved / total_s / raw_commit:.3f}",
            ],
            [backend.name, "  of which in the registry", f"{moved / services_s:,.0f}", "", ""],
        ]
    finally:
        net.dispose()


def main(residents: int, changes: int, which: str) -> None:
    sign = raw_sign_verify()
    print(f"network: {residents:,} residents seeded, ~{changes:,} relocations (whole households)")
    print(f"raw ECDSA P-256 sign+verify of an envelope: {sign:,.0f}/s on one core")
    rows: list[list[object]] = []
    with backends(which) as found:
        for backend in found:
            rows += run_backend(backend, residents, changes)
    print(table(["backend", "flow", "identity_info/s", "raw commits/s", "ratio"], rows))
    print(
        "each identity_info crosses two hops (municipality → prefecture → national): "
        "two signatures, two verifications and about six commits; the ratio to one raw "
        "commit shows the cost of exactly-once delivery"
    )
