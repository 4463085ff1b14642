"""The report's readings on both databases (SQLite and PostgreSQL): counts by year, agency,
task and outcome; the relay's issuances; the tasks in force; the tables holding rows; the 離脱
decisions — each equal to the rows written."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from juki.network.directory import NodeKind
from juki.nodes.disconnection import decisions_in
from juki.nodes.tables import disconnection_decisions, kiosk_issuances
from juki.nodes.transparency.collect import (
    NodeSource,
    kiosk_of,
    provisions_of,
    storage_of,
    tasks_of,
)
from juki.provision.tables import permitted_tasks, provision_agencies, provision_records
from juki.storage.engine import make_engine


def _provision(n: int, at: str, agency: str, task: str | None, outcome: str) -> dict[str, object]:
    return {
        **{"request_id": f"r{n}", "at": at, "agency_id": agency, "task_ref": task},
        **{"purpose": "試験", "lookup": "resident_code", "items": "", "outcome": outcome},
    }


def _task(ref: str, since: date, withdrawn: date | None, mine: bool) -> dict[str, object]:
    return {"ref": ref, "effective_from": since, "law_table": "第一", "law_row": ref[-2:],
            "title": ref, "items": "name", "my_number_task": mine, "withdrawn_on": withdrawn,
            "basis": "法", "verified": True, "loaded_at": "2026-01-01T00:00:00+09:00"}  # fmt: skip


def _write(engine: sa.Engine) -> None:
    """Rows of every table the report reads, as the nodes write them."""
    with engine.begin() as conn:
        conn.execute(
            provision_agencies.insert(),
            [
                {
                    "agency_id": "nenkin",
                    "name": "日本年金機構",
                    "kind": "national",
                    "status": "active",
                    "certificate_sha256": "0" * 64,
                    "registered_on": date(2020, 1, 1),
                    "updated_at": "2020-01-01T00:00:00+09:00",
                }
            ],
        )
        conn.execute(
            provision_records.insert(),
            [
                _provision(
                    1, "2025-12-31T23:00:00+09:00", "nenkin", "別表第一 の 九十一", "provided"
                ),
                _provision(
                    2, "2026-01-02T09:00:00+09:00", "nenkin", "別表第一 の 九十一", "provided"
                ),
                _provision(
                    3, "2026-01-02T09:00:00+09:00", "nenkin", "別表第一 の 九十一", "provided"
                ),
                _provision(4, "2026-01-03T09:00:00+09:00", "nenkin", None, "refused"),
            ],
        )
        conn.execute(
            kiosk_issuances.insert(),
            [
                {
                    "request_id": f"k{i}",
                    "at": "2026-01-02T09:00:00+09:00",
                    "store_id": "S1",
                    "lg_code": "132250",
                    "kind": "residence",
                    "copies": i,
                    "fee_yen": 200 * i,
                    "status": "issued" if i < 3 else "abandoned",
                }
                for i in (1, 2, 3)
            ],
        )
        conn.execute(
            permitted_tasks.insert(),
            [
                _task("別表第一 の 一", date(2002, 8, 5), None, False),
                _task("別表第一 の 二", date(2016, 1, 1), None, True),
                _task("別表第一 の 三", date(2016, 1, 1), date(2020, 1, 1), False),
                _task("別表第一 の 四", date(2030, 1, 1), None, False),
            ],
        )
        conn.execute(
            disconnection_decisions.insert().values(
                node_id="132250",
                body_kind="municipality",
                body_name="稲城市",
                decided_by="稲城市長",
                legal_basis="法",
                reason="点検",
                recorded_by="ops",
                started_at="2026-01-02T09:00:00+09:00",
            )
        )


def test_the_readings_are_the_rows(migrated_db_url: str) -> None:
    engine = make_engine(migrated_db_url)
    _write(engine)
    try:
        with engine.connect() as conn:
            assert [(p.year, p.agency_name, p.task_ref, p.outcome, p.count)
                    for p in provisions_of(conn, "national")] == [
                ("2025", "日本年金機構", "別表第一 の 九十一", "provided", 1),
                ("2026", "日本年金機構", "-", "refused", 1),
                ("2026", "日本年金機構", "別表第一 の 九十一", "provided", 2),
            ]  # fmt: skip
            assert [(k.status, k.issuances, k.copies, k.fee_yen) for k in kiosk_of(conn)] == [
                ("abandoned", 1, 3, 600),
                ("issued", 2, 3, 600),
            ]
            [law] = tasks_of(conn, date(2026, 4, 1))
            assert (law.law_table, law.in_force, law.my_number_tasks) == ("第一", 2, 1)
            stored = storage_of(conn, NodeSource("national", NodeKind.NATIONAL, "機構", engine))
            rows = {t.table: t.rows for t in stored.tables}
            assert rows["provision_records"] == 4 and rows["kiosk_issuances"] == 3
            assert rows["disconnection_decisions"] == 1
            [decision] = decisions_in(conn)
            assert decision.in_force and decision.decided_by == "稲城市長"
    finally:
        engine.dispose()
