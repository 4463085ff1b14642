"""The network: links, outbox, inbox, dead letters, refusals, identity copies, my_numbers, 附票.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fuhyo_entries",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("honseki", sa.String(length=400), nullable=False),
        sa.Column("koseki_head", sa.String(length=200), nullable=False),
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name_kana", sa.String(length=200), nullable=False),
        sa.Column("given_name_kana", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("address_since", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("change_reason", sa.String(length=32), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("from_lg_code", sa.String(length=6), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_fuhyo_entries")),
        sa.UniqueConstraint("message_id", name=op.f("uq_fuhyo_entries_message_id")),
    )
    with op.batch_alter_table("fuhyo_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fuhyo_entries_honseki_koseki_head"),
            ["honseki", "koseki_head"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_fuhyo_entries_resident_code"), ["resident_code"], unique=False
        )

    op.create_table(
        "identity_changes",
        sa.Column(
            "change_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_identity_changes")),
    )
    with op.batch_alter_table("identity_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_changes_lg_code_resident_code"),
            ["lg_code", "resident_code"],
            unique=False,
        )

    op.create_table(
        "identity_copies",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("my_number", sa.String(length=12), nullable=True),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name_kana", sa.String(length=200), nullable=False),
        sa.Column("given_name_kana", sa.String(length=200), nullable=False),
        sa.Column("name_kana_key", sa.String(length=400), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("change_reason", sa.String(length=32), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.Column("snapshot_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("lg_code", "resident_code", name=op.f("pk_identity_copies")),
    )
    with op.batch_alter_table("identity_copies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_copies_my_number"), ["my_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_copies_name_kana_key"), ["name_kana_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_copies_resident_code"), ["resident_code"], unique=False
        )

    op.create_table(
        "issued_allotments",
        sa.Column(
            "allotment_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("first_body", sa.BigInteger(), nullable=False),
        sa.Column("last_body", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("allotment_id", name=op.f("pk_issued_allotments")),
    )
    op.create_table(
        "move_out_infos",
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("from_lg_code", sa.String(length=6), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.Column("used_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("resident_code", "from_lg_code", name=op.f("pk_move_out_infos")),
    )
    op.create_table(
        "my_number_requests",
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("requested_at", sa.String(length=40), nullable=False),
        sa.Column("assigned_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("resident_code", name=op.f("pk_my_number_requests")),
    )
    op.create_table(
        "my_numbers",
        sa.Column("my_number", sa.String(length=12), nullable=False),
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("assigned_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("my_number", name=op.f("pk_my_numbers")),
        sa.UniqueConstraint("resident_code", name=op.f("uq_my_numbers_resident_code")),
    )
    op.create_table(
        "net_dead_letters",
        sa.Column(
            "dead_letter_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("direction", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("peer", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("replayed_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("dead_letter_id", name=op.f("pk_net_dead_letters")),
    )
    op.create_table(
        "net_inbox",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_net_inbox")),
    )
    op.create_table(
        "net_links",
        sa.Column("peer", sa.String(length=16), nullable=False),
        sa.Column("next_send_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_recv_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("peer", name=op.f("pk_net_links")),
    )
    op.create_table(
        "net_outbox",
        sa.Column(
            "outbox_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("peer", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.String(length=40), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.String(length=40), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_net_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_net_outbox_message_id")),
        sa.UniqueConstraint("peer", "seq", name=op.f("uq_net_outbox_peer_seq")),
    )
    with op.batch_alter_table("net_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_net_outbox_status_peer_seq"), ["status", "peer", "seq"], unique=False
        )

    op.create_table(
        "net_refusals",
        sa.Column(
            "refusal_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("claimed_sender", sa.String(length=64), nullable=False),
        sa.Column("claimed_message_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("refusal_id", name=op.f("pk_net_refusals")),
    )
    op.create_table(
        "net_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_net_state")),
    )


def downgrade() -> None:
    op.drop_table("net_state")
    op.drop_table("net_refusals")
    with op.batch_alter_table("net_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_net_outbox_status_peer_seq"))

    op.drop_table("net_outbox")
    op.drop_table("net_links")
    op.drop_table("net_inbox")
    op.drop_table("net_dead_letters")
    op.drop_table("my_numbers")
    op.drop_table("my_number_requests")
    op.drop_table("move_out_infos")
    op.drop_table("issued_allotments")
    with op.batch_alter_table("identity_copies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_copies_resident_code"))
        batch_op.drop_index(batch_op.f("ix_identity_copies_name_kana_key"))
        batch_op.drop_index(batch_op.f("ix_identity_copies_my_number"))

    op.drop_table("identity_copies")
    with op.batch_alter_table("identity_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_changes_lg_code_resident_code"))

    op.drop_table("identity_changes")
    with op.batch_alter_table("fuhyo_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fuhyo_entries_resident_code"))
        batch_op.drop_index(batch_op.f("ix_fuhyo_entries_honseki_koseki_head"))

    op.drop_table("fuhyo_entries")
