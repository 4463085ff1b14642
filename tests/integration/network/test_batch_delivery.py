"""Batches on the network: a backlog goes in few requests, still exactly once and in order, a
crash at any write of a batch loses and duplicates nothing, and each message inside a batch is
held to its sender's authority as if it came alone. A node process settles an acknowledged
batch behind the next one (`DeliveryWorker.settle_behind`), with the same guarantees."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.network import store
from juki.network import tables as nt
from juki.network.batch import MESSAGE_BATCH, signed_batch
from juki.network.delivery import DeliveryWorker
from juki.network.envelope import (
    MAX_ENVELOPE_BYTES,
    MAX_MESSAGE_BODY_BYTES,
    Envelope,
    canonical_json,
    uuid7,
)
from juki.network.identity_runs import MAX_CHANGES, IdentityInfoChanges
from juki.network.messages import IdentityInfoBody, IdentityInfoChanged, body_of
from juki.network.receiver import ReceiverConfig
from juki.network.store import Outgoing
from juki.network.transport import ReplyStatus
from juki.nodes.codes import POOL_BATCH
from juki.nodes.layout import municipality, national, prefecture
from juki.nodes.memory import InProcessNetwork, build_network, reopen_network
from juki.nodes.metrics import NodeMetrics
from juki.nodes.tables import code_ledger, identity_changes, identity_copies
from juki.population.seeding import seed_registry
from juki.security.actors import Actor
from juki.sim.faults import DiskState, SimCrash, install_disk_hooks
from support.db_copies import sqlite_copy
from support.wire import Wire

INAGI, TOKYO, NAGANO_CITY = "132250", "130001", "202011"
RESIDENTS = 120


def _clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))


def _layout() -> tuple[object, ...]:
    tokyo = prefecture(TOKYO, "東京都")
    nagano = prefecture("200000", "長野県")
    return (
        national(),
        tokyo,
        nagano,
        municipality(INAGI, tokyo, "稲城市"),
        municipality(NAGANO_CITY, nagano, "長野市"),
    )


@pytest.fixture(scope="module")
def _seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[InProcessNetwork, Path]:
    """稲城市 with its residents seeded, their identity_info not yet sent (built once)."""
    directory = tmp_path_factory.mktemp("batches")
    net = build_network(
        _layout(),  # type: ignore[arg-type]
        lambda node_id: f"sqlite:///{directory}/{node_id}.db",
        _clock(),
        seed=3,
    )
    net.national.allot(INAGI, RESIDENTS + POOL_BATCH)
    net.national.allot(NAGANO_CITY, POOL_BATCH)
    net.run_until_quiet()
    seed_registry(
        net.municipality(INAGI).engine,
        lg_code=INAGI,
        residents=RESIDENTS,
        seed=3,
        by=Actor.system("test"),
        clock=_clock(),
    )
    net.dispose()
    return net, directory


@pytest.fixture
def net(_seeded: tuple[InProcessNetwork, Path], tmp_path: Path) -> Iterator[InProcessNetwork]:
    built, directory = _seeded
    urls = {n: sqlite_copy(directory / f"{n}.db", tmp_path) for n in built.nodes}
    network = reopen_network(built, urls.__getitem__, _clock(), seed=3)
    yield network
    network.dispose()


def count(node: object, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with node.engine.connect() as conn:  # type: ignore[attr-defined]
        query = sa.select(sa.func.count()).select_from(table)
        return int(conn.execute(query.where(*where) if where else query).scalar_one())


def held_by_inagi(net: InProcessNetwork, limit: int | None = None) -> list[IdentityInfoBody]:
    """稲城市's CS's copies of its residents' identity_info, in code order."""
    inagi = net.municipality(INAGI)
    query = sa.select(identity_copies).order_by(identity_copies.c.resident_code).limit(limit)
    with inagi.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    fields = IdentityInfoBody.model_fields
    return [IdentityInfoBody.model_validate({k: r[k] for k in fields}) for r in rows]


def queue_singles(net: InProcessNetwork) -> int:
    """稲城市's CS queues each of its residents' identity_info again as a message of its own
    (as many small changes each forwarded alone would be): how many."""
    net.run_until_quiet()
    inagi = net.municipality(INAGI)
    singles = [IdentityInfoChanged(identity=i) for i in held_by_inagi(net)]
    with inagi.engine.begin() as conn:
        inagi.send_many(conn, TOKYO, singles)
    return len(singles)


def queue_mixed(net: InProcessNetwork) -> int:
    """A batch of both shapes: one change alone, then a message of two (identity_info held
    again, so every level still agrees): the changes queued."""
    inagi = net.municipality(INAGI)
    first, *two = held_by_inagi(net, 3)
    messages = [
        IdentityInfoChanged(identity=first),
        IdentityInfoChanges(lg_code=INAGI, changes=two),
    ]
    with inagi.engine.begin() as conn:
        inagi.send_many(conn, TOKYO, messages)
    return 3


def inbox_of(node: object, message_type: str) -> int:
    return count(node, nt.net_inbox, nt.net_inbox.c.message_type == message_type)


def test_a_seeded_backlog_goes_up_as_runs_and_every_change_arrives_once(
    net: InProcessNetwork,
) -> None:
    wire = Wire(net)
    net.run_until_quiet()
    assert count(net.national, identity_copies, identity_copies.c.lg_code == INAGI) == RESIDENTS
    assert count(net.national, identity_changes) == RESIDENTS
    # 120 changes forwarded together: one identity_info_changes at each level, not 120 messages
    for node in (net.nodes[TOKYO], net.national):
        assert 1 <= inbox_of(node, "identity_info_changes") <= 2
        assert inbox_of(node, "identity_info_changed") == 0
    assert wire.requests["batch"] + wire.requests["single"] < RESIDENTS // 4
    assert net.check() == []
    for node in net.nodes.values():
        assert count(node, nt.net_outbox, nt.net_outbox.c.status == "pending") == 0
        assert count(node, nt.net_dead_letters) == 0


def test_a_backlog_of_single_messages_goes_in_batches_and_each_arrives_once(
    net: InProcessNetwork,
) -> None:
    net.run_until_quiet()
    before = count(net.national, identity_changes)
    wire = Wire(net)
    queued = queue_singles(net)
    net.run_until_quiet()
    assert count(net.national, identity_changes) == before + queued
    assert inbox_of(net.nodes[TOKYO], "identity_info_changed") == queued
    # two hops of 120 messages each: in batches
    assert wire.requests["batch"] >= 2
    assert wire.requests["batch"] + wire.requests["single"] < queued // 4
    assert net.check() == []


def test_a_batchs_messages_are_counted_in_the_metrics_each(net: InProcessNetwork) -> None:
    """The counters are updated once per kind of reply, by how many had it: still one count
    per message received."""
    net.run_until_quiet()
    metrics = {node_id: NodeMetrics() for node_id in (TOKYO, "national")}
    for node_id, events in metrics.items():
        net.nodes[node_id].receiver.events = events
    queued = queue_singles(net)
    net.run_until_quiet()
    for events in metrics.values():
        received = events.registry.get_sample_value(
            "juki_messages_received_total",
            {"message_type": "identity_info_changed", "outcome": "applied"},
        )
        assert received == queued


# The writes every batch of identity_info makes there: the copies' upsert, the history, (at the
# prefecture: the link and the outbox, for national), the inbox, the link's number.
@pytest.mark.parametrize(("node_id", "writes"), [(TOKYO, 6), ("national", 4)])
def test_a_crash_at_any_write_of_a_batch_loses_and_duplicates_nothing(
    net: InProcessNetwork, node_id: str, writes: int
) -> None:
    """The receiver dies at its 1st, 2nd, … write of a batch: nothing of it is committed, the
    sender was not answered and sends it again, and each message is applied exactly once."""
    net.run_until_quiet()
    disk = DiskState()
    install_disk_hooks(
        net.nodes[node_id].engine, node_id, disk, full=False, crash=False, mid_batch=True
    )
    made = 0
    for write in range(1, writes + 1):
        made += queue_mixed(net)
        disk.crash_mid_batch = write
        with pytest.raises(SimCrash, match="in the middle of batch"):
            net.run_until_quiet()
        net.run_until_quiet()
        assert disk.crash_mid_batch == 0
    assert made == writes * 3
    changes = count(net.national, identity_changes)
    assert changes == RESIDENTS + made
    # each message applied once, at each level: no change of a message twice (a message of
    # changes writes one history row for each of its changes, under its own id)
    with net.national.engine.connect() as conn:
        dup = conn.execute(
            sa.select(identity_changes.c.message_id)
            .group_by(
                identity_changes.c.message_id,
                identity_changes.c.resident_code,
                identity_changes.c.body,
            )
            .having(sa.func.count() > 1)
        ).all()
    assert dup == []
    assert net.check() == []


def test_a_message_its_sender_may_not_send_is_refused_inside_a_batch(
    net: InProcessNetwork,
) -> None:
    """長野市 reports a 稲城市 resident in the middle of its own changes: that one message is
    refused and recorded, those before it are applied, and the link goes on past it."""
    net.run_until_quiet()
    nagano = net.municipality(NAGANO_CITY)
    with net.national.engine.connect() as conn:
        inagi_row = (
            conn.execute(
                sa.select(identity_copies).where(identity_copies.c.lg_code == INAGI).limit(1)
            )
            .mappings()
            .one()
        )
    stolen = IdentityInfoBody.model_validate(
        {k: inagi_row[k] for k in IdentityInfoBody.model_fields} | {"address": "長野県長野市1"}
    )
    own = [
        IdentityInfoBody.model_validate(
            stolen.model_dump() | {"lg_code": NAGANO_CITY, "resident_code": code}
        )
        for code in _codes_of(net, NAGANO_CITY, 4)
    ]
    with nagano.engine.begin() as conn:
        nagano.send_many(
            conn,
            "200000",
            [IdentityInfoChanged(identity=i) for i in (own[0], own[1], stolen, own[2], own[3])],
        )
    net.run_until_quiet()
    refusals = count(
        net.nodes["200000"], nt.net_refusals, nt.net_refusals.c.reason == "unauthorised"
    )
    assert refusals == 1
    assert count(nagano, nt.net_dead_letters, nt.net_dead_letters.c.reason == "unauthorised") == 1
    assert count(net.national, identity_copies, identity_copies.c.lg_code == NAGANO_CITY) == 4
    with net.national.engine.connect() as conn:
        kept = conn.execute(
            sa.select(identity_copies.c.address).where(
                (identity_copies.c.lg_code == INAGI)
                & (identity_copies.c.resident_code == stolen.resident_code)
            )
        ).scalar_one()
    assert kept != "長野県長野市1"


def _codes_of(net: InProcessNetwork, lg_code: str, n: int) -> list[str]:
    """Codes of `lg_code`'s pool at national: valid resident codes nobody holds yet."""
    with net.national.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(code_ledger.c.resident_code)
                .where((code_ledger.c.lg_code == lg_code) & code_ledger.c.used_at.is_(None))
                .order_by(code_ledger.c.resident_code)
                .limit(n)
            ).scalars()
        )


def test_a_malformed_batch_is_refused_whole_and_recorded(net: InProcessNetwork) -> None:
    """Signed by a node of the network, but a message in it is not one: refused as malformed
    (recorded, nothing applied), an answer and not a server error."""
    inagi = net.municipality(INAGI)
    now = inagi.clock.now()
    items = [
        {
            "message_id": uuid7(now, inagi.rng),
            "message_type": "identity_info_changed",
            "schema_version": 2,
            "seq": 1,
            "body": {},
        },
        {
            "message_id": "not-a-uuid",
            "message_type": "identity_info_changed",
            "schema_version": 2,
            "seq": 2,
            "body": {},
        },
    ]
    env = Envelope(
        uuid7(now, inagi.rng),
        MESSAGE_BATCH,
        1,
        INAGI,
        TOKYO,
        now.isoformat(),
        1,
        {"messages": items},
    ).signed(inagi.identity.key)
    reply = net.transport.send(TOKYO, "", env.to_bytes())
    assert (reply.status, reply.reason) == (ReplyStatus.REFUSED, "malformed")
    assert "messages[1].message_id" in reply.detail
    tokyo = net.nodes[TOKYO]
    assert count(tokyo, nt.net_refusals, nt.net_refusals.c.reason == "malformed") == 1
    assert count(tokyo, nt.net_inbox) == 0


def test_a_batch_past_the_next_number_is_answered_with_a_gap(net: InProcessNetwork) -> None:
    inagi = net.municipality(INAGI)
    now = inagi.clock.now()
    body = {"identity": {}}
    items = [
        {
            "message_id": uuid7(now, inagi.rng),
            "message_type": "identity_info_changed",
            "schema_version": 2,
            "seq": seq,
            "body": body,
        }
        for seq in (5, 6)
    ]
    env = Envelope(
        uuid7(now, inagi.rng),
        MESSAGE_BATCH,
        1,
        INAGI,
        TOKYO,
        now.isoformat(),
        5,
        {"messages": items},
    ).signed(inagi.identity.key)
    reply = net.transport.send(TOKYO, "", env.to_bytes())
    assert [(r.status, r.expected_seq) for r in reply.items] == [(ReplyStatus.GAP, 1)]


def _larger_than_alone(net: InProcessNetwork) -> IdentityInfoChanges:
    """A run of 稲城市's changes larger than a message alone may be (its residents moved again
    and again, to long addresses): none of our CSs packs one, a batch could carry it."""
    held = held_by_inagi(net)
    changes = [
        held[i % len(held)].model_copy(update={"address": f"東京都稲城市{i:04d}" + "番" * 380})
        for i in range(MAX_CHANGES)
    ]
    return IdentityInfoChanges(lg_code=INAGI, changes=changes)


def test_a_run_too_large_to_go_alone_is_passed_up_in_parts_that_can(
    net: InProcessNetwork,
) -> None:
    net.run_until_quiet()
    inagi, tokyo = net.municipality(INAGI), net.nodes[TOKYO]
    run = _larger_than_alone(net)
    body = canonical_json(body_of(run))
    assert len(body) > MAX_MESSAGE_BODY_BYTES
    with tokyo.engine.connect() as conn:
        seq = int(store.link_row(conn, INAGI).last_recv_seq) + 1
    with inagi.engine.begin() as conn:  # the CS's link moves as if it had sent it
        conn.execute(
            nt.net_links.update().where(nt.net_links.c.peer == TOKYO).values(next_send_seq=seq + 1)
        )
    now, before = inagi.clock.now(), count(net.national, identity_changes)
    header = {"protocol": 1, "message_id": uuid7(now, inagi.rng), "message_type": MESSAGE_BATCH,
              "schema_version": 1, "sender": INAGI, "recipient": TOKYO,
              "created_at": now.isoformat(), "seq": seq}  # fmt: skip
    item = (uuid7(now, inagi.rng), "identity_info_changes", 1, seq, body.decode())
    reply = net.transport.send(TOKYO, "", signed_batch(inagi.identity.key, header, [item]))
    assert [r.status for r in reply.items] == [ReplyStatus.APPLIED]
    with tokyo.engine.connect() as conn:
        parts = conn.execute(
            sa.select(nt.net_outbox.c.body).where(
                (nt.net_outbox.c.peer == "national") & (nt.net_outbox.c.status == "pending")
            )
        ).scalars()
        sizes = [len(p.encode()) for p in parts]
    assert len(sizes) >= 4 and max(sizes) <= MAX_MESSAGE_BODY_BYTES
    net.run_until_quiet()
    assert count(net.national, identity_changes) == before + MAX_CHANGES
    # both levels hold every resident's last change (the CS, never told, still its own)
    assert (
        _addresses(tokyo)
        == _addresses(net.national)
        == {c.resident_code: c.address for c in run.changes}
    )
    for node in net.nodes.values():
        assert count(node, nt.net_dead_letters) == 0


def _addresses(node: object) -> dict[str, str]:
    c = identity_copies.c
    with node.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(sa.select(c.resident_code, c.address).where(c.lg_code == INAGI))
        return {r.resident_code: r.address for r in rows}


def test_a_receiver_that_takes_only_small_batches_gets_them_and_nothing_waits(
    net: InProcessNetwork,
) -> None:
    """The first large batch is refused as oversized; the same messages go again at once in
    batches it takes: nothing is retried later, nothing dead, every change arrives once."""
    net.run_until_quiet()
    inagi = net.municipality(INAGI)
    # 東京都 as a node from before batches could be larger than a message alone (ADR 0010)
    net.nodes[TOKYO].receiver.config = ReceiverConfig(max_batch_bytes=MAX_ENVELOPE_BYTES)
    wire = Wire(net)
    held, before = held_by_inagi(net), count(net.national, identity_changes)
    runs = [IdentityInfoChanges(lg_code=INAGI, changes=held) for _ in range(8)]
    with inagi.engine.begin() as conn:
        inagi.send_many(conn, TOKYO, runs)
    net.run_until_quiet()
    assert wire.refused == Counter({"oversized": 1})
    assert count(net.national, identity_changes) == before + 8 * len(held)
    assert count(inagi, nt.net_outbox, nt.net_outbox.c.attempts > 0) == 0
    for node in net.nodes.values():
        assert count(node, nt.net_dead_letters) == 0


def test_large_batches_past_the_receivers_turns_are_answered_busy_and_go_later(
    net: InProcessNetwork,
) -> None:
    """While as many large batches as 東京都 parses at once are being applied, another waits
    its turn and is then answered busy (memory stays bounded), while a request no larger than
    a message alone is not held; the batch goes again later and every change arrives once."""
    net.run_until_quiet()
    tokyo, inagi = net.nodes[TOKYO], net.municipality(INAGI)
    tokyo.receiver.config = ReceiverConfig(large_wait=timedelta(milliseconds=50))
    wire = Wire(net)
    held, before = held_by_inagi(net), count(net.national, identity_changes)
    runs = [IdentityInfoChanges(lg_code=INAGI, changes=held) for _ in range(8)]
    turns = tokyo.receiver.config.large_at_once
    for _ in range(turns):  # every turn taken: large batches being applied
        assert tokyo.receiver._large.acquire(timeout=1)
    try:
        with inagi.engine.begin() as conn:
            inagi.send_many(conn, TOKYO, runs)
        net.run_until_quiet()
        assert wire.reasons["busy"] == 1
        assert count(inagi, nt.net_outbox, nt.net_outbox.c.attempts > 0) == 1  # to go again
        assert count(net.national, identity_changes) == before
        assert tokyo.receiver.receive(b"{}").reason == "malformed"  # small: not held
    finally:
        for _ in range(turns):
            tokyo.receiver._large.release()
    inagi.clock.advance(timedelta(minutes=10))  # past the retry's backoff (one clock)
    net.run_until_quiet()
    assert count(net.national, identity_changes) == before + 8 * len(held)
    for node in net.nodes.values():
        assert count(node, nt.net_dead_letters) == 0
    assert net.check() == []


SMALL_BATCH = 8  # messages to a batch: 120 go in many, each settled behind the next


@pytest.fixture
def settling(net: InProcessNetwork) -> Iterator[InProcessNetwork]:
    """`net` with every node settling behind, as a node process does, in small batches."""
    net.run_until_quiet()
    for node in net.nodes.values():
        node.worker.max_batch = SMALL_BATCH
        node.worker.settle_behind()
    yield net
    for node in net.nodes.values():
        node.worker.close()


def applied_twice(net: InProcessNetwork) -> list[object]:
    """Changes national holds twice under one message id (a message applied twice)."""
    c = identity_changes.c
    with net.national.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(c.message_id, c.resident_code)
                .group_by(c.message_id, c.resident_code)
                .having(sa.func.count() > 1)
            ).all()
        )


def test_batches_settled_behind_arrive_once_in_order_and_none_goes_twice(
    settling: InProcessNetwork,
) -> None:
    net = settling
    before = count(net.national, identity_changes)
    wire = Wire(net)
    queued = queue_singles(net)
    net.run_until_quiet()
    assert count(net.national, identity_changes) == before + queued
    assert wire.statuses == Counter({"applied": 2 * queued})  # two hops, no duplicate
    assert wire.requests["batch"] >= 2 * queued // SMALL_BATCH
    assert applied_twice(net) == []
    for node in net.nodes.values():  # every acknowledged message settled, none left pending
        assert count(node, nt.net_outbox, nt.net_outbox.c.status != "delivered") == 0
    # in order: 東京都 holds each of 稲城市's numbers once, none skipped (a message out of
    # order would have been answered with a gap, above)
    with net.nodes[TOKYO].engine.connect() as conn:
        seqs = sorted(
            conn.execute(
                sa.select(nt.net_inbox.c.seq).where(nt.net_inbox.c.sender == INAGI)
            ).scalars()
        )
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) > queued
    assert net.check() == []


def test_a_batch_whose_settling_failed_goes_again_and_is_answered_as_duplicates(
    settling: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if the process had died between the reply and the settling: the messages stay
    pending, go again, and the receiver answers each a duplicate."""
    net = settling
    failed: list[int] = []
    mark = DeliveryWorker._mark_delivered

    def fail_once(self: DeliveryWorker, acked: list[tuple[Outgoing, str]]) -> None:
        if self.node_id == INAGI and not failed:
            failed.append(len(acked))
            raise RuntimeError("the process died before it settled the batch")
        mark(self, acked)

    monkeypatch.setattr(DeliveryWorker, "_mark_delivered", fail_once)
    before = count(net.national, identity_changes)
    wire = Wire(net)
    queued = queue_singles(net)
    net.run_until_quiet()
    assert failed == [SMALL_BATCH]
    assert wire.statuses["duplicate"] == SMALL_BATCH
    assert count(net.national, identity_changes) == before + queued
    assert applied_twice(net) == []
    inagi = net.municipality(INAGI)
    assert count(inagi, nt.net_outbox, nt.net_outbox.c.status != "delivered") == 0
    assert net.check() == []


def test_a_settling_sender_learns_when_it_is_due_while_its_node_holds_the_write_lock(
    settling: InProcessNetwork,
) -> None:
    """How long the sender may sleep is read on the snapshot: a receiver applying a batch
    (here a transaction held open) does not hold the sender up until it commits."""
    worker = settling.municipality(INAGI).worker
    held, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with worker.engine.begin():  # BEGIN IMMEDIATE: the node's write lock
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert held.wait(30)
        answered: list[object] = []
        reader = threading.Thread(target=lambda: answered.append(worker.next_attempt_at()))
        reader.start()
        reader.join(30)
        assert not reader.is_alive()  # answered while the lock was still held
        assert answered == [None]  # nothing waits out a backoff
    finally:
        release.set()
        holder.join()
