"""identity_info version 2: 氏名 includes the 旧氏 (令第30条の13) and a foreign resident's 通称
(令第30条の26), each with its reading, in every level's copy.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_NAMES = ("former_surname", "former_surname_kana", "alias_name", "alias_name_kana")


def upgrade() -> None:
    with op.batch_alter_table("identity_copies") as batch:
        for name in _NAMES:
            batch.add_column(sa.Column(name, sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_copies") as batch:
        for name in reversed(_NAMES):
            batch.drop_column(name)
