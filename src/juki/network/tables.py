"""The network's own state on every node: links and their sequence numbers, the outgoing
queue, the inbox of applied message ids, dead letters, refusals and small key/value state."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import BigId, Code, Timestamp, metadata

net_links = sa.Table(
    "net_links",
    metadata,
    sa.Column("peer", sa.String(16), primary_key=True),
    sa.Column("next_send_seq", sa.BigInteger, nullable=False),
    sa.Column("last_recv_seq", sa.BigInteger, nullable=False),
    info={"class": "network"},
)

net_outbox = sa.Table(
    "net_outbox",
    metadata,
    sa.Column("outbox_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(36), nullable=False, unique=True),
    sa.Column("peer", sa.String(16), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("message_type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("status", Code, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", Timestamp),
    sa.Column("outcome", Code),
    sa.UniqueConstraint("peer", "seq"),
    sa.Index(None, "status", "peer", "seq"),
    info={"class": "network"},
)

net_inbox = sa.Table(
    "net_inbox",
    metadata,
    sa.Column("sender", sa.String(16), primary_key=True),
    sa.Column("message_id", sa.String(36), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("message_type", sa.String(64), nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Column("outcome", Code, nullable=False),
    info={"class": "network"},
)

net_dead_letters = sa.Table(
    "net_dead_letters",
    metadata,
    sa.Column("dead_letter_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("direction", Code, nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False),
    sa.Column("peer", sa.String(16), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("message_type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("reason", Code, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("replayed_at", Timestamp),
    info={"class": "network"},
)

net_refusals = sa.Table(
    "net_refusals",
    metadata,
    sa.Column("refusal_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("claimed_sender", sa.String(64), nullable=False),
    sa.Column("claimed_message_id", sa.String(64), nullable=False),
    sa.Column("reason", Code, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    info={"class": "network"},
)

net_state = sa.Table(
    "net_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    info={"class": "network"},
)
