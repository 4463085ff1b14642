"""The card CA's ledger records 一時停止 (held_at): a held certificate is on the CRL with the
reason certificateHold until the municipality resumes the card; and a kiosk_void that arrives
before its request is kept as a line of the register of kiosk requests with no kind (the
request never came), so the late request is refused.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("card_certificates") as batch:
        batch.add_column(sa.Column("held_at", sa.String(length=40), nullable=True))
    with op.batch_alter_table("kiosk_requests") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM kiosk_requests WHERE kind IS NULL")
    with op.batch_alter_table("kiosk_requests") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table("card_certificates") as batch:
        batch.drop_column("held_at")
