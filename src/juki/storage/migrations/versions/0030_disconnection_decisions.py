"""離脱 as a decision: each disconnection of a municipality or prefecture, who decided, why, and
when it ended (issue 14, point 5).

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

Code = sa.String(length=32)
Timestamp = sa.String(length=40)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "disconnection_decisions",
        sa.Column("decision_id", BigId, autoincrement=True, nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("body_kind", Code, nullable=False),
        sa.Column("body_name", sa.String(length=100), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("legal_basis", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("ended_at", Timestamp, nullable=True),
        sa.Column("ended_by", sa.String(length=100), nullable=True),
        sa.Column("end_note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_disconnection_decisions")),
    )
    op.create_index(
        op.f("ix_disconnection_decisions_started_at"), "disconnection_decisions", ["started_at"]
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_disconnection_decisions_started_at"), table_name="disconnection_decisions"
    )
    op.drop_table("disconnection_decisions")
