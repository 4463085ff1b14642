"""Operator tokens end: each has an expiry, and may be revoked (issue 10 §4).

Tokens issued before this revision get the default validity from the moment of the upgrade
(90 days, `juki.core.settings.DEFAULT_OPERATOR_TOKEN_DAYS` when it was written), so nobody is
locked out by the upgrade itself and no token lives forever.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("token_expires_at", sa.String(40), nullable=True))
        batch.add_column(sa.Column("token_revoked_at", sa.String(40), nullable=True))
    expires = datetime.now(UTC) + timedelta(days=DAYS)
    op.execute(
        sa.text("UPDATE operators SET token_expires_at = :expires").bindparams(
            expires=expires.isoformat()
        )
    )
    with op.batch_alter_table("operators") as batch:
        batch.alter_column("token_expires_at", existing_type=sa.String(40), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("token_revoked_at")
        batch.drop_column("token_expires_at")
