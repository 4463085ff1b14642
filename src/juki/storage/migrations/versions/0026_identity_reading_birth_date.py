"""A lookup by the four items keys on (reading, birth date): one index on both.

The reading alone repeats across a national index (`python -m bench provision`, 1 million
persons: a lookup fetched every person of a reading to keep those born that day, ≈ 160 a second
in plain SQL); the pair finds the few it needs. It replaces the index on the reading alone, of
which it is a prefix.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_identity_copies_name_kana_key", table_name="identity_copies")
    op.create_index(
        "ix_identity_copies_name_kana_key_birth_date",
        "identity_copies",
        ["name_kana_key", "birth_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_identity_copies_name_kana_key_birth_date", table_name="identity_copies")
    op.create_index(
        "ix_identity_copies_name_kana_key", "identity_copies", ["name_kana_key"], unique=False
    )
