"""支援措置 as its own record (事務処理要領 第5-10): the measure (申出日, kind, 加害者, periods,
temporary releases, termination) and the persons it protects.

A record flagged `support_measure` before this revision becomes a measure of kind "other"
protecting it, decided on the day of the upgrade for one year, so nobody loses protection by
the upgrade; its 申出 details (the 加害者 among them) were never recorded and are to be entered
by the counter (the note says so).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

NOTE = "移行（0012）: 支援措置の申出の内容（加害者等）は未登録です。窓口で確認して登録してください"


def _one_year_from(start: date) -> date:
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:  # 2月29日
        return date(start.year + 1, 2, 28)


def upgrade() -> None:
    measures = op.create_table(
        "support_measures",
        sa.Column("measure_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("terminated_on", sa.Date(), nullable=True),
        sa.Column("termination_reason", sa.Text(), nullable=True),
        sa.Column("restrained", sa.Text(), nullable=False),
        sa.Column("periods", sa.Text(), nullable=False),
        sa.Column("releases", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("measure_id", name=op.f("pk_support_measures")),
    )
    persons = op.create_table(
        "support_measure_persons",
        sa.Column("measure_id", sa.String(length=36), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["support_measures.measure_id"],
            name=op.f("fk_support_measure_persons_measure_id_support_measures"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["resident_records.record_id"],
            name=op.f("fk_support_measure_persons_record_id_resident_records"),
        ),
        sa.PrimaryKeyConstraint("measure_id", "record_id", name=op.f("pk_support_measure_persons")),
    )
    op.create_index(
        op.f("ix_support_measure_persons_record_id"),
        "support_measure_persons",
        ["record_id"],
        unique=False,
    )
    flagged = op.get_bind().execute(
        sa.text("SELECT record_id FROM resident_records WHERE support_measure")
    )
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    ends = _one_year_from(today)
    period = {
        "starts_on": today.isoformat(),
        "ends_on": ends.isoformat(),
        "requested_on": today.isoformat(),
        "renewal": False,
    }
    for (record_id,) in flagged.all():
        measure_id = str(uuid.uuid4())
        op.bulk_insert(
            measures,
            [
                {
                    "measure_id": measure_id,
                    "kind": "other",
                    "requested_on": today,
                    "starts_on": today,
                    "ends_on": ends,
                    "restrained": "[]",
                    "periods": json.dumps([period]),
                    "releases": "[]",
                    "note": NOTE,
                    "recorded_by": "migration-0012",
                    "version": 1,
                }
            ],
        )
        op.bulk_insert(persons, [{"measure_id": measure_id, "record_id": record_id}])


def downgrade() -> None:
    op.drop_index(
        op.f("ix_support_measure_persons_record_id"), table_name="support_measure_persons"
    )
    op.drop_table("support_measure_persons")
    op.drop_table("support_measures")
