"""The national index's codes compare byte by byte, and a person's history is found by code.

At national size (`python -m bench national`) the index builds of an initial load take as long
as the COPY itself, and sorting text in the database's locale (strcoll, no abbreviated keys) is
most of it. Resident codes, my_numbers, lg_codes and the reading's search key are digits and
katakana compared for equality: in the "C" collation they sort by their bytes — the same order
for digits, code-point order for kana — and an index builds and is searched faster. SQLite
compares bytes already.

identity_changes was indexed on (lg_code, resident_code), which a provision `as_of` by
resident_code alone (across the municipalities a person lived in) cannot use, and 0031 added an
index on resident_code alone. Both give way to one on (resident_code, change_id): the history
in order, straight from the index.

identity_copies' key was (lg_code, resident_code) with a second index on resident_code: the
slowest build of a load (31–61 s of 101–155 s at 10 million), its leading column repeating
(a few thousand municipalities) so that nearly every comparison fell to the second. The key is
now (resident_code, lg_code): it serves a lookup by code itself, the index on resident_code
goes, and the queries by municipality alone (digests, a snapshot's stale rows) get an index on
lg_code.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# (table, column, length): the columns that become bytewise on PostgreSQL.
BYTEWISE = (
    ("identity_copies", "lg_code", 6),
    ("identity_copies", "resident_code", 11),
    ("identity_copies", "my_number", 12),
    ("identity_copies", "name_kana_key", 400),
    ("identity_changes", "lg_code", 6),
    ("identity_changes", "resident_code", 11),
    ("identity_changes", "name_kana_key", 400),
)


def _collate(collation: str | None) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in BYTEWISE:
        op.alter_column(
            table,
            column,
            type_=sa.String(length, collation=collation),
            existing_type=sa.String(length),
        )


def _copies_key(columns: list[str]) -> None:
    with op.batch_alter_table("identity_copies", recreate="always") as batch:
        batch.drop_constraint("pk_identity_copies", type_="primary")
        batch.create_primary_key("pk_identity_copies", columns)


def upgrade() -> None:
    _collate("C")
    _copies_key(["resident_code", "lg_code"])
    op.drop_index("ix_identity_copies_resident_code", table_name="identity_copies")
    op.create_index("ix_identity_copies_lg_code", "identity_copies", ["lg_code"])
    with op.batch_alter_table("identity_changes") as batch:
        batch.drop_index("ix_identity_changes_lg_code_resident_code")
        batch.drop_index("ix_identity_changes_resident_code")
        batch.create_index(
            "ix_identity_changes_resident_code_change_id", ["resident_code", "change_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_changes") as batch:
        batch.drop_index("ix_identity_changes_resident_code_change_id")
        batch.create_index("ix_identity_changes_resident_code", ["resident_code"])
        batch.create_index(
            "ix_identity_changes_lg_code_resident_code", ["lg_code", "resident_code"]
        )
    op.drop_index("ix_identity_copies_lg_code", table_name="identity_copies")
    op.create_index("ix_identity_copies_resident_code", "identity_copies", ["resident_code"])
    _copies_key(["lg_code", "resident_code"])
    _collate(None)
