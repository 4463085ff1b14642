"""A node process settles an acknowledged batch on a thread of its own while the next one goes
(`DeliveryWorker.settle_behind`): every change still arrives once and in order, nothing is sent
twice while settling goes well, and a batch whose settling failed (as if the process died
before it) is sent again and answered as duplicates, never applied twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.network import tables as nt
from juki.network.delivery import DeliveryWorker
from juki.network.messages import IdentityInfoBody, IdentityInfoChanged
from juki.network.store import Outgoing
from juki.network.transport import Reply
from juki.nodes.codes import POOL_BATCH
from juki.nodes.layout import municipality, national, prefecture
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.tables import identity_changes, identity_copies
from juki.population.seeding import seed_registry
from juki.security.actors import Actor

INAGI, TOKYO = "132250", "130001"
RESIDENTS = 60
BATCH = 8  # messages to a batch: a backlog of 60 goes in several, each settled behind the next


def _clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))


class Replies:
    """The in-memory transport, counting each message's reply by its status."""

    def __init__(self, net: InProcessNetwork) -> None:
        self.inner = net.transport
        self.statuses: Counter[str] = Counter()
        for node in net.nodes.values():
            node.worker.transport = self

    def send(self, recipient: str, endpoint: str, payload: bytes) -> Reply:
        reply = self.inner.send(recipient, endpoint, payload)
        for item in reply.items or (reply,):
            self.statuses[item.status.value] += 1
        return reply


@pytest.fixture
def net(tmp_path: Path) -> Iterator[InProcessNetwork]:
    tokyo = prefecture(TOKYO, "東京都")
    network = build_network(
        (national(), tokyo, municipality(INAGI, tokyo, "稲城市")),
        lambda node_id: f"sqlite:///{tmp_path}/{node_id}.db",
        _clock(),
        seed=5,
    )
    network.national.allot(INAGI, RESIDENTS + POOL_BATCH)
    network.run_until_quiet()
    seed_registry(
        network.municipality(INAGI).engine,
        lg_code=INAGI,
        residents=RESIDENTS,
        seed=5,
        by=Actor.system("test"),
        clock=_clock(),
    )
    network.run_until_quiet()
    for node in network.nodes.values():
        node.worker.max_batch = BATCH
        node.worker.settle_behind()
    yield network
    for node in network.nodes.values():
        node.worker.close()
    network.dispose()


def count(node: object, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with node.engine.connect() as conn:  # type: ignore[attr-defined]
        query = sa.select(sa.func.count()).select_from(table)
        return int(conn.execute(query.where(*where) if where else query).scalar_one())


def queue_singles(net: InProcessNetwork) -> int:
    """稲城市's CS queues each resident's identity_info again, a message each: how many."""
    inagi = net.municipality(INAGI)
    fields = IdentityInfoBody.model_fields
    with inagi.engine.connect() as conn:
        rows = conn.execute(sa.select(identity_copies)).mappings().all()
    singles = [
        IdentityInfoChanged(identity=IdentityInfoBody.model_validate({k: r[k] for k in fields}))
        for r in rows
    ]
    with inagi.engine.begin() as conn:
        inagi.send_many(conn, TOKYO, singles)
    return len(singles)


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
    net: InProcessNetwork,
) -> None:
    before = count(net.national, identity_changes)
    wire = Replies(net)
    queued = queue_singles(net)
    net.run_until_quiet()
    assert count(net.national, identity_changes) == before + queued
    assert wire.statuses == Counter({"applied": 2 * queued})  # two hops, no duplicate
    assert applied_twice(net) == []
    for node in net.nodes.values():  # every acknowledged message settled, none left pending
        assert count(node, nt.net_outbox, nt.net_outbox.c.status != "delivered") == 0
    # in order: the prefecture holds each of 稲城市's numbers once, none skipped (a message out
    # of order would have been answered with a gap, above)
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
    net: InProcessNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if the process had died between the reply and the settling: the messages stay
    pending, go again, and the receiver answers each a duplicate."""
    failed: list[int] = []
    mark = DeliveryWorker._mark_delivered

    def fail_once(self: DeliveryWorker, acked: list[tuple[Outgoing, str]]) -> None:
        if self.node_id == INAGI and not failed:
            failed.append(len(acked))
            raise RuntimeError("the process died before it settled the batch")
        mark(self, acked)

    monkeypatch.setattr(DeliveryWorker, "_mark_delivered", fail_once)
    before = count(net.national, identity_changes)
    wire = Replies(net)
    queued = queue_singles(net)
    net.run_until_quiet()
    assert failed == [BATCH]
    assert wire.statuses["duplicate"] == BATCH
    assert count(net.national, identity_changes) == before + queued
    assert applied_twice(net) == []
    assert count(net.municipality(INAGI), nt.net_outbox, nt.net_outbox.c.status != "delivered") == 0
    assert net.check() == []
