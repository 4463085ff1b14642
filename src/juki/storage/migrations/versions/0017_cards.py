"""個人番号カード (issue 12, point 1): the municipality's card register (card serial → resident)
and the national card CA's ledger of issued certificates and their revocation.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cards",
        sa.Column("card_serial", sa.String(32), nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("auth_cert_serial", sa.String(64), nullable=True),
        sa.Column("signing_cert_serial", sa.String(64), nullable=True),
        sa.Column("abolished_on", sa.Date(), nullable=True),
        sa.Column("abolition_reason", sa.String(32), nullable=True),
        sa.Column("continued_from", sa.String(6), nullable=True),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("card_serial", name=op.f("pk_cards")),
    )
    op.create_index(op.f("ix_cards_resident_code"), "cards", ["resident_code"])
    op.create_table(
        "card_certificates",
        sa.Column("cert_serial", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("card_serial", sa.String(32), nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("issued_at", sa.String(40), nullable=False),
        sa.Column("not_after", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40), nullable=True),
        sa.Column("revocation_reason", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("cert_serial", name=op.f("pk_card_certificates")),
    )
    op.create_index(op.f("ix_card_certificates_card_serial"), "card_certificates", ["card_serial"])
    op.create_index(
        op.f("ix_card_certificates_resident_code"), "card_certificates", ["resident_code"]
    )


def downgrade() -> None:
    op.drop_table("card_certificates")
    op.drop_table("cards")
