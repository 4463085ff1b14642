"""The municipal registry: records, their change history, households, seals, outbox, oplog.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_allotments",
        sa.Column(
            "allotment_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("first_body", sa.BigInteger(), nullable=False),
        sa.Column("last_body", sa.BigInteger(), nullable=False),
        sa.Column("next_body", sa.BigInteger(), nullable=False),
        sa.Column("allotted_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("allotment_id", name=op.f("pk_code_allotments")),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "households",
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("formed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("dissolved_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_households")),
    )
    op.create_table(
        "municipality",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("prefecture", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", name=op.f("pk_municipality")),
    )
    op.create_table(
        "operators",
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("operator_id", name=op.f("pk_operators")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_operators_token_sha256")),
    )
    op.create_table(
        "oplog",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_oplog")),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "outbox_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("delivered_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    op.create_table(
        "resident_records",
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("my_number", sa.String(length=12), nullable=True),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name_kana", sa.String(length=200), nullable=False),
        sa.Column("given_name_kana", sa.String(length=200), nullable=False),
        sa.Column("name_kana_key", sa.String(length=400), nullable=False),
        sa.Column("former_surname", sa.String(length=200), nullable=True),
        sa.Column("former_surname_kana", sa.String(length=200), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=32), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("relationship", sa.String(length=32), nullable=False),
        sa.Column("honseki", sa.String(length=400), nullable=True),
        sa.Column("koseki_head", sa.String(length=200), nullable=True),
        sa.Column("resident_since", sa.Date(), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("address_since", sa.Date(), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("previous_address", sa.String(length=400), nullable=True),
        sa.Column("move_out_planned_address", sa.String(length=400), nullable=True),
        sa.Column("move_out_planned_on", sa.Date(), nullable=True),
        sa.Column("move_out_confirmed_address", sa.String(length=400), nullable=True),
        sa.Column("move_out_confirmed_on", sa.Date(), nullable=True),
        sa.Column("electoral_registered", sa.Boolean(), nullable=False),
        sa.Column("nhi_insured_since", sa.Date(), nullable=True),
        sa.Column("late_elderly_insured_since", sa.Date(), nullable=True),
        sa.Column("ltc_insured_since", sa.Date(), nullable=True),
        sa.Column("national_pension_category", sa.String(length=32), nullable=True),
        sa.Column("national_pension_since", sa.Date(), nullable=True),
        sa.Column("child_allowance_since", sa.Date(), nullable=True),
        sa.Column("is_foreign", sa.Boolean(), nullable=False),
        sa.Column("nationality", sa.String(length=200), nullable=True),
        sa.Column("foreign_category", sa.String(length=32), nullable=True),
        sa.Column("residence_status", sa.String(length=200), nullable=True),
        sa.Column("period_of_stay", sa.String(length=200), nullable=True),
        sa.Column("stay_expiry", sa.Date(), nullable=True),
        sa.Column("residence_card_number", sa.String(length=12), nullable=True),
        sa.Column("alias_name", sa.String(length=200), nullable=True),
        sa.Column("alias_name_kana", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("removal_reason", sa.String(length=32), nullable=True),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.household_id"],
            name=op.f("fk_resident_records_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_resident_records")),
    )
    with op.batch_alter_table("resident_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resident_records_birth_date"), ["birth_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resident_records_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resident_records_my_number"), ["my_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resident_records_name_kana_key"), ["name_kana_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resident_records_resident_code"), ["resident_code"], unique=False
        )
        batch_op.create_index(
            "uq_resident_records_active_code",
            ["resident_code"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "record_changes",
        sa.Column(
            "change_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["resident_records.record_id"],
            name=op.f("fk_record_changes_record_id_resident_records"),
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_record_changes")),
        sa.UniqueConstraint("record_id", "seq", name=op.f("uq_record_changes_record_id_seq")),
    )
    op.create_table(
        "seal_registrations",
        sa.Column("registration_number", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("image_png", sa.LargeBinary(), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("abolished_on", sa.Date(), nullable=True),
        sa.Column("abolish_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["resident_records.record_id"],
            name=op.f("fk_seal_registrations_record_id_resident_records"),
        ),
        sa.PrimaryKeyConstraint("registration_number", name=op.f("pk_seal_registrations")),
    )
    with op.batch_alter_table("seal_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seal_registrations_record_id"), ["record_id"], unique=False
        )
        batch_op.create_index(
            "uq_seal_registrations_live",
            ["record_id"],
            unique=True,
            sqlite_where=sa.text("status = 'live'"),
            postgresql_where=sa.text("status = 'live'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("seal_registrations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_seal_registrations_live",
            sqlite_where=sa.text("status = 'live'"),
            postgresql_where=sa.text("status = 'live'"),
        )
        batch_op.drop_index(batch_op.f("ix_seal_registrations_record_id"))

    op.drop_table("seal_registrations")
    op.drop_table("record_changes")
    with op.batch_alter_table("resident_records", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_resident_records_active_code",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_resident_records_resident_code"))
        batch_op.drop_index(batch_op.f("ix_resident_records_name_kana_key"))
        batch_op.drop_index(batch_op.f("ix_resident_records_my_number"))
        batch_op.drop_index(batch_op.f("ix_resident_records_household_id"))
        batch_op.drop_index(batch_op.f("ix_resident_records_birth_date"))

    op.drop_table("resident_records")
    op.drop_table("outbox")
    op.drop_table("oplog")
    op.drop_table("operators")
    op.drop_table("municipality")
    op.drop_table("households")
    op.drop_table("counters")
    op.drop_table("code_allotments")
