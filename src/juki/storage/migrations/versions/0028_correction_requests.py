"""The requests to correct a record (訂正の申出) filed through the resident portal.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

Code = sa.String(length=32)
Timestamp = sa.String(length=40)


def upgrade() -> None:
    op.create_table(
        "correction_requests",
        sa.Column("request_id", sa.String(length=43), nullable=False),
        sa.Column("filed_at", Timestamp, nullable=False),
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("card_serial", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=400), nullable=False),
        sa.Column("status", Code, nullable=False),
        sa.Column("handled_at", Timestamp, nullable=True),
        sa.Column("handled_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_correction_requests")),
    )
    op.create_index(op.f("ix_correction_requests_filed_at"), "correction_requests", ["filed_at"])
    op.create_index(
        op.f("ix_correction_requests_resident_code"), "correction_requests", ["resident_code"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_correction_requests_resident_code"), table_name="correction_requests")
    op.drop_index(op.f("ix_correction_requests_filed_at"), table_name="correction_requests")
    op.drop_table("correction_requests")
