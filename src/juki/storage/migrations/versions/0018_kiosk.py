"""コンビニ交付 at the municipality: per-municipality kiosk settings (certificates offered,
fees, hours, closure) and the register of kiosk requests (request id bound to the card serial).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Code = sa.String(length=32)
Timestamp = sa.String(length=40)


def upgrade() -> None:
    op.create_table(
        "kiosk_settings",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", name=op.f("pk_kiosk_settings")),
    )
    op.create_table(
        "kiosk_requests",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("card_serial", sa.String(length=64), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("subject_resident_code", sa.String(length=11), nullable=False),
        sa.Column("kind", Code, nullable=False),
        sa.Column("outcome", Code, nullable=False),
        sa.Column("code", Code, nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("certificate_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.certificate_id"],
            name=op.f("fk_kiosk_requests_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_kiosk_requests")),
    )
    for column in ("card_serial", "at", "subject_resident_code", "certificate_id"):
        op.create_index(op.f(f"ix_kiosk_requests_{column}"), "kiosk_requests", [column])


def downgrade() -> None:
    for column in ("certificate_id", "subject_resident_code", "at", "card_serial"):
        op.drop_index(op.f(f"ix_kiosk_requests_{column}"), table_name="kiosk_requests")
    op.drop_table("kiosk_requests")
    op.drop_table("kiosk_settings")
