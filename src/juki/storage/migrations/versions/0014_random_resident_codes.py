"""Random 住民票コード (施行規則第1条, ADR 0006) and 住民票コードの変更請求 (法第30条の4).

The registry gains a pool of codes to hand out (`code_pool`, in batches `code_pool_batches`) and
the codes retired by a change request (`retired_codes`); the national node gains the ledger of
every code it allotted or saw retired (`code_ledger`) and each pool's level (`code_pools`).

Existing range allotments (`code_allotments`): a range the national node allotted stays usable,
in order, until the first pool arrives from national (then no range is drawn from again), so a
municipality upgraded before its national node keeps registering births. A range a standalone
registry gave itself is closed here (its `next_body` moved past its end): a standalone registry
now draws random codes itself, and its unused sequential codes are never handed out. National's
`issued_allotments` stays: no code inside an issued range is ever allotted again.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_pool_batches",
        sa.Column(
            "batch_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("allotted_by", sa.String(length=64), nullable=False),
        sa.Column("codes", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_code_pool_batches")),
    )
    op.create_table(
        "code_pool",
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reserved_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["code_pool_batches.batch_id"],
            name=op.f("fk_code_pool_batch_id_code_pool_batches"),
        ),
        sa.PrimaryKeyConstraint("resident_code", name=op.f("pk_code_pool")),
    )
    op.create_index(op.f("ix_code_pool_batch_id"), "code_pool", ["batch_id"])
    op.create_index(op.f("ix_code_pool_reserved_by"), "code_pool", ["reserved_by"])
    op.create_table(
        "retired_codes",
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("successor", sa.String(length=11), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("retired_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["resident_records.record_id"],
            name=op.f("fk_retired_codes_record_id_resident_records"),
        ),
        sa.PrimaryKeyConstraint("resident_code", name=op.f("pk_retired_codes")),
    )
    op.create_index(op.f("ix_retired_codes_successor"), "retired_codes", ["successor"])
    op.create_table(
        "code_ledger",
        sa.Column("resident_code", sa.String(length=11), nullable=False),
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("allotted_at", sa.String(length=40), nullable=True),
        sa.Column("used_at", sa.String(length=40), nullable=True),
        sa.Column("retired_at", sa.String(length=40), nullable=True),
        sa.Column("successor", sa.String(length=11), nullable=True),
        sa.PrimaryKeyConstraint("resident_code", name=op.f("pk_code_ledger")),
    )
    op.create_table(
        "code_pools",
        sa.Column("lg_code", sa.String(length=6), nullable=False),
        sa.Column("unused", sa.BigInteger(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", name=op.f("pk_code_pools")),
    )
    # A standalone registry's own ranges are closed: it draws random codes from now on.
    allotments = sa.table(
        "code_allotments",
        sa.column("next_body", sa.BigInteger()),
        sa.column("last_body", sa.BigInteger()),
        sa.column("allotted_by", sa.String()),
    )
    op.execute(
        allotments.update()
        .where(allotments.c.allotted_by.like("standalone%"))
        .values(next_body=allotments.c.last_body + 1)
    )


def downgrade() -> None:
    op.drop_table("code_pools")
    op.drop_table("code_ledger")
    op.drop_index(op.f("ix_retired_codes_successor"), table_name="retired_codes")
    op.drop_table("retired_codes")
    op.drop_index(op.f("ix_code_pool_reserved_by"), table_name="code_pool")
    op.drop_index(op.f("ix_code_pool_batch_id"), table_name="code_pool")
    op.drop_table("code_pool")
    op.drop_table("code_pool_batches")
