"""附票連携: the 附票本人確認情報 each 本籍 municipality sends up, kept by its prefecture and by
national with every change (fuhyo_identity_copies, fuhyo_identity_changes); and the country of
a 国外転出 on the 附票 (fuhyo_entries.abroad_country, 附票記載事項通知 v4).

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

Name = sa.String(length=200)
Address = sa.String(length=400)
Code = sa.String(length=32)
Timestamp = sa.String(length=40)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CHANGE_INDEXES = (["lg_code", "resident_code"], ["resident_code"], ["name_kana_key", "birth_date"])


def upgrade() -> None:
    with op.batch_alter_table("fuhyo_entries") as batch:
        batch.add_column(sa.Column("abroad_country", Address, nullable=True))
    op.create_table(
        "fuhyo_identity_copies",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("family_name", Name, nullable=False),
        sa.Column("given_name", Name, nullable=False),
        sa.Column("family_name_kana", Name, nullable=False),
        sa.Column("given_name_kana", Name, nullable=False),
        sa.Column("name_kana_key", sa.String(length=400), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", Code, nullable=False),
        sa.Column("address", Address, nullable=False),
        sa.Column("moved_abroad", sa.Boolean(), nullable=False),
        sa.Column("abroad_country", Address, nullable=True),
        sa.Column("status", Code, nullable=False),
        sa.Column("change_reason", Code, nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("snapshot_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("lg_code", "resident_code", name=op.f("pk_fuhyo_identity_copies")),
    )
    op.create_index(
        op.f("ix_fuhyo_identity_copies_resident_code"), "fuhyo_identity_copies", ["resident_code"]
    )
    op.create_index(
        op.f("ix_fuhyo_identity_copies_name_kana_key_birth_date"),
        "fuhyo_identity_copies",
        ["name_kana_key", "birth_date"],
    )
    op.create_table(
        "fuhyo_identity_changes",
        sa.Column("change_id", BigId, autoincrement=True, nullable=False),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("name_kana_key", sa.String(length=400), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_fuhyo_identity_changes")),
    )
    for columns in CHANGE_INDEXES:
        op.create_index(
            op.f(f"ix_fuhyo_identity_changes_{'_'.join(columns)}"),
            "fuhyo_identity_changes",
            columns,
        )


def downgrade() -> None:
    for columns in CHANGE_INDEXES:
        op.drop_index(
            op.f(f"ix_fuhyo_identity_changes_{'_'.join(columns)}"),
            table_name="fuhyo_identity_changes",
        )
    op.drop_table("fuhyo_identity_changes")
    op.drop_index(
        op.f("ix_fuhyo_identity_copies_name_kana_key_birth_date"),
        table_name="fuhyo_identity_copies",
    )
    op.drop_index(
        op.f("ix_fuhyo_identity_copies_resident_code"), table_name="fuhyo_identity_copies"
    )
    op.drop_table("fuhyo_identity_copies")
    with op.batch_alter_table("fuhyo_entries") as batch:
        batch.drop_column("abroad_country")
