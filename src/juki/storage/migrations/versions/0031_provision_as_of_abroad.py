"""Provision as of a day by the four items; the source of each provision; the counter's
decision on a correction request.

- `identity_changes` gains each version's reading key and birth date, indexed, so a lookup
  by the four items `as_of` a day finds who had them then, and an index on `resident_code`
  alone (its other index leads with `lg_code`: an `as_of` lookup by code scanned the table).
  Existing rows are filled from their bodies.
- `provision_records.source`: identity_info, or 附票本人確認情報 for a person abroad.
- `correction_requests`: the reason of a rejection (the resident sees it) and the
  provisional change an accepted request was filed as.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from alembic import op

from juki.core.text import normalize_kana

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

BATCH = 5_000


def _backfill(conn: sa.Connection) -> None:
    """Each existing version's reading key (as `apply_identity` computes it) and birth date,
    from its body, in batches."""
    changes = sa.table(
        "identity_changes",
        sa.column("change_id", sa.BigInteger),
        sa.column("body", sa.Text),
        sa.column("name_kana_key", sa.String),
        sa.column("birth_date", sa.Date),
    )
    c = changes.c
    update = (
        changes.update()
        .where(c.change_id == sa.bindparam("id"))
        .values(name_kana_key=sa.bindparam("k"), birth_date=sa.bindparam("b", type_=sa.Date))
    )
    last = 0
    while rows := conn.execute(
        sa.select(c.change_id, c.body).where(c.change_id > last).order_by(c.change_id).limit(BATCH)
    ).all():
        values = []
        for change_id, body in rows:
            info = json.loads(body)
            reading = normalize_kana(info["family_name_kana"] + info["given_name_kana"])
            born = date.fromisoformat(info["birth_date"])
            values.append({"id": change_id, "k": reading, "b": born})
        conn.execute(update, values)
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("identity_changes") as batch:
        batch.add_column(sa.Column("name_kana_key", sa.String(length=400), nullable=True))
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table("identity_changes") as batch:
        batch.alter_column("name_kana_key", existing_type=sa.String(length=400), nullable=False)
        batch.alter_column("birth_date", existing_type=sa.Date(), nullable=False)
    op.create_index(
        op.f("ix_identity_changes_resident_code"), "identity_changes", ["resident_code"]
    )
    op.create_index(
        op.f("ix_identity_changes_name_kana_key_birth_date"),
        "identity_changes",
        ["name_kana_key", "birth_date"],
    )
    with op.batch_alter_table("provision_records") as batch:
        batch.add_column(sa.Column("source", sa.String(length=32), nullable=True))
    with op.batch_alter_table("correction_requests") as batch:
        batch.add_column(sa.Column("decision_reason", sa.String(length=400), nullable=True))
        batch.add_column(sa.Column("change_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("correction_requests") as batch:
        batch.drop_column("change_id")
        batch.drop_column("decision_reason")
    with op.batch_alter_table("provision_records") as batch:
        batch.drop_column("source")
    op.drop_index(
        op.f("ix_identity_changes_name_kana_key_birth_date"), table_name="identity_changes"
    )
    op.drop_index(op.f("ix_identity_changes_resident_code"), table_name="identity_changes")
    with op.batch_alter_table("identity_changes") as batch:
        batch.drop_column("birth_date")
        batch.drop_column("name_kana_key")
