"""Operators and the operation log."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import BigId, Code, Name, Timestamp, metadata

oplog = sa.Table(
    "oplog",
    metadata,
    sa.Column("entry_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=False),
    sa.Column("role", Code, nullable=False),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(400), nullable=False),
    sa.Column("outcome", Code, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    # why (a case number or stated purpose; empty when none was given) and whether a 個人番号
    # was shown to the operator
    sa.Column("purpose", sa.String(200), nullable=False, server_default=""),
    sa.Column("my_number_shown", sa.Boolean, nullable=False, server_default=sa.false()),
    # the hash chain (`juki.security.chain`): the entry's place, the hash of the one before, its own
    sa.Column("seq", BigId, nullable=False, unique=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    info={"class": "audit"},
)

# The chain's newest entry, one row (id 1), written in the same transaction as each entry: on
# PostgreSQL `FOR UPDATE` on it serialises appends, so two transactions never fork the chain
# (on SQLite the writer lock does); and an entry removed from the end shows as a short chain.
oplog_head = sa.Table(
    "oplog_head",
    metadata,
    sa.Column("head_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", BigId, nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    info={"class": "audit"},
)

# Signed checkpoints of chain heads (`juki.nodes.checkpoints`): a node's own (`own`, signed with
# its node key) and its children's (`child`, checked and countersigned here).
oplog_checkpoints = sa.Table(
    "oplog_checkpoints",
    metadata,
    sa.Column("checkpoint_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", Code, nullable=False),
    sa.Column("node_id", sa.String(16), nullable=False),
    sa.Column("seq", BigId, nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.Column("signed_at", Timestamp, nullable=False),
    sa.Column("signature", sa.String(200), nullable=False),
    sa.Column("countersigned_by", sa.String(16), nullable=True),
    sa.Column("countersigned_at", Timestamp, nullable=True),
    sa.Column("countersignature", sa.String(200), nullable=True),
    sa.Index(None, "node_id", "seq"),
    info={"class": "audit"},
)

# Closed months sealed by `juki oplog export`: the month's first and last entry, the last hash,
# the archive's digest; `pruned_at` once its rows were removed (seven years on).
oplog_seals = sa.Table(
    "oplog_seals",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("first_seq", BigId, nullable=False),
    sa.Column("last_seq", BigId, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
    sa.Column("archive_sha256", sa.String(64), nullable=False),
    sa.Column("sealed_at", Timestamp, nullable=False),
    sa.Column("pruned_at", Timestamp, nullable=True),
    info={"class": "audit"},
)

operators = sa.Table(
    "operators",
    metadata,
    sa.Column("operator_id", sa.String(64), primary_key=True),
    sa.Column("display_name", Name, nullable=False),
    sa.Column("role", Code, nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    # The token's end: set when it is issued (`Settings.operator_token_days`), and the moment it
    # was revoked, if it was (`juki operator revoke`); either makes it answer 401 with its reason.
    sa.Column("token_expires_at", Timestamp, nullable=False),
    sa.Column("token_revoked_at", Timestamp, nullable=True),
    info={"class": "security"},
)

# -- the network (every node kind has these; each uses the ones its role needs) -------------
