"""A permitted task says whether it may use 附票本人確認情報 (`permitted_tasks.fuhyo`).

法30条の44の6 lets the prefecture use 附票本人確認情報 only for 別表第五's tasks, and provide it
only for 別表第六's, as they concern 国外転出者. Provision answered a person abroad from the
附票 for any task; from now on only for a task whose register entry says so. Every version
already loaded gets false: none may use it until an amendment (a version with its own
`effective_from`, `"fuhyo": true`) is loaded, as the register never rewrites a version.

Revision ID: 0034
Revises: 0033
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("permitted_tasks") as batch:
        batch.add_column(
            sa.Column("fuhyo", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("permitted_tasks") as batch:
        batch.drop_column("fuhyo")
