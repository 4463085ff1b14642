"""第三者請求 (法12条の3) kept with the certificate it obtained, and 本人通知: the residents
registered to be told, and the notices to send them.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Code = sa.String(length=32)
Timestamp = sa.String(length=40)


def upgrade() -> None:
    op.create_table(
        "third_party_requests",
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("subject_resident_code", sa.String(length=11), nullable=False),
        sa.Column("basis", Code, nullable=False),
        sa.Column("purpose", sa.String(length=400), nullable=False),
        sa.Column("requester_name", sa.String(length=160), nullable=False),
        sa.Column("requester_address", sa.String(length=320), nullable=False),
        sa.Column("corporation", sa.Boolean(), nullable=False),
        sa.Column("person_in_charge", sa.String(length=160), nullable=True),
        sa.Column("qualification", Code, nullable=True),
        sa.Column("registration_number", sa.String(length=80), nullable=True),
        sa.Column("client_name", sa.String(length=160), nullable=True),
        sa.Column("id_document", Code, nullable=False),
        sa.Column("id_document_number", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.certificate_id"],
            name=op.f("fk_third_party_requests_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_third_party_requests")),
    )
    op.create_index(op.f("ix_third_party_requests_at"), "third_party_requests", ["at"])
    op.create_index(
        op.f("ix_third_party_requests_subject_resident_code"),
        "third_party_requests",
        ["subject_resident_code"],
    )
    op.create_table(
        "self_notice_registrations",
        sa.Column("registration_id", sa.String(length=36), nullable=False),
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("registered_at", Timestamp, nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("withdrawn_at", Timestamp, nullable=True),
        sa.Column("withdrawn_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_self_notice_registrations")),
    )
    op.create_index(
        op.f("ix_self_notice_registrations_resident_code"),
        "self_notice_registrations",
        ["resident_code"],
    )
    op.create_index(
        "uq_self_notice_registrations_live",
        "self_notice_registrations",
        ["resident_code"],
        unique=True,
        sqlite_where=sa.text("withdrawn_at IS NULL"),
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )
    op.create_table(
        "self_notices",
        sa.Column("notice_id", sa.String(length=36), nullable=False),
        sa.Column("registration_id", sa.String(length=36), nullable=False),
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("kind", Code, nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("basis", Code, nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_address", sa.String(length=400), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("sent_at", Timestamp, nullable=True),
        sa.Column("sent_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["self_notice_registrations.registration_id"],
            name=op.f("fk_self_notices_registration_id_self_notice_registrations"),
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.certificate_id"],
            name=op.f("fk_self_notices_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_self_notices")),
    )
    op.create_index(op.f("ix_self_notices_certificate_id"), "self_notices", ["certificate_id"])
    op.create_index(op.f("ix_self_notices_resident_code"), "self_notices", ["resident_code"])
    op.create_index(op.f("ix_self_notices_sent_at"), "self_notices", ["sent_at"])


def downgrade() -> None:
    op.drop_table("self_notices")
    op.drop_index("uq_self_notice_registrations_live", table_name="self_notice_registrations")
    op.drop_table("self_notice_registrations")
    op.drop_table("third_party_requests")
