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
