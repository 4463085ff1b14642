"""identity_info end to end: a change at a municipality until it is in the national index.

The nodes are the real ones (registry services, CS pump, signed batches, receiver, delivery
worker) in one process on the in-memory transport, each with its own database; only HTTP is
left out (`tests/e2e` runs the same flows over HTTPS). All three nodes share one process here,
so the rates are what one core does for all three levels together.

Printed next to the raw limits measured in the same run on the same kind of database (a fresh
one on the same disk or server, with the nodes' settings): batched insert of identity rows
(`identity_copies`, its indexes included) with executemany, and on PostgreSQL with COPY too; a
level's writes (`level_writes`: the copy and history rows a prefecture or national must write
for each identity_info, however it travels, so no level's rate can pass it); and ECDSA P-256
sign + verify of an envelope.

Flows: the seeded population's identity_info (a backlog in the registry's outbox) to national;
relocations (registry services, then the network); a backlog queued at the CS during a 離脱,
drained after reconnecting (`--backlog`, 100,000 for the issue's figure); and one change on a
quiet network, with every node's real stepper thread idling as a node process does.

`--processes` runs the backlog and a connected seed with each node in a process of its own, over
HTTPS, and reads each node's CPU (`bench/network_processes.py`).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from bench.common import Backend, backends, table
from juki.core.clock import JST, FixedClock
from juki.network import pki
from juki.network.batch import MAX_BATCH_BODY_BYTES
from juki.network.envelope import Envelope, uuid7
from juki.network.identity_runs import RUN_BYTES
from juki.network.messages import IdentityInfoBody
from juki.network.transport import Reply
from juki.nodes.codes import POOL_BATCH
from juki.nodes.identity import apply_identities
from juki.nodes.layout import municipality, national, prefecture
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.runner import Stepper
from juki.nodes.tables import identity_changes, identity_copies
from juki.population.seeding import seed_registry
from juki.registry import services as svc
from juki.registry.commands import RecordRelocation
from juki.registry.tables import resident_records
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine
from juki.storage.migrate import create_migrated

CLERK = Actor("bench", Role.COUNTER_CLERK, "bench")
INAGI = "132250"


def raw_sign_verify(n: int = 2000) -> float:
    """Sign and verify envelopes of the size an identity_info message has."""

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
            INAGI,
            "130001",
            now.isoformat(),
            i + 1,
            body,
        ).signed(key)
        env.has_valid_signature(key.public_key())
    return n / (time.perf_counter() - start)


def identity_rows(engine: sa.Engine, n: int) -> list[dict[str, Any]]:
    """`n` identity rows made from the CS's copies (real names and addresses), under distinct
    random codes: the nodes' codes are random (ADR 0006), and an index takes keys in order far
    faster than at random."""
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(identity_copies)).mappings()]
    codes = random.Random(n).sample(range(10**11), n)
    return [
        rows[i % len(rows)] | {"lg_code": "999999", "resident_code": f"{code:011d}"}
        for i, code in enumerate(codes)
    ]


# About the identity_info one message of changes carries (`identity_runs.RUN_BYTES`, a message
# alone: 252 KiB), and as many as the messages one full batch carries (`juki.network.batch`:
# 4 MiB): a level applies each message's changes together and commits once per batch.
LEVEL_RUN = 400
LEVEL_BATCH = LEVEL_RUN * (MAX_BATCH_BODY_BYTES // RUN_BYTES)
RATIOS = "ratio to each raw limit"
LEVEL_WRITES = "a level's writes"
LIMITS_NOTE = (
    "Raw limits, each measured in the same run into a fresh database of the same kind: "
    "executemany of identity rows (and COPY on PostgreSQL); and a level's writes, what any "
    "level (prefecture, national) must write for each identity_info however it travels "
    f"(apply_identities: its copy upserted and its history appended, {LEVEL_RUN} at a time, "
    f"{LEVEL_BATCH:,} to a transaction): a level's rate can reach that, never executemany's."
)


def raw_limits(
    new_url: Callable[[], str], rows: list[dict[str, Any]], durable: bool = False
) -> dict[str, float]:
    """Every raw limit a network rate is printed beside, each into a fresh database."""
    return raw_inserts(new_url(), rows, durable) | {
        LEVEL_WRITES: level_writes(new_url(), rows, durable)
    }


def level_writes(url: str, rows: list[dict[str, Any]], durable: bool = False) -> float:
    """`apply_identities` of `rows` (as bodies, built untimed and unchecked: the rows are a
    CS's copies renumbered) into a fresh node database, `LEVEL_RUN` at a time in transactions
    of `LEVEL_BATCH`: the database work a level cannot avoid for a change, with no network,
    parsing or checks."""
    fields = IdentityInfoBody.model_fields
    bodies = [IdentityInfoBody.model_construct(**{k: r[k] for k in fields}) for r in rows]
    ids = [str(uuid.UUID(int=i + 1)) for i in range(len(bodies))]
    create_migrated(url)
    engine = make_engine(url, durable=durable)
    try:
        now = datetime.now(JST)
        start = time.perf_counter()
        changes = list(zip(bodies, ids, strict=True))
        for i in range(0, len(changes), LEVEL_BATCH):
            with engine.begin() as conn:
                for j in range(i, min(i + LEVEL_BATCH, len(changes)), LEVEL_RUN):
                    apply_identities(conn, changes[j : j + LEVEL_RUN], now=now)
        return len(bodies) / (time.perf_counter() - start)
    finally:
        engine.dispose()


def raw_inserts(url: str, rows: list[dict[str, Any]], durable: bool = False) -> dict[str, float]:
    """Batched insert of identity rows into a fresh table with the index's indexes: the
    driver's own executemany (sqlite3's, psycopg's) of tuples, no SQLAlchemy between, in
    transactions of 1,000 rows; on PostgreSQL COPY as well (into a second fresh table).
    `durable=False` is the in-process nodes' setting; node processes commit durably."""
    engine = make_engine(url, durable=durable)
    out: dict[str, float] = {}
    try:
        identity_copies.create(engine)
        columns = [c.name for c in identity_copies.c]
        mark = "?" if engine.dialect.name == "sqlite" else "%s"
        insert = (
            f"INSERT INTO identity_copies ({', '.join(columns)}) "
            f"VALUES ({', '.join(mark for _ in columns)})"
        )
        tuples = [tuple(row[c] for c in columns) for row in rows]
        start = time.perf_counter()
        for i in range(0, len(tuples), 1000):
            with engine.begin() as conn:
                conn.exec_driver_sql(insert, tuples[i : i + 1000])
        out["executemany"] = len(rows) / (time.perf_counter() - start)
        if engine.dialect.name == "postgresql":
            out["COPY"] = _copy_rate(engine, rows)
    finally:
        engine.dispose()
    return out


def _copy_rate(engine: sa.Engine, rows: list[dict[str, Any]]) -> float:
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE identity_copies")
    columns = [c.name for c in identity_copies.c]
    raw = engine.raw_connection()
    try:
        start = time.perf_counter()
        cur = raw.cursor()
        sql = f"COPY identity_copies ({', '.join(columns)}) FROM STDIN"
        with cur.copy(sql) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        raw.commit()
        return len(rows) / (time.perf_counter() - start)
    finally:
        raw.close()


def count_changes(net: InProcessNetwork) -> int:
    with net.national.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(identity_changes)).scalar_one()
        )


def new_network(backend: Backend, clock: FixedClock, residents: int) -> InProcessNetwork:
    tokyo = prefecture("130001", "東京都")
    layout = (national(), tokyo, municipality(INAGI, tokyo, "稲城市"))
    urls = {spec.node_id: backend.new_url() for spec in layout}
    net = build_network(layout, urls.__getitem__, clock, seed=1)
    net.national.allot(INAGI, residents + POOL_BATCH)  # a pool of random codes
    net.run_until_quiet()
    return net


def seed(net: InProcessNetwork, clock: FixedClock, residents: int) -> None:
    inagi = net.municipality(INAGI)
    seed_registry(
        inagi.engine,
        lg_code=INAGI,
        residents=residents,
        seed=1,
        by=Actor.system("bench"),
        clock=clock,
    )


def relocate(net: InProcessNetwork, clock: FixedClock, changes: int, street: str) -> int:
    """Relocate up to `changes` households through the registry services: the records changed."""
    inagi = net.municipality(INAGI)
    with inagi.engine.connect() as conn:
        ids = list(
            conn.execute(
                sa.select(resident_records.c.record_id)
                .where(resident_records.c.status == "active")
                .order_by(resident_records.c.record_id)
                .limit(changes)
            ).scalars()
        )
    moved = 0
    for i, rid in enumerate(ids):
        record = svc.get_record(SqlRegistryUnitOfWork(inagi.engine, clock=clock), CLERK, rid)
        address = f"東京都稲城市{street}{i + 1}番地"
        if not record.is_active or record.address == address:
            continue
        household = svc.household_view(
            SqlRegistryUnitOfWork(inagi.engine, clock=clock), CLERK, record.household_id
        )[1]
        moved += len(
            svc.record_relocation(
                SqlRegistryUnitOfWork(inagi.engine, clock=clock),
                CLERK,
                RecordRelocation(
                    tuple(m.record_id for m in household),
                    address,
                    date(2025, 4, 1),
                    date(2025, 4, 1),
                ),
            )
        )
    return moved


class Waking:
    """The in-memory wire, waking the recipient's stepper as a node's HTTP app does on a POST."""

    def __init__(self, net: InProcessNetwork, steppers: dict[str, Stepper]) -> None:
        self.inner = net.transport
        self.steppers = steppers

    def send(self, recipient: str, endpoint: str, payload: bytes) -> Reply:
        reply = self.inner.send(recipient, endpoint, payload)
        self.steppers[recipient].wake()
        return reply


def quiet_latency(net: InProcessNetwork, clock: FixedClock, tries: int = 5) -> list[float]:
    """Seconds from a relocation's commit to its arrival in the national index, on a quiet
    network whose nodes idle in their real stepper threads (idle waits growing to a second);
    the counter's request wakes its node, each message its recipient, as over HTTP."""
    steppers = {n: Stepper(node, refresh_every=3600.0) for n, node in net.nodes.items()}
    wire = Waking(net, steppers)
    for node in net.nodes.values():
        node.worker.transport = wire
    for s in steppers.values():
        s.start()
    out: list[float] = []
    try:
        for i in range(tries):
            time.sleep(1.5)  # every stepper at its longest idle wait
            before = count_changes(net)
            moved = relocate(net, clock, 1, f"若葉台{i}-")
            start = time.perf_counter()  # committed at the counter: its request wakes the node
            steppers[INAGI].wake()
            while count_changes(net) < before + moved and time.perf_counter() - start < 30:
                time.sleep(0.002)
            out.append(time.perf_counter() - start)
    finally:
        for s in steppers.values():
            s.join(timeout=10)
        for node in net.nodes.values():
            node.worker.transport = net.transport
    return out


class RowsWritten:
    """Rows the nodes' statements insert, update or delete (upserts count once), all nodes."""

    def __init__(self, net: InProcessNetwork) -> None:
        self.rows = 0
        for engine in net.engines:
            sa.event.listen(engine, "after_cursor_execute", self.count)

    def count(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE") and cursor.rowcount > 0:
            self.rows += cursor.rowcount


def backlog_drain(
    backend: Backend, clock: FixedClock, backlog: int
) -> tuple[int, float, float, int]:
    """稲城市 disconnected (離脱) while `backlog` identity_info are recorded (a seeded
    population's) and its CS queues them; reconnected, the queue drains: (arrived, seconds,
    seconds of the CS queueing them, rows written for them in all)."""
    net = new_network(backend, clock, backlog)
    try:
        net.disconnect(INAGI)
        seed(net, clock, backlog)
        written = RowsWritten(net)
        start = time.perf_counter()
        net.run_until_quiet()  # the CS forwards into its outbox; nothing leaves
        queued_s = time.perf_counter() - start
        before = count_changes(net)
        net.reconnect(INAGI)
        start = time.perf_counter()
        net.run_until_quiet()
        drain_s = time.perf_counter() - start
        arrived = count_changes(net) - before
        assert arrived == backlog, (arrived, backlog)
        assert not net.check()
        return arrived, drain_s, queued_s, written.rows
    finally:
        net.dispose()


def run_backend(backend: Backend, residents: int, changes: int, backlog: int) -> list[list[object]]:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    net = new_network(backend, clock, residents)
    try:
        seed(net, clock, residents)
        start = time.perf_counter()
        net.run_until_quiet()
        seed_s = time.perf_counter() - start
        sample = identity_rows(net.municipality(INAGI).engine, max(20_000, backlog))
        raw = raw_limits(backend.new_url, sample)  # on as many rows as the backlog drained
        before = count_changes(net)
        start = time.perf_counter()
        moved = relocate(net, clock, changes, "百村")
        services_s = time.perf_counter() - start
        net.run_until_quiet()
        total_s = time.perf_counter() - start
        arrived = count_changes(net) - before
        assert arrived >= moved, (arrived, moved)
        assert not net.check()
        latency = quiet_latency(net, clock)
    finally:
        net.dispose()
    drained, drain_s, queued_s, written = backlog_drain(backend, clock, backlog)
    limit = raw["executemany"]
    rows: list[list[object]] = []

    def row(flow: str, rate: float) -> None:
        ratios = " / ".join(f"{rate / v:.1%}" for v in raw.values())
        rows.append([backend.name, flow, f"{rate:,.0f}", f"{limit:,.0f}", ratios])

    row(f"seeded identity_info → national ({residents:,})", residents / seed_s)
    row(f"relocations → national, network part ({moved:,})", moved / (total_s - services_s))
    row("relocations → national, registry included", moved / total_s)
    rows.append(
        [backend.name, "  of which the registry alone", f"{moved / services_s:,.0f}", "", ""]
    )
    row(f"backlog after 離脱 drained ({drained:,})", drained / drain_s)
    rows.append(
        [backend.name, "  its queueing at the CS while away", f"{drained / queued_s:,.0f}", "", ""]
    )
    per = written / drained
    rows.append(
        [
            backend.name,
            f"  rows written per identity_info: {per:.1f}; rows/s",
            f"{per * drained / (drain_s + queued_s):,.0f}",
            f"{limit:,.0f}",
            f"{per * drained / (drain_s + queued_s) / limit:.0%} of executemany",
        ]
    )
    rows.append(
        [
            backend.name,
            "one change on a quiet network (s)",
            f"{max(latency):.3f} max",
            "1.000",
            f"median {sorted(latency)[len(latency) // 2]:.3f}",
        ]
    )
    if "COPY" in raw:
        rows.append([backend.name, "  raw COPY of identity rows", f"{raw['COPY']:,.0f}", "", ""])
    level = raw[LEVEL_WRITES]
    rows.append([backend.name, "  raw: a level's writes (one node)", f"{level:,.0f}", "", ""])
    return rows


def main(residents: int, changes: int, which: str, backlog: int = 10_000) -> None:
    import os

    sign = raw_sign_verify()
    print(
        f"network: {residents:,} residents seeded, ~{changes:,} relocations (whole households), "
        f"a backlog of {backlog:,}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"raw ECDSA P-256 sign+verify of an envelope: {sign:,.0f}/s on one core")
    rows: list[list[object]] = []
    with backends(which) as found:
        for backend in found:
            rows += run_backend(backend, residents, changes, backlog)
    print(
        table(
            [
                "backend",
                "flow",
                "identity_info/s",
                "raw batched insert/s",
                RATIOS,
            ],
            rows,
        )
    )
    print(
        "each identity_info crosses two hops (municipality → prefecture → national), in signed "
        "batches; all three nodes run on one core here, two of them levels that write. "
        + LIMITS_NOTE
    )
