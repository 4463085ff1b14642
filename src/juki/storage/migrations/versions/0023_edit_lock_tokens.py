"""Edit locks taken with an API token name it (edit_locks.token_sha256): the lock ends when the
token is revoked, replaced or expires, as a terminal session's lock ends with the session.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("edit_locks") as batch:
        batch.add_column(sa.Column("token_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("edit_locks") as batch:
        batch.drop_column("token_sha256")
