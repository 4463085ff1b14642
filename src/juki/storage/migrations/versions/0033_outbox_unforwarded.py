"""The registry outbox's unforwarded rows get a partial index.

The CS asks at every step for the registry outbox rows not yet forwarded, in order
(`nodes.cs_pump`). Without an index on them that read every row ever forwarded: after a 離脱
with 100,000 changes queued it was the largest single cost of draining them (issue 15). A
partial index holds only the rows still to forward, so it stays small however long the
outbox grows.

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_unforwarded",
        "outbox",
        ["outbox_id"],
        sqlite_where=sa.text("delivered_at IS NULL"),
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unforwarded", table_name="outbox")
