"""仮登録 → 本登録 (issue 11, point 3): provisional changes kept with their decision, the edit
locks operators hold on residents and households, and the approver of each change in a record's
history (NULL for a change applied as it was made, before this revision or with review off).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_TS = sa.String(40)
_CODE = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "provisional_changes",
        sa.Column("change_id", sa.String(36), primary_key=True),
        sa.Column("kind", _CODE, nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("versions", sa.Text(), nullable=False),
        sa.Column("clerk_id", sa.String(64), nullable=False),
        sa.Column("clerk_role", _CODE, nullable=False),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("session_sha256", sa.String(64), nullable=True),
        sa.Column("entered_at", _TS, nullable=False),
        sa.Column("status", _CODE, nullable=False),
        sa.Column("reviewer_id", sa.String(64), nullable=True),
        sa.Column("reviewed_at", _TS, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("records", sa.Text(), nullable=False),
    )
    op.create_index("ix_provisional_changes_clerk_id", "provisional_changes", ["clerk_id"])
    op.create_index("ix_provisional_changes_status", "provisional_changes", ["status"])
    op.create_table(
        "edit_locks",
        sa.Column("target", sa.String(80), primary_key=True),
        sa.Column("operator_id", sa.String(64), nullable=False),
        sa.Column("session_sha256", sa.String(64), nullable=True),
        sa.Column("change_id", sa.String(36), nullable=True),
        sa.Column("acquired_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
    )
    op.create_index("ix_edit_locks_change_id", "edit_locks", ["change_id"])
    with op.batch_alter_table("record_changes") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(64), nullable=True))


def downgrade() -> None:
    # DROP COLUMN, not a batch copy (as 0015 does): other tables point at record_changes' table.
    op.drop_column("record_changes", "approved_by")
    op.drop_index("ix_edit_locks_change_id", table_name="edit_locks")
    op.drop_table("edit_locks")
    op.drop_index("ix_provisional_changes_status", table_name="provisional_changes")
    op.drop_index("ix_provisional_changes_clerk_id", table_name="provisional_changes")
    op.drop_table("provisional_changes")
