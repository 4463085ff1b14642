"""Operator verification (issue 11 §1): 照合情報 (WebAuthn credentials), operator cards, terminals,
terminal sessions, one-time challenges, the operator ledger (照合ID及び操作者IDの管理簿), and on
`operators` the token's purpose, the operator's status, the enrolment code and the lockout.

An operator deactivated before this revision becomes `suspended`; a token issued before it keeps
working until its expiry, with the purpose "issued before 0013".

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Ts = sa.String(length=40)


def _operators() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.alter_column("token_sha256", existing_type=sa.String(length=64), nullable=True)
        batch.add_column(sa.Column("token_purpose", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("status", sa.String(length=32), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("enrolment_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("enrolment_expires_at", Ts, nullable=True))
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_at", Ts, nullable=True))
    op.execute(sa.text("UPDATE operators SET status = 'suspended' WHERE NOT active"))
    op.execute(sa.text("UPDATE operators SET token_purpose = 'issued before 0013'"))


def upgrade() -> None:
    _operators()
    op.create_table(
        "operator_credentials",
        sa.Column("credential_id", sa.String(length=400), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("registered_at", Ts, nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("withdrawn_at", Ts, nullable=True),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_operator_credentials")),
    )
    op.create_index(
        op.f("ix_operator_credentials_operator_id"), "operator_credentials", ["operator_id"]
    )
    op.create_table(
        "operator_cards",
        sa.Column("card_id", BigId, autoincrement=True, nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("card_label", sa.String(length=64), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("issued_at", Ts, nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("withdrawn_at", Ts, nullable=True),
        sa.PrimaryKeyConstraint("card_id", name=op.f("pk_operator_cards")),
    )
    op.create_index(op.f("ix_operator_cards_operator_id"), "operator_cards", ["operator_id"])
    op.create_table(
        "terminals",
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("registered_at", Ts, nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_terminals")),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", Ts, nullable=False),
        sa.Column("last_seen_at", Ts, nullable=False),
        sa.Column("ended_at", Ts, nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("session_sha256", name=op.f("pk_operator_sessions")),
    )
    op.create_index(op.f("ix_operator_sessions_operator_id"), "operator_sessions", ["operator_id"])
    op.create_table(
        "operator_challenges",
        sa.Column("challenge_id", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("challenge", sa.String(length=200), nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("used_at", Ts, nullable=True),
        sa.PrimaryKeyConstraint("challenge_id", name=op.f("pk_operator_challenges")),
    )
    op.create_table(
        "operator_ledger",
        sa.Column("entry_id", BigId, autoincrement=True, nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("at", Ts, nullable=False),
        sa.Column("by_actor", sa.String(length=64), nullable=False),
        sa.Column("by_role", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("detail", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_operator_ledger")),
    )
    op.create_index(op.f("ix_operator_ledger_operator_id"), "operator_ledger", ["operator_id"])


def downgrade() -> None:
    for table in (
        "operator_ledger",
        "operator_challenges",
        "operator_sessions",
        "terminals",
        "operator_cards",
        "operator_credentials",
    ):
        op.drop_table(table)
    op.execute(sa.text("DELETE FROM operators WHERE token_sha256 IS NULL"))
    with op.batch_alter_table("operators") as batch:
        for column in (
            "locked_at",
            "failed_logins",
            "enrolment_expires_at",
            "enrolment_sha256",
            "status",
            "token_purpose",
        ):
            batch.drop_column(column)
        batch.alter_column("token_sha256", existing_type=sa.String(length=64), nullable=False)
