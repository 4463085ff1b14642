"""The outbox and inbox for batches: many rows of one link in a few statements.

Functions take a connection in an open transaction, as in `juki.network.store`: the caller
decides what commits together. Rows are written with executemany (one statement for a batch),
so a batch costs the database a fixed handful of round trips, not a handful per message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from juki.network.batch import ITEM_OVERHEAD_BYTES
from juki.network.envelope import Envelope
from juki.network.store import DELIVERED, PENDING, Outgoing, link_row, queued_body
from juki.network.tables import net_inbox, net_links, net_outbox
from juki.storage.bulk import BulkWrite, PerDialect, one_of
from juki.storage.driver_query import DriverQuery
from juki.storage.watch import announce

# The columns of `Outgoing`, in its order, on the driver's cursor: a batch's rows are read as
# plain tuples, without SQLAlchemy's row processing.
_FOLLOWING: Final = DriverQuery(
    sa.select(
        net_outbox.c.outbox_id,
        net_outbox.c.message_id,
        net_outbox.c.peer,
        net_outbox.c.seq,
        net_outbox.c.message_type,
        net_outbox.c.schema_version,
        net_outbox.c.body,
        net_outbox.c.created_at,
        net_outbox.c.attempts,
    )
    .where(
        (net_outbox.c.peer == sa.bindparam("k_peer"))
        & (net_outbox.c.status == PENDING)
        & (net_outbox.c.seq >= sa.bindparam("k_seq"))
    )
    .order_by(net_outbox.c.seq)
    .limit(sa.bindparam("k_limit"))
)
_SETTLE: Final = PerDialect(
    lambda dialect: net_outbox.update().where(one_of(net_outbox.c.outbox_id, "k_ids", dialect))
)
_ADVANCE: Final = net_links.update().where(net_links.c.peer == sa.bindparam("k_peer"))
# Rows written on the driver's own executemany / arrays (`juki.storage.bulk`).
_WRITE_OUTBOX: Final = BulkWrite(
    net_outbox,
    (
        "message_id",
        "peer",
        "seq",
        "message_type",
        "schema_version",
        "body",
        "created_at",
        "status",
        "attempts",
        "next_attempt_at",
    ),
)
_WRITE_INBOX: Final = BulkWrite(
    net_inbox, ("message_id", "sender", "seq", "message_type", "received_at", "outcome")
)
_INBOX_OF: Final = PerDialect(
    lambda dialect: sa.select(net_inbox.c.message_id, net_inbox.c.outcome).where(
        (net_inbox.c.sender == sa.bindparam("k_sender"))
        & one_of(net_inbox.c.message_id, "k_ids", dialect)
    )
)


def following(
    conn: sa.Connection, head: Outgoing, max_messages: int, max_bytes: int
) -> list[Outgoing]:
    """`head` and the pending messages right behind it on its link, in order, as many as fit
    in `max_messages` and about `max_bytes`: the backlog decides the batch's size, so a lone
    message goes at once and a long queue goes in full batches.

    Read in pages sized by what the last message weighed, so bodies that will not fit are not
    read at all: a link of messages of many changes (a quarter of a megabyte each) had read every
    pending body at each step, quadratic in a 離脱's backlog."""
    out: list[Outgoing] = []
    size, seq, weight = 0, head.seq, _weight(head.raw_body)
    while len(out) < max_messages:
        want = min(max_messages - len(out), max(1, (max_bytes - size) // weight) + 1)
        rows = _FOLLOWING.rows(conn, {"k_peer": head.peer, "k_seq": seq, "k_limit": want})
        for row in rows:
            weight = _weight(row[6])
            if out and (row[3] != out[-1].seq + 1 or size + weight > max_bytes):
                return out
            size += weight
            out.append(Outgoing(*row))
        if len(rows) < want:
            break
        seq = out[-1].seq + 1
    return out or [head]


def due_after(conn: sa.Connection, peer: str, seq: int, now: datetime) -> Outgoing | None:
    """The message right after `seq` on `peer`'s link if it is pending, never tried and due:
    where the link goes on while the messages up to `seq` are being settled."""
    rows = _NEXT_ON_LINK.rows(conn, {"k_peer": peer, "k_seq": seq + 1})
    if not rows:
        return None
    *outgoing, due = rows[0]
    msg = Outgoing(*outgoing)
    return msg if msg.attempts == 0 and due <= now.isoformat() else None


# `_FOLLOWING`'s columns for the one message numbered `k_seq`, and when it is due.
_NEXT_ON_LINK: Final = DriverQuery(
    sa.select(*_FOLLOWING.statement.selected_columns, net_outbox.c.next_attempt_at).where(
        (net_outbox.c.peer == sa.bindparam("k_peer"))
        & (net_outbox.c.status == PENDING)
        & (net_outbox.c.seq == sa.bindparam("k_seq"))
    )
)


def _weight(body: str) -> int:
    """A message's bytes in a batch, as the envelope counts them."""
    return len(body.encode()) + ITEM_OVERHEAD_BYTES


def mark_delivered(
    conn: sa.Connection, settled: Sequence[tuple[Outgoing, str]], now: datetime
) -> None:
    """Acknowledged messages of a batch, each with the outcome its reply named."""
    if not settled:
        return
    stamp = now.isoformat()
    by_outcome: dict[str, list[int]] = {}
    for m, outcome in settled:
        by_outcome.setdefault(outcome, []).append(m.outbox_id)
    for outcome, ids in by_outcome.items():
        conn.execute(
            _SETTLE(conn),
            {"k_ids": ids, "status": DELIVERED, "outcome": outcome, "delivered_at": stamp},
        )


def enqueue(
    conn: sa.Connection,
    peer: str,
    messages: Sequence[tuple[str, int, dict[str, Any], str]],
    now: datetime,
) -> list[int]:
    """Queue (type, schema version, body, message id) messages for `peer`, in order, taking
    the link's next sequence numbers: one read and one write of the link for them all.
    `store.MessageTooLarge` (nothing queued) if a body could not go alone."""
    if not messages:
        return []
    bodies = [queued_body(body) for _, _, body, _ in messages]
    first = int(link_row(conn, peer).next_send_seq)
    conn.execute(_ADVANCE, {"k_peer": peer, "next_send_seq": first + len(messages)})
    stamp = now.isoformat()
    _WRITE_OUTBOX.write(
        conn,
        [
            (
                message_id,
                peer,
                first + i,
                message_type,
                version,
                bodies[i],
                stamp,
                PENDING,
                0,
                stamp,
            )
            for i, (message_type, version, _, message_id) in enumerate(messages)
        ],
    )
    announce(conn)  # as `store.enqueue`: the node wakes once this commits
    return [first + i for i in range(len(messages))]


def inbox_outcomes(conn: sa.Connection, sender: str, message_ids: Sequence[str]) -> dict[str, str]:
    """What became of those of these messages that came before (by id), in one query."""
    rows = conn.execute(_INBOX_OF(conn), {"k_sender": sender, "k_ids": list(message_ids)}).all()
    return {r.message_id: r.outcome for r in rows}


def record_received(
    conn: sa.Connection, received: Sequence[tuple[Envelope, str]], now: datetime
) -> None:
    """Inbox rows for a batch's messages, and the link's last number: the last of them."""
    if not received:
        return
    stamp = now.isoformat()
    _WRITE_INBOX.write(
        conn,
        [
            (env.message_id, env.sender, env.seq, env.message_type, stamp, outcome)
            for env, outcome in received
        ],
    )
    last = max(env.seq for env, _ in received)
    conn.execute(_ADVANCE, {"k_peer": received[0][0].sender, "last_recv_seq": last})
