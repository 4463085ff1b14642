"""The kiosk relay on the national node: its minimal issuance record (kiosk_issuances).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

Code = sa.String(length=32)
Timestamp = sa.String(length=40)


def upgrade() -> None:
    op.create_table(
        "kiosk_issuances",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("kind", Code, nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("fee_yen", sa.Integer(), nullable=False),
        sa.Column("status", Code, nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_kiosk_issuances")),
    )
    for column in ("at", "store_id"):
        op.create_index(op.f(f"ix_kiosk_issuances_{column}"), "kiosk_issuances", [column])


def downgrade() -> None:
    for column in ("store_id", "at"):
        op.drop_index(op.f(f"ix_kiosk_issuances_{column}"), table_name="kiosk_issuances")
    op.drop_table("kiosk_issuances")
