"""Wide-area issuance (広域交付): the home municipality's register of requests, and where the
issuing municipality's certificates and register lines got their content.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wide_area_requests",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("requesting_lg_code", sa.String(length=6), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("subject_resident_code", sa.String(length=11), nullable=False),
        sa.Column("members", sa.String(length=600), nullable=False),
        sa.Column("items", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_wide_area_requests")),
    )
    with op.batch_alter_table("wide_area_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wide_area_requests_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_wide_area_requests_subject_resident_code"),
            ["subject_resident_code"],
            unique=False,
        )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_request_id", sa.String(length=36), nullable=True))
    with op.batch_alter_table("certificate_register", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_lg_code", sa.String(length=6), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificate_register", schema=None) as batch_op:
        batch_op.drop_column("source_lg_code")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("source_request_id")
    with op.batch_alter_table("wide_area_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wide_area_requests_subject_resident_code"))
        batch_op.drop_index(batch_op.f("ix_wide_area_requests_at"))
    op.drop_table("wide_area_requests")
