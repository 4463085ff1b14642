"""The record of every provision to an agency and every refusal (provision_records).

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

Code = sa.String(length=32)
Timestamp = sa.String(length=40)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "provision_records",
        sa.Column("record_id", BigId, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("task_ref", sa.String(length=64), nullable=True),
        sa.Column("task_effective_from", sa.Date(), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("lookup", Code, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("lg_code", sa.String(length=6), nullable=True),
        sa.Column("resident_code", sa.String(length=11), nullable=True),
        sa.Column("items", sa.String(length=200), nullable=False),
        sa.Column("outcome", Code, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_provision_records")),
    )
    op.create_index(
        op.f("ix_provision_records_resident_code"), "provision_records", ["resident_code"]
    )
    op.create_index(op.f("ix_provision_records_at"), "provision_records", ["at"])
    op.create_index(
        op.f("ix_provision_records_agency_id_task_ref"),
        "provision_records",
        ["agency_id", "task_ref"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_provision_records_agency_id_task_ref"), table_name="provision_records")
    op.drop_index(op.f("ix_provision_records_at"), table_name="provision_records")
    op.drop_index(op.f("ix_provision_records_resident_code"), table_name="provision_records")
    op.drop_table("provision_records")
