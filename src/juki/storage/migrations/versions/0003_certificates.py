"""Certificates: issued certificates, the issuance register (交付履歴), fees, and the 支援措置 flag.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_fees",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("fee_yen", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "kind", name=op.f("pk_certificate_fees")),
    )
    op.create_table(
        "certificates",
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("record_lg_code", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("subject_resident_code", sa.String(length=11), nullable=False),
        sa.Column("subject_record_id", sa.String(length=36), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("issue_numbers", sa.Text(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("fee_yen", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.String(length=40), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("printed_at", sa.String(length=40), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("signer_sha256", sa.String(length=64), nullable=True),
        sa.Column("voided_at", sa.String(length=40), nullable=True),
        sa.Column("voided_by", sa.String(length=64), nullable=True),
        sa.Column("void_reason", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("content_digest", name=op.f("uq_certificates_content_digest")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_issued_on"), ["issued_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_certificates_subject_resident_code"),
            ["subject_resident_code"],
            unique=False,
        )

    op.create_table(
        "certificate_register",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("subject_resident_code", sa.String(length=11), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("items", sa.String(length=200), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("issue_numbers", sa.Text(), nullable=False),
        sa.Column("fee_yen", sa.Integer(), nullable=False),
        sa.Column("requester", sa.String(length=32), nullable=False),
        sa.Column("override_by", sa.String(length=64), nullable=True),
        sa.Column("override_reason", sa.String(length=400), nullable=True),
        sa.Column("disposal", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.certificate_id"],
            name=op.f("fk_certificate_register_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_certificate_register")),
    )
    with op.batch_alter_table("certificate_register", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_register_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_certificate_register_certificate_id"), ["certificate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_certificate_register_subject_resident_code"),
            ["subject_resident_code"],
            unique=False,
        )

    with op.batch_alter_table("resident_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("support_measure", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("resident_records", schema=None) as batch_op:
        batch_op.drop_column("support_measure")

    with op.batch_alter_table("certificate_register", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_register_subject_resident_code"))
        batch_op.drop_index(batch_op.f("ix_certificate_register_certificate_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_register_at"))

    op.drop_table("certificate_register")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_subject_resident_code"))
        batch_op.drop_index(batch_op.f("ix_certificates_issued_on"))

    op.drop_table("certificates")
    op.drop_table("certificate_fees")
