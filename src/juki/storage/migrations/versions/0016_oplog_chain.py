"""The operation log becomes a hash chain (issue 11 §4): each entry gets its purpose, whether a
個人番号 was shown, its sequence number, the previous entry's hash and its own; the chain head,
signed checkpoints and the seals of closed months get their tables.

Entries written before this revision are chained here, in the order they were written
(`entry_id`), with an empty purpose and no 個人番号 shown (the log did not say); the chain
proves nothing about them before the upgrade, only that none changes after it.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from juki.security.chain import GENESIS, link

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FIELDS = ("at", "actor_id", "role", "terminal_id", "action", "target", "outcome", "detail")


def _chain_existing() -> tuple[int, str]:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(f"SELECT entry_id, {', '.join(FIELDS)} FROM oplog ORDER BY entry_id")
    ).mappings()
    seq, prev = 0, GENESIS
    for row in list(rows):
        seq += 1
        fields = {k: row[k] for k in FIELDS} | {"purpose": "", "my_number_shown": False}
        linked = link(fields, seq, prev)
        conn.execute(
            sa.text(
                "UPDATE oplog SET seq = :seq, prev_hash = :prev_hash, entry_hash = :entry_hash "
                "WHERE entry_id = :entry_id"
            ),
            {
                "seq": seq,
                "prev_hash": prev,
                "entry_hash": linked["entry_hash"],
                "entry_id": row["entry_id"],
            },
        )
        prev = linked["entry_hash"]
    return seq, prev


def upgrade() -> None:
    with op.batch_alter_table("oplog") as batch:
        batch.add_column(sa.Column("purpose", sa.String(200), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("my_number_shown", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("seq", BigId, nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("entry_hash", sa.String(64), nullable=True))
    head_seq, head_hash = _chain_existing()
    with op.batch_alter_table("oplog") as batch:
        batch.alter_column("seq", existing_type=BigId, nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("entry_hash", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint(op.f("uq_oplog_seq"), ["seq"])
    head = op.create_table(
        "oplog_head",
        sa.Column("head_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("head_id", name=op.f("pk_oplog_head")),
    )
    op.bulk_insert(head, [{"head_id": 1, "seq": head_seq, "entry_hash": head_hash}])
    op.create_table(
        "oplog_checkpoints",
        sa.Column("checkpoint_id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("node_id", sa.String(16), nullable=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.String(40), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
        sa.Column("countersigned_by", sa.String(16), nullable=True),
        sa.Column("countersigned_at", sa.String(40), nullable=True),
        sa.Column("countersignature", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("checkpoint_id", name=op.f("pk_oplog_checkpoints")),
    )
    op.create_index(
        op.f("ix_oplog_checkpoints_node_id_seq"), "oplog_checkpoints", ["node_id", "seq"]
    )
    op.create_table(
        "oplog_seals",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("first_seq", BigId, nullable=False),
        sa.Column("last_seq", BigId, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("archive_sha256", sa.String(64), nullable=False),
        sa.Column("sealed_at", sa.String(40), nullable=False),
        sa.Column("pruned_at", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_oplog_seals")),
    )


def downgrade() -> None:
    op.drop_table("oplog_seals")
    op.drop_index(op.f("ix_oplog_checkpoints_node_id_seq"), table_name="oplog_checkpoints")
    op.drop_table("oplog_checkpoints")
    op.drop_table("oplog_head")
    with op.batch_alter_table("oplog") as batch:
        batch.drop_constraint(op.f("uq_oplog_seq"), type_="unique")
        for column in ("entry_hash", "prev_hash", "seq", "my_number_shown", "purpose"):
            batch.drop_column(column)
