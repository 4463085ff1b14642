"""The record items as the law reads them: a foreign resident's 通称 history (令第30条の27) on the
record, and the mayor's title and name that every certificate prints (市区町村長の職名と氏名).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resident_records") as batch:
        batch.add_column(sa.Column("alias_history", sa.Text(), nullable=True))
    with op.batch_alter_table("municipality") as batch:
        batch.add_column(sa.Column("mayor_title", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("mayor_name", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("municipality") as batch:
        batch.drop_column("mayor_name")
        batch.drop_column("mayor_title")
    with op.batch_alter_table("resident_records") as batch:
        batch.drop_column("alias_history")
