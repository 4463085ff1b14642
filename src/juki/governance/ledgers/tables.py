"""The ledgers' tables, on the municipality's registry database.

Written only through `juki.governance.ledgers.services`, each change beside its oplog entry; no
line is deleted (a removed item, an ended contract and a closed incident stay with their
history). They name staff and contractors, never residents: class `audit`.
"""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import BigId, Code, Timestamp, metadata

room_access_log = sa.Table(
    "room_access_log",
    metadata,
    sa.Column("access_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("room", Code, nullable=False),
    sa.Column("entrant_name", sa.String(200), nullable=False),
    sa.Column("entrant_org", sa.String(200), nullable=False),
    sa.Column("entrant_operator_id", sa.String(64)),
    sa.Column("purpose", sa.String(400), nullable=False),
    sa.Column("permitted_on", sa.Date, nullable=False),
    sa.Column("approved_by", sa.String(64), nullable=False),
    sa.Column("approved_at", Timestamp, nullable=False),
    sa.Column("entered_at", Timestamp),
    sa.Column("entry_recorded_by", sa.String(64)),
    sa.Column("exited_at", Timestamp),
    sa.Column("exit_recorded_by", sa.String(64)),
    sa.Index(None, "permitted_on"),
    info={"class": "audit"},
)

config_items = sa.Table(
    "config_items",
    metadata,
    sa.Column("item_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", Code, nullable=False),  # device | program | medium
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("version", sa.String(80), nullable=False),
    sa.Column("serial", sa.String(128), nullable=False),
    sa.Column("location", sa.String(200), nullable=False),
    sa.Column("status", Code, nullable=False),  # in_use | removed
    sa.Column("registered_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    info={"class": "audit"},
)

config_changes = sa.Table(
    "config_changes",
    metadata,
    sa.Column("change_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("item_id", BigId, sa.ForeignKey("config_items.item_id"), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("event", Code, nullable=False),  # registered | changed | removed
    sa.Column("detail", sa.String(1000), nullable=False),
    sa.Column("reason", sa.String(400), nullable=False),
    sa.Column("by_actor", sa.String(64), nullable=False),
    sa.Index(None, "item_id"),
    sa.Index(None, "at"),
    info={"class": "audit"},
)

outsourcing_contracts = sa.Table(
    "outsourcing_contracts",
    metadata,
    sa.Column("contract_id", sa.String(40), primary_key=True),
    sa.Column("contractor", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(400), nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("clauses", sa.String(400), nullable=False),  # clause codes, comma-separated
    sa.Column("status", Code, nullable=False),  # active | non_compliant | ended
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
    sa.Column("ended_on", sa.Date),
    info={"class": "audit"},
)

contract_audits = sa.Table(
    "contract_audits",
    metadata,
    sa.Column("audit_id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "contract_id",
        sa.String(40),
        sa.ForeignKey("outsourcing_contracts.contract_id"),
        nullable=False,
    ),
    sa.Column("audited_on", sa.Date, nullable=False),
    sa.Column("auditor", sa.String(200), nullable=False),
    sa.Column("result", Code, nullable=False),  # satisfactory | needs_action
    sa.Column("findings", sa.String(2000), nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
    sa.Index(None, "contract_id"),
    info={"class": "audit"},
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("incident_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", Code, nullable=False),
    sa.Column("title", sa.String(400), nullable=False),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("opened_at", Timestamp, nullable=False),
    sa.Column("opened_by", sa.String(64), nullable=False),
    sa.Column("status", Code, nullable=False),  # open | closed
    sa.Column("closed_at", Timestamp),
    sa.Column("closed_by", sa.String(64)),
    sa.Column("closing_note", sa.String(2000), nullable=False),
    sa.Index(None, "status"),
    info={"class": "audit"},
)

incident_steps = sa.Table(
    "incident_steps",
    metadata,
    sa.Column("incident_id", BigId, sa.ForeignKey("incidents.incident_id"), primary_key=True),
    sa.Column("step", sa.String(32), primary_key=True),
    sa.Column("done_at", Timestamp, nullable=False),
    sa.Column("by_actor", sa.String(64), nullable=False),
    sa.Column("note", sa.String(2000), nullable=False),
    info={"class": "audit"},
)
