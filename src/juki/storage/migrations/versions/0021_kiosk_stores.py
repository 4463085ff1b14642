"""Kiosk stores on the national node: who may call the relay (kiosk_stores).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

Code = sa.String(length=32)
Timestamp = sa.String(length=40)


def upgrade() -> None:
    op.create_table(
        "kiosk_stores",
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("operator_company", sa.String(length=100), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", Code, nullable=False),
        sa.Column("registered_at", Timestamp, nullable=False),
        sa.Column("withdrawn_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_kiosk_stores")),
    )


def downgrade() -> None:
    op.drop_table("kiosk_stores")
