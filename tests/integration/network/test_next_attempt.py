"""How long an idle node may sleep: until the soonest head of a link it may send on falls due.

A message behind its link's head waits for the head whatever its own time; a link to a
disconnected peer is not waited for (its traffic waits for the reconnection, which wakes the
node); nothing queued, nothing due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from juki.core.clock import JST
from juki.network import store
from juki.storage.engine import make_engine

NOW = datetime(2025, 4, 1, 9, 0, tzinfo=JST)


def _queue(conn: sa.Connection, peer: str, n: int) -> None:
    for i in range(n):
        store.enqueue(
            conn,
            peer=peer,
            message_type="identity_info_changed",
            schema_version=1,
            body={"n": i},
            message_id=f"{peer}-{i}",
            now=NOW,
        )


def test_the_soonest_due_link_head_is_when_an_idle_node_wakes(migrated_sqlite_url: str) -> None:
    engine = make_engine(migrated_sqlite_url)
    try:
        with engine.begin() as conn:
            assert store.next_attempt_at(conn, frozenset()) is None
            _queue(conn, "130001", 2)
            _queue(conn, "202011", 1)
            head = store.next_due(conn, NOW, frozenset({"202011"}))
            assert head is not None and head.peer == "130001"
            store.mark_retry(conn, head.outbox_id, 1, NOW + timedelta(seconds=40), "down")
            other = store.next_due(conn, NOW, frozenset({"130001"}))
            assert other is not None and other.peer == "202011"
            store.mark_retry(conn, other.outbox_id, 3, NOW + timedelta(seconds=9), "down")
        with engine.connect() as conn:
            # The second message to 130001 was due at NOW, but it waits behind its head.
            assert store.next_attempt_at(conn, frozenset()) == NOW + timedelta(seconds=9)
            assert store.next_attempt_at(conn, frozenset({"202011"})) == NOW + timedelta(seconds=40)
            assert store.next_attempt_at(conn, frozenset({"130001", "202011"})) is None
    finally:
        engine.dispose()
