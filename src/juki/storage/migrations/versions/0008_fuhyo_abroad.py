"""The 附票 records 国外転出者である旨 (法第17条): a notice of a move abroad says so, and the 本籍
municipality keeps it with the entry; and whether the person is under a 支援措置, which travels
with the notice so that the 本籍 municipality refuses 附票の写し to third parties.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fuhyo_entries") as batch:
        batch.add_column(
            sa.Column("moved_abroad", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("support_measure", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("fuhyo_entries") as batch:
        batch.drop_column("support_measure")
        batch.drop_column("moved_abroad")
