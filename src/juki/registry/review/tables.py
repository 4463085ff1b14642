"""The tables of review: provisional changes (仮登録, kept with their decision for good) and the
edit locks held on residents and households."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import Code, Timestamp, metadata

provisional_changes = sa.Table(
    "provisional_changes",
    metadata,
    sa.Column("change_id", sa.String(36), primary_key=True),
    sa.Column("kind", Code, nullable=False),
    sa.Column("command", sa.Text, nullable=False),  # the validated command, JSON
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("targets", sa.Text, nullable=False),  # JSON list: record:ID, household:ID
    sa.Column("versions", sa.Text, nullable=False),  # JSON {record_id: version read}
    sa.Column("clerk_id", sa.String(64), nullable=False, index=True),
    sa.Column("clerk_role", Code, nullable=False),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("session_sha256", sa.String(64), nullable=True),
    sa.Column("entered_at", Timestamp, nullable=False),
    sa.Column("status", Code, nullable=False, index=True),
    sa.Column("reviewer_id", sa.String(64), nullable=True),
    sa.Column("reviewed_at", Timestamp, nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("records", sa.Text, nullable=False),  # JSON list: the records the 本登録 wrote
    info={"class": "personal"},
)

edit_locks = sa.Table(
    "edit_locks",
    metadata,
    sa.Column("target", sa.String(80), primary_key=True),
    sa.Column("operator_id", sa.String(64), nullable=False),
    sa.Column("session_sha256", sa.String(64), nullable=True),
    sa.Column("token_sha256", sa.String(64), nullable=True),  # taken with this API token
    sa.Column("change_id", sa.String(36), nullable=True, index=True),
    sa.Column("acquired_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    info={"class": "security"},
)
