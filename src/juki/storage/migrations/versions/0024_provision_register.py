"""The register of recipient agencies and permitted tasks (provision_agencies,
permitted_tasks, permitted_task_agencies).

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

Code = sa.String(length=32)
Timestamp = sa.String(length=40)


def upgrade() -> None:
    op.create_table(
        "provision_agencies",
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", Code, nullable=False),
        sa.Column("status", Code, nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_provision_agencies")),
    )
    op.create_table(
        "permitted_tasks",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("law_table", sa.String(length=8), nullable=False),
        sa.Column("law_row", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("items", sa.String(length=200), nullable=False),
        sa.Column("my_number_task", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("ref", "effective_from", name=op.f("pk_permitted_tasks")),
    )
    op.create_table(
        "permitted_task_agencies",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["provision_agencies.agency_id"],
            name=op.f("fk_permitted_task_agencies_agency_id_provision_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["ref", "effective_from"],
            ["permitted_tasks.ref", "permitted_tasks.effective_from"],
            name=op.f("fk_permitted_task_agencies_ref_permitted_tasks"),
        ),
        sa.PrimaryKeyConstraint(
            "ref", "effective_from", "agency_id", name=op.f("pk_permitted_task_agencies")
        ),
    )


def downgrade() -> None:
    op.drop_table("permitted_task_agencies")
    op.drop_table("permitted_tasks")
    op.drop_table("provision_agencies")
