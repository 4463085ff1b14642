"""A batch the sender assembles always fits in one batch envelope, whatever its messages hold,
and no message in it is larger than it could be alone: the outbox refuses to queue one."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from juki.network import batch_store, pki, store
from juki.network.batch import (
    ITEM_OVERHEAD_BYTES,
    MAX_BATCH_BODY_BYTES,
    MAX_BATCH_ENVELOPE_BYTES,
    MAX_BATCH_MESSAGES,
    MESSAGE_BATCH,
    signed_batch,
)
from juki.network.envelope import (
    MAX_MESSAGE_BODY_BYTES,
    MAX_SEQ,
    Envelope,
    canonical_json,
    uuid7,
)
from juki.network.tables import net_inbox, net_links, net_outbox

NOW = datetime(2025, 4, 1, tzinfo=UTC)
KEY = pki.generate_key()
LONGEST_TYPE = "x" * 64  # the longest a message type may be

texts = st.text(st.sampled_from('東京都稲城市アイウ葛󠄂\U0002000b a"\\\n'), max_size=3000)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(bodies=["葛󠄂" * 3000] * (MAX_BATCH_MESSAGES + 10), first_seq=MAX_SEQ // 2)
@example(bodies=["東京都稲城市東長沼1丁目" * 20] * (MAX_BATCH_MESSAGES + 10), first_seq=1)
@given(st.lists(texts, min_size=1, max_size=MAX_BATCH_MESSAGES + 50), st.integers(1, MAX_SEQ // 2))
def test_a_full_batch_fits_in_one_envelope(bodies: list[str], first_seq: int) -> None:
    engine = sa.create_engine("sqlite://")
    for table in (net_outbox, net_links, net_inbox):
        table.create(engine)
    rng = random.Random(1)
    with engine.begin() as conn:
        conn.execute(
            net_links.insert().values(peer="130001", next_send_seq=first_seq, last_recv_seq=0)
        )
        batch_store.enqueue(
            conn,
            "130001",
            [(LONGEST_TYPE, 32767, {"text": b}, uuid7(NOW, rng)) for b in bodies],
            NOW,
        )
    with engine.connect() as conn:
        head = store.next_due(conn, NOW, frozenset())
        assert head is not None
        batch = batch_store.following(conn, head, MAX_BATCH_MESSAGES, MAX_BATCH_BODY_BYTES)
    header: dict[str, Any] = {
        "protocol": 1,
        "message_id": head.message_id,
        "message_type": MESSAGE_BATCH,
        "schema_version": 1,
        "sender": "x" * 16,
        "recipient": "y" * 16,
        "created_at": NOW.isoformat(),
        "seq": head.seq,
    }
    payload = signed_batch(
        KEY,
        header,
        [(m.message_id, m.message_type, m.schema_version, m.seq, m.raw_body) for m in batch],
    )
    assert len(batch) >= 1
    if len(batch) > 1:
        assert len(payload) <= MAX_BATCH_ENVELOPE_BYTES
        Envelope.from_bytes(payload, max_bytes=MAX_BATCH_ENVELOPE_BYTES)  # within the limit
    assert (
        len(batch) == len(bodies)
        or len(batch) == MAX_BATCH_MESSAGES
        or len(payload) > (MAX_BATCH_ENVELOPE_BYTES // 2)
    )
    engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(
    sizes=[10] + [200_000] * 5, max_messages=MAX_BATCH_MESSAGES, max_bytes=MAX_BATCH_BODY_BYTES
)
@example(
    sizes=[200_000] + [10] * 50, max_messages=MAX_BATCH_MESSAGES, max_bytes=MAX_BATCH_BODY_BYTES
)
@given(
    sizes=st.lists(st.sampled_from([0, 10, 300, 2_000, 40_000, 200_000]), min_size=1, max_size=80),
    max_messages=st.sampled_from([1, 2, 7, MAX_BATCH_MESSAGES]),
    max_bytes=st.sampled_from([1_000, 50_000, MAX_BATCH_BODY_BYTES]),
)
def test_a_batch_is_the_longest_run_behind_the_head_that_fits(
    sizes: list[int], max_messages: int, max_bytes: int
) -> None:
    """Read in pages sized by the messages already read: still exactly the longest stretch from
    the head within both limits (the head alone when nothing fits with it), whatever the mix."""
    engine = sa.create_engine("sqlite://")
    for table in (net_outbox, net_links, net_inbox):
        table.create(engine)
    rng = random.Random(2)
    bodies = [{"text": "葛" * (n // 3)} for n in sizes]
    with engine.begin() as conn:
        conn.execute(net_links.insert().values(peer="130001", next_send_seq=1, last_recv_seq=0))
        batch_store.enqueue(conn, "130001", [("t", 1, b, uuid7(NOW, rng)) for b in bodies], NOW)
    weights = [len(canonical_json(b)) + ITEM_OVERHEAD_BYTES for b in bodies]
    expected, total = 1, weights[0]
    while expected < min(len(weights), max_messages) and total + weights[expected] <= max_bytes:
        total += weights[expected]
        expected += 1
    with engine.connect() as conn:
        head = store.next_due(conn, NOW, frozenset())
        assert head is not None
        batch = batch_store.following(conn, head, max_messages, max_bytes)
    assert [m.seq for m in batch] == list(range(1, expected + 1))
    engine.dispose()


def test_a_body_that_could_not_go_alone_is_never_queued() -> None:
    """A batch may be larger than a message alone; a message retried goes alone, so one larger
    than that is refused when queued, alone or among others, and the link does not move."""
    engine = sa.create_engine("sqlite://")
    for table in (net_outbox, net_links, net_inbox):
        table.create(engine)
    rng = random.Random(3)
    fits = {"text": "x" * (MAX_MESSAGE_BODY_BYTES - 20)}
    over = {"text": "x" * MAX_MESSAGE_BODY_BYTES}
    assert len(canonical_json(fits)) <= MAX_MESSAGE_BODY_BYTES < len(canonical_json(over))
    with engine.begin() as conn:
        conn.execute(net_links.insert().values(peer="130001", next_send_seq=1, last_recv_seq=0))
        with pytest.raises(store.MessageTooLarge, match=f"limit {MAX_MESSAGE_BODY_BYTES}"):
            store.enqueue(conn, peer="130001", message_type="t", schema_version=1, body=over,
                          message_id=uuid7(NOW, rng), now=NOW)  # fmt: skip
        with pytest.raises(store.MessageTooLarge):
            batch_store.enqueue(conn, "130001", [("t", 1, fits, uuid7(NOW, rng)),
                                                 ("t", 1, over, uuid7(NOW, rng))], NOW)  # fmt: skip
        assert store.link_row(conn, "130001").next_send_seq == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(net_outbox)).scalar() == 0
        store.enqueue(conn, peer="130001", message_type="t", schema_version=1, body=fits,
                      message_id=uuid7(NOW, rng), now=NOW)  # fmt: skip
        assert store.link_row(conn, "130001").next_send_seq == 2
    engine.dispose()
