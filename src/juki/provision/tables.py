"""The register's tables, on the national node (and on a prefecture's once it provides).

Changed only through `juki.provision.services`, each change in the oplog. A row of 別表 is kept
as versions (ref + effective_from), never rewritten: the register is its own history.
"""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import BigId, Code, Timestamp, metadata

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
    # may use 附票本人確認情報 (法30条の44の6: 別表第五・第六, 国外転出者に係る事務): migration 0034
    sa.Column("fuhyo", sa.Boolean, nullable=False, server_default=sa.false()),
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

# Every answer given to an agency, and every refusal, at the node that answered (national, or a
# prefecture for its own residents): one row per lookup, a batch line being one lookup. What
# the resident sees in 提供状況開示 and what `juki provision stats` counts (提供状況の公表). The
# person and items are null/empty for a refusal made before anyone was found; `reason` names
# the rule that refused. Kept beside the oplog entry of the same request, never rewritten.
provision_records = sa.Table(
    "provision_records",
    metadata,
    sa.Column("record_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=False),  # the agency's request (batch: + line)
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("agency_id", sa.String(32), nullable=False),
    sa.Column("task_ref", sa.String(64)),  # 別表第一 の 九十一; null if the request named none
    sa.Column("task_effective_from", sa.Date),  # the version the request was judged by
    sa.Column("purpose", sa.String(200), nullable=False),
    sa.Column("lookup", Code, nullable=False),  # resident_code | basic_items
    sa.Column("as_of", sa.Date),  # the day asked for, if not the day of the request
    sa.Column("lg_code", sa.String(6)),
    sa.Column("resident_code", sa.String(11)),
    sa.Column("items", sa.String(200), nullable=False),  # Item values provided, comma-separated
    sa.Column("outcome", Code, nullable=False),  # provided | not_found | refused
    sa.Column("reason", sa.String(200)),
    # what answered a provided lookup: identity_info, or 附票本人確認情報 (a person abroad)
    sa.Column("source", sa.String(32)),
    sa.Index(None, "resident_code"),
    sa.Index(None, "at"),
    sa.Index(None, "agency_id", "task_ref"),
    info={"class": "audit"},
)
