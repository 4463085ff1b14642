"""The registry's outbox holds typed events: each row is a network message body with its schema
version. An identity_info change waiting to be forwarded was stored as the bare identity; it
becomes the `identity_info_changed` message body (`{"identity": …}`).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_outbox = sa.table(
    "outbox",
    sa.column("outbox_id", sa.BigInteger),
    sa.column("message_type", sa.String),
    sa.column("payload", sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("schema_version", sa.Integer(), nullable=False, server_default="1")
        )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_outbox.c.outbox_id, _outbox.c.payload).where(
            _outbox.c.message_type == "identity_info_changed"
        )
    ).all()
    for outbox_id, payload in rows:
        body = json.loads(payload)
        if "identity" in body:
            continue
        conn.execute(
            _outbox.update()
            .where(_outbox.c.outbox_id == outbox_id)
            .values(payload=json.dumps({"identity": body}, ensure_ascii=False, sort_keys=True))
        )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_outbox.c.outbox_id, _outbox.c.payload).where(
            _outbox.c.message_type == "identity_info_changed"
        )
    ).all()
    for outbox_id, payload in rows:
        body = json.loads(payload)
        conn.execute(
            _outbox.update()
            .where(_outbox.c.outbox_id == outbox_id)
            .values(payload=json.dumps(body["identity"], ensure_ascii=False, sort_keys=True))
        )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("schema_version")
