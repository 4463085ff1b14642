"""The governance ledgers: 入退室管理簿, 構成管理簿 and its history, outsourcing contracts and
their audits, incidents and their response steps (juki.governance.ledgers.tables).

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

Code = sa.String(length=32)
Timestamp = sa.String(length=40)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "room_access_log",
        sa.Column("access_id", BigId, autoincrement=True, nullable=False),
        sa.Column("room", Code, nullable=False),
        sa.Column("entrant_name", sa.String(length=200), nullable=False),
        sa.Column("entrant_org", sa.String(length=200), nullable=False),
        sa.Column("entrant_operator_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=400), nullable=False),
        sa.Column("permitted_on", sa.Date(), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("approved_at", Timestamp, nullable=False),
        sa.Column("entered_at", Timestamp, nullable=True),
        sa.Column("entry_recorded_by", sa.String(length=64), nullable=True),
        sa.Column("exited_at", Timestamp, nullable=True),
        sa.Column("exit_recorded_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("access_id", name=op.f("pk_room_access_log")),
    )
    op.create_index(op.f("ix_room_access_log_permitted_on"), "room_access_log", ["permitted_on"])
    op.create_table(
        "config_items",
        sa.Column("item_id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", Code, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("status", Code, nullable=False),
        sa.Column("registered_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_config_items")),
    )
    op.create_table(
        "config_changes",
        sa.Column("change_id", BigId, autoincrement=True, nullable=False),
        sa.Column("item_id", BigId, nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("event", Code, nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("by_actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["config_items.item_id"],
            name=op.f("fk_config_changes_item_id_config_items"),
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_config_changes")),
    )
    op.create_index(op.f("ix_config_changes_item_id"), "config_changes", ["item_id"])
    op.create_index(op.f("ix_config_changes_at"), "config_changes", ["at"])
    op.create_table(
        "outsourcing_contracts",
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("contractor", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=400), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("clauses", sa.String(length=400), nullable=False),
        sa.Column("status", Code, nullable=False),
        sa.Column("recorded_at", Timestamp, nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_outsourcing_contracts")),
    )
    op.create_table(
        "contract_audits",
        sa.Column("audit_id", BigId, autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("audited_on", sa.Date(), nullable=False),
        sa.Column("auditor", sa.String(length=200), nullable=False),
        sa.Column("result", Code, nullable=False),
        sa.Column("findings", sa.String(length=2000), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["outsourcing_contracts.contract_id"],
            name=op.f("fk_contract_audits_contract_id_outsourcing_contracts"),
        ),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_contract_audits")),
    )
    op.create_index(op.f("ix_contract_audits_contract_id"), "contract_audits", ["contract_id"])
    op.create_table(
        "incidents",
        sa.Column("incident_id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", Code, nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("occurred_at", Timestamp, nullable=False),
        sa.Column("opened_at", Timestamp, nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("status", Code, nullable=False),
        sa.Column("closed_at", Timestamp, nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closing_note", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incidents")),
    )
    op.create_index(op.f("ix_incidents_status"), "incidents", ["status"])
    op.create_table(
        "incident_steps",
        sa.Column("incident_id", BigId, nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("done_at", Timestamp, nullable=False),
        sa.Column("by_actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.incident_id"],
            name=op.f("fk_incident_steps_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("incident_id", "step", name=op.f("pk_incident_steps")),
    )


def downgrade() -> None:
    op.drop_table("incident_steps")
    op.drop_index(op.f("ix_incidents_status"), table_name="incidents")
    op.drop_table("incidents")
    op.drop_index(op.f("ix_contract_audits_contract_id"), table_name="contract_audits")
    op.drop_table("contract_audits")
    op.drop_table("outsourcing_contracts")
    op.drop_index(op.f("ix_config_changes_at"), table_name="config_changes")
    op.drop_index(op.f("ix_config_changes_item_id"), table_name="config_changes")
    op.drop_table("config_changes")
    op.drop_table("config_items")
    op.drop_index(op.f("ix_room_access_log_permitted_on"), table_name="room_access_log")
    op.drop_table("room_access_log")
