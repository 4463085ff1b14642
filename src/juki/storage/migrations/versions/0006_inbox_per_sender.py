"""The inbox is keyed on (sender, message id): a message id is the sender's, so one node can
never shadow another's message by reusing its id (a replay from a different sender is judged
on its own link, not taken for a duplicate).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("net_inbox", recreate="always") as batch:
        batch.drop_constraint("pk_net_inbox", type_="primary")
        batch.create_primary_key("pk_net_inbox", ["sender", "message_id"])


def downgrade() -> None:
    with op.batch_alter_table("net_inbox", recreate="always") as batch:
        batch.drop_constraint("pk_net_inbox", type_="primary")
        batch.create_primary_key("pk_net_inbox", ["message_id"])
