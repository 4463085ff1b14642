"""Network messages of issue 10's leftovers: a record says whether its 転出届 was card-based
(the municipality the 転出証明書情報 was sent to), so a 転出取消 can tell that destination; the
destination marks what it holds as withdrawn; and a record keeps the period of the 支援措置 in
force on its latest change, which the 附票 notice (v3) carries to the 本籍 municipality, which
keeps it with the entry. A record flagged before this revision gets its period with its next
change (a 支援措置 action or any other).

A card-based move-out recorded before this revision has no destination on its record: its
withdrawal tells nobody, as before (docs/law.md says so).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resident_records") as batch:
        batch.add_column(sa.Column("card_move_out_lg_code", sa.String(6), nullable=True))
        batch.add_column(sa.Column("support_starts_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("support_ends_on", sa.Date(), nullable=True))
    with op.batch_alter_table("move_out_infos") as batch:
        batch.add_column(sa.Column("withdrawn_on", sa.Date(), nullable=True))
    with op.batch_alter_table("fuhyo_entries") as batch:
        batch.add_column(sa.Column("support_starts_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("support_ends_on", sa.Date(), nullable=True))


_DROPPED: Final = (
    ("fuhyo_entries", "support_ends_on"),
    ("fuhyo_entries", "support_starts_on"),
    ("move_out_infos", "withdrawn_on"),
    ("resident_records", "support_ends_on"),
    ("resident_records", "support_starts_on"),
    ("resident_records", "card_move_out_lg_code"),
)


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+ and PostgreSQL), not a batch copy: copying
    # resident_records would drop a table other tables' foreign keys point at.
    for table, column in _DROPPED:
        op.drop_column(table, column)
