"""Outbox, inbox, links, dead letters and refusals in the node's own database.

Functions take a connection in an open transaction: the caller decides what commits together
(an outgoing message with the change that caused it; an incoming one's inbox row with its effect).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from juki.network.envelope import MAX_MESSAGE_BODY_BYTES, Envelope, canonical_json
from juki.network.messages import CURRENT_VERSION, LINK_SKIP, LinkSkip, body_of
from juki.network.tables import (
    net_dead_letters,
    net_inbox,
    net_links,
    net_outbox,
    net_refusals,
    net_state,
)
from juki.storage.bulk import PerDialect
from juki.storage.watch import announce

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Outgoing:
    outbox_id: int
    message_id: str
    peer: str
    seq: int
    message_type: str
    schema_version: int
    raw_body: str  # canonical JSON, as queued: a batch carries it without decoding it
    created_at: str
    attempts: int

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.raw_body)
        return parsed


# Built once: each message reads its link twice (sender and receiver) and the receiver its
# inbox; a statement built per call paid its construction and cache key every time.
_LINK = sa.select(net_links).where(net_links.c.peer == sa.bindparam("k_peer"))
_LOCKED_LINK = _LINK.with_for_update()
_INBOX_OUTCOME = sa.select(net_inbox.c.outcome).where(
    (net_inbox.c.sender == sa.bindparam("k_sender"))
    & (net_inbox.c.message_id == sa.bindparam("k_message_id"))
)


def link_row(conn: sa.Connection, peer: str) -> sa.Row[Any]:
    """The link to `peer`, locked for this transaction (made on first use)."""
    row = conn.execute(_LOCKED_LINK, {"k_peer": peer}).first()
    if row is None:
        conn.execute(net_links.insert().values(peer=peer, next_send_seq=1, last_recv_seq=0))
        row = conn.execute(_LINK, {"k_peer": peer}).one()
    return row


class MessageTooLarge(ValueError):
    """A body larger than a message alone may carry: queued, it could travel in a batch but
    never be retried alone. Nothing was queued (raised before the link's sequence moves)."""


def queued_body(body: dict[str, Any]) -> str:
    """A message's body as the outbox keeps it (canonical JSON), refused over
    `MAX_MESSAGE_BODY_BYTES`."""
    data = canonical_json(body)
    if len(data) > MAX_MESSAGE_BODY_BYTES:
        raise MessageTooLarge(f"a body of {len(data)} bytes, limit {MAX_MESSAGE_BODY_BYTES}")
    return data.decode("utf-8")


def enqueue(
    conn: sa.Connection,
    *,
    peer: str,
    message_type: str,
    schema_version: int,
    body: dict[str, Any],
    message_id: str,
    now: datetime,
) -> int:
    """Queue a message for `peer`, taking the link's next sequence number (and wake the node's
    stepper when it commits, should another process be queueing it). `MessageTooLarge` if
    the body could not go alone."""
    text = queued_body(body)
    seq = int(link_row(conn, peer).next_send_seq)
    conn.execute(_ADVANCE_SEND, {"k_peer": peer, "next_send_seq": seq + 1})
    stamp = now.isoformat()
    conn.execute(
        _INSERT_OUT,
        {
            "message_id": message_id,
            "peer": peer,
            "seq": seq,
            "message_type": message_type,
            "schema_version": schema_version,
            "body": text,
            "created_at": stamp,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": stamp,
        },
    )
    announce(conn)
    return seq


# Built once and executed with parameters: compiled a single time (see nodes/identity.py).
_ADVANCE_SEND = net_links.update().where(net_links.c.peer == sa.bindparam("k_peer"))
_ADVANCE_RECV = net_links.update().where(net_links.c.peer == sa.bindparam("k_peer"))
_INSERT_OUT = net_outbox.insert()
_INSERT_IN = net_inbox.insert()
_SETTLE_OUT = net_outbox.update().where(net_outbox.c.outbox_id == sa.bindparam("k_id"))


def outgoing_of(row: Any) -> Outgoing:
    return Outgoing(
        outbox_id=int(row.outbox_id),
        message_id=row.message_id,
        peer=row.peer,
        seq=int(row.seq),
        message_type=row.message_type,
        schema_version=int(row.schema_version),
        raw_body=row.body,
        created_at=row.created_at,
        attempts=int(row.attempts),
    )


def next_due(conn: sa.Connection, now: datetime, blocked: frozenset[str]) -> Outgoing | None:
    """The head of the link whose head is due soonest: links are sent strictly in order."""
    row = conn.execute(
        _NEXT_DUE(conn), {"now": now.isoformat(), "blocked": sorted(blocked)}
    ).first()
    return outgoing_of(row) if row is not None else None


def next_attempt_at(conn: sa.Connection, blocked: frozenset[str]) -> datetime | None:
    """When the soonest link head comes due (a retry waiting out its backoff), or None: how
    long an idle node may sleep before `next_due` has something for it."""
    stamp = conn.execute(_NEXT_ATTEMPT_AT(conn), {"blocked": sorted(blocked)}).scalar()
    return datetime.fromisoformat(stamp) if stamp is not None else None


def _link_heads(dialect: str) -> sa.ColumnElement[bool]:
    """The outbox row is a link's head, its lowest pending number. Each link's head is looked
    up in the (status, peer, seq) index, link by link, and the rows fetched by key: grouping
    every pending row instead (or joining on a correlated head, which both planners turned
    into a scan of the outbox) made each step cost the whole backlog, quadratic in a
    100,000-change drain after a 離脱. Every queued message's peer has a link row (`link_row`
    makes it when the first is queued)."""
    o, head = net_outbox.c, net_outbox.alias("head")
    first = (
        sa.select(head.c.outbox_id)
        .where((head.c.status == PENDING) & (head.c.peer == net_links.c.peer))
        .order_by(head.c.seq)
        .limit(1)
        .scalar_subquery()
    )
    heads = sa.select(first).select_from(net_links)
    if dialect == "postgresql":  # the heads first (one InitPlan), then each fetched by key
        return o.outbox_id == sa.any_(sa.func.array(heads.scalar_subquery()))
    return o.outbox_id.in_(heads)


def _next_due_statement(dialect: str) -> sa.Select[Any]:
    o = net_outbox.c
    return (
        sa.select(net_outbox)
        .where(_link_heads(dialect))
        .where(o.next_attempt_at <= sa.bindparam("now"))
        .where(o.peer.not_in(sa.bindparam("blocked", expanding=True)))
        .order_by(o.next_attempt_at, o.peer)
        .limit(1)
    )


def _next_attempt_statement(dialect: str) -> sa.Select[Any]:
    o = net_outbox.c
    return (
        sa.select(sa.func.min(o.next_attempt_at))
        .where(_link_heads(dialect))
        .where(o.peer.not_in(sa.bindparam("blocked", expanding=True)))
    )


_NEXT_DUE = PerDialect(_next_due_statement)
_NEXT_ATTEMPT_AT = PerDialect(_next_attempt_statement)


def mark_delivered(conn: sa.Connection, outbox_id: int, outcome: str, now: datetime) -> None:
    conn.execute(
        _SETTLE_OUT,
        {
            "k_id": outbox_id,
            "status": DELIVERED,
            "outcome": outcome,
            "delivered_at": now.isoformat(),
        },
    )


def mark_retry(
    conn: sa.Connection, outbox_id: int, attempts: int, next_at: datetime, error: str
) -> None:
    conn.execute(
        _SETTLE_OUT,
        {
            "k_id": outbox_id,
            "attempts": attempts,
            "next_attempt_at": next_at.isoformat(),
            "last_error": error[:1000],
        },
    )


def mark_dead(
    conn: sa.Connection,
    msg: Outgoing,
    reason: str,
    detail: str,
    now: datetime,
    skip_message_id: str,
) -> bool:
    """Give up on `msg`: it goes to the dead-letter list, and its place on the link is taken by a
    `link_skip` notice (same sequence number, a new message id) so the receiver can move past the
    number instead of asking for it forever. A skip notice that is itself refused for good ends
    dead with no replacement; True when a skip notice was queued."""
    add_dead_letter(
        conn,
        direction="out",
        message_id=msg.message_id,
        peer=msg.peer,
        seq=msg.seq,
        message_type=msg.message_type,
        schema_version=msg.schema_version,
        body=msg.body,
        reason=reason,
        detail=detail,
        now=now,
    )
    if msg.message_type == LINK_SKIP:
        conn.execute(
            net_outbox.update()
            .where(net_outbox.c.outbox_id == msg.outbox_id)
            .values(status=DEAD, outcome=reason, last_error=detail[:1000])
        )
        return False
    skip = LinkSkip(
        skipped_message_id=msg.message_id,
        skipped_message_type=msg.message_type,
        refusal=reason[:64],
    )
    conn.execute(
        net_outbox.update()
        .where(net_outbox.c.outbox_id == msg.outbox_id)
        .values(
            message_id=skip_message_id,
            message_type=LINK_SKIP,
            schema_version=CURRENT_VERSION[LINK_SKIP],
            body=canonical_json(body_of(skip)).decode("utf-8"),
            attempts=0,
            next_attempt_at=now.isoformat(),
            last_error=f"{reason}: {detail}"[:1000],
        )
    )
    return True


def rewind(conn: sa.Connection, peer: str, from_seq: int, now: datetime) -> int:
    """The receiver asked for `from_seq` again: every message from there on is pending again."""
    result = conn.execute(
        net_outbox.update()
        .where(
            (net_outbox.c.peer == peer)
            & (net_outbox.c.seq >= from_seq)
            & (net_outbox.c.status == DELIVERED)
        )
        .values(status=PENDING, next_attempt_at=now.isoformat())
    )
    return int(result.rowcount)


def requeue_dead_letter(
    conn: sa.Connection, dead_letter_id: int, message_id: str, now: datetime
) -> int | None:
    """Send an outgoing dead letter again, once its cause is fixed: the same content under a new
    message id and the link's next sequence number (its old number was skipped). The new
    sequence number, or None when there is no such open outgoing dead letter."""
    d = net_dead_letters.c
    row = conn.execute(
        sa.select(net_dead_letters).where(
            (d.dead_letter_id == dead_letter_id) & (d.direction == "out") & d.replayed_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    seq = enqueue(
        conn,
        peer=row.peer,
        message_type=row.message_type,
        schema_version=int(row.schema_version),
        body=json.loads(row.body),
        message_id=message_id,
        now=now,
    )
    conn.execute(
        net_dead_letters.update()
        .where(d.dead_letter_id == dead_letter_id)
        .values(replayed_at=now.isoformat())
    )
    return seq


def dead_letter_direction(conn: sa.Connection, dead_letter_id: int) -> str | None:
    return conn.execute(
        sa.select(net_dead_letters.c.direction).where(
            net_dead_letters.c.dead_letter_id == dead_letter_id
        )
    ).scalar_one_or_none()


# -- inbox ------------------------------------------------------------------------------------


def inbox_outcome(conn: sa.Connection, sender: str, message_id: str) -> str | None:
    """What became of this sender's message, if it came before (ids are the sender's own)."""
    return conn.execute(
        _INBOX_OUTCOME, {"k_sender": sender, "k_message_id": message_id}
    ).scalar_one_or_none()


def last_received(conn: sa.Connection, peer: str) -> int:
    return int(link_row(conn, peer).last_recv_seq)


def record_received(conn: sa.Connection, env: Envelope, outcome: str, now: datetime) -> None:
    conn.execute(
        _INSERT_IN,
        {
            "message_id": env.message_id,
            "sender": env.sender,
            "seq": env.seq,
            "message_type": env.message_type,
            "received_at": now.isoformat(),
            "outcome": outcome,
        },
    )
    conn.execute(_ADVANCE_RECV, {"k_peer": env.sender, "last_recv_seq": env.seq})


def add_dead_letter(
    conn: sa.Connection,
    *,
    direction: str,
    message_id: str,
    peer: str,
    seq: int,
    message_type: str,
    schema_version: int,
    body: dict[str, Any],
    reason: str,
    detail: str,
    now: datetime,
) -> None:
    conn.execute(
        net_dead_letters.insert().values(
            direction=direction,
            message_id=message_id,
            peer=peer,
            seq=seq,
            message_type=message_type,
            schema_version=schema_version,
            body=canonical_json(body).decode("utf-8"),
            reason=reason,
            detail=detail[:2000],
            at=now.isoformat(),
        )
    )


def record_refusal(
    conn: sa.Connection, *, sender: str, message_id: str, reason: str, detail: str, now: datetime
) -> None:
    conn.execute(
        net_refusals.insert().values(
            at=now.isoformat(),
            claimed_sender=_storable(sender[:64]),
            claimed_message_id=_storable(message_id[:64]),
            reason=reason,
            detail=_storable(detail[:2000]),
        )
    )


def _storable(claimed: str) -> str:
    """What a refused message claimed, as text any database takes: a lone surrogate from a JSON
    escape (`"\\ud800"`) cannot be encoded as UTF-8, so it is kept as its escape."""
    return claimed.encode("utf-8", "backslashreplace").decode("utf-8")


# -- state ------------------------------------------------------------------------------------


def get_state(conn: sa.Connection, key: str) -> str | None:
    return conn.execute(
        sa.select(net_state.c.value).where(net_state.c.key == key)
    ).scalar_one_or_none()


def set_state(conn: sa.Connection, key: str, value: str) -> None:
    updated = conn.execute(net_state.update().where(net_state.c.key == key).values(value=value))
    if updated.rowcount == 0:
        conn.execute(net_state.insert().values(key=key, value=value))


@dataclass(frozen=True, slots=True)
class LinkQueue:
    peer: str
    pending: int
    oldest_created_at: str | None
    max_attempts: int


def queues(conn: sa.Connection) -> list[LinkQueue]:
    o = net_outbox.c
    rows = conn.execute(
        sa.select(o.peer, sa.func.count(), sa.func.min(o.created_at), sa.func.max(o.attempts))
        .where(o.status == PENDING)
        .group_by(o.peer)
        .order_by(o.peer)
    ).all()
    return [LinkQueue(r[0], int(r[1]), r[2], int(r[3] or 0)) for r in rows]


def dead_letter_count(conn: sa.Connection) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(net_dead_letters)
            .where(net_dead_letters.c.replayed_at.is_(None))
        ).scalar_one()
    )


def open_dead_letters(conn: sa.Connection, limit: int) -> list[dict[str, Any]]:
    """Dead letters not replayed yet, oldest first, without their bodies (they hold
    identity_info): what an administrator needs to decide on a replay."""
    d = net_dead_letters.c
    rows = conn.execute(
        sa.select(
            d.dead_letter_id,
            d.direction,
            d.message_id,
            d.peer,
            d.seq,
            d.message_type,
            d.reason,
            d.detail,
            d.at,
        )
        .where(d.replayed_at.is_(None))
        .order_by(d.dead_letter_id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]
