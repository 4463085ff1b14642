"""The card CA's ledger records 一時停止 (held_at): a held certificate is on the CRL with the
reason certificateHold until the municipality resumes the card.

Revision ID: 0024
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("card_certificates") as batch:
        batch.add_column(sa.Column("held_at", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("card_certificates") as batch:
        batch.drop_column("held_at")
