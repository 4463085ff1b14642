"""The register's tables, on the national node (and on a prefecture's once it provides).

Changed only through `juki.provision.services`, each change in the oplog. A row of 別表 is kept
as versions (ref + effective_from), never rewritten: the register is its own history.
"""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import Code, Timestamp, metadata

provision_agencies = sa.Table(
    "provision_agencies",
    metadata,
    sa.Column("agency_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("kind", Code, nullable=False),
    sa.Column("status", Code, nullable=False),  # active | withdrawn
    sa.Column("certificate_sha256", sa.String(64), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("withdrawn_on", sa.Date),
    sa.Column("updated_at", Timestamp, nullable=False),
    info={"class": "config"},
)

permitted_tasks = sa.Table(
    "permitted_tasks",
    metadata,
    sa.Column("ref", sa.String(64), primary_key=True),  # 別表第一 の 九十一
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column("law_table", sa.String(8), nullable=False),  # 第一 … 第六
    sa.Column("law_row", sa.String(40), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("items", sa.String(200), nullable=False),  # Item values, sorted, comma-separated
    sa.Column("my_number_task", sa.Boolean, nullable=False),
    sa.Column("withdrawn_on", sa.Date),
    sa.Column("basis", sa.String(200), nullable=False),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("loaded_at", Timestamp, nullable=False),
    info={"class": "config"},
)

permitted_task_agencies = sa.Table(
    "permitted_task_agencies",
    metadata,
    sa.Column("ref", sa.String(64), primary_key=True),
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column(
        "agency_id",
        sa.String(32),
        sa.ForeignKey("provision_agencies.agency_id"),
        primary_key=True,
    ),
    sa.ForeignKeyConstraint(
        ["ref", "effective_from"], ["permitted_tasks.ref", "permitted_tasks.effective_from"]
    ),
    info={"class": "config"},
)
