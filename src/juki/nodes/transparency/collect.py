"""Reading the transparency report from each node's own database.

The report reads the databases directly, as `juki oplog verify --dir` does, rather than each
node's admin API: it must work with the network stopped (a council's auditor reads it from the
host's backup as well as from the running network), it reads only counts, verdicts and the
register (never a person), and whoever holds the network directory holds every node's database
and key already. Each node's reading is an action of the one who compiles it
(`compile_transparency_report`), refused or done and logged in that node's oplog.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from juki.core.clock import Clock
from juki.governance.ledgers.model import INCIDENT_KIND_JA
from juki.governance.ledgers.store import open_incidents
from juki.governance.topology.audit import audit
from juki.governance.topology.loader import load_topology
from juki.governance.topology.parse import TopologyError
from juki.network.directory import NodeKind
from juki.nodes.disconnection import DisconnectionDecision, decisions_in
from juki.nodes.oplog_check import ChainCheck
from juki.nodes.tables import kiosk_issuances
from juki.nodes.transparency.hops import HOPS, Service
from juki.nodes.transparency.model import (
    IncidentLine,
    KioskCountRow,
    NodeStorage,
    OplogRow,
    ProvisionCountRow,
    TaskCount,
    TopologyFindingRow,
    TopologySection,
    TransparencyReport,
    hop_row,
    table_count,
)
from juki.provision.tables import permitted_tasks, provision_agencies, provision_records
from juki.security.actions import perform_outside
from juki.security.actors import Actor
from juki.security.permissions import Permission
from juki.security.uow import SqlUnitOfWork
from juki.storage.metadata import metadata


@dataclass(frozen=True, slots=True)
class NodeSource:
    node_id: str
    kind: NodeKind
    name: str
    engine: sa.Engine


def storage_of(conn: sa.Connection, source: NodeSource) -> NodeStorage:
    """Every table of the node holding rows, with its class and retention."""
    present = set(sa.inspect(conn).get_table_names())
    counts = []
    for t in metadata.sorted_tables:
        if t.name in present:
            rows = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            if rows:
                counts.append(table_count(t.name, int(rows)))
    return NodeStorage(source.node_id, source.kind.value, source.name, tuple(counts))


def tasks_of(conn: sa.Connection, today: date) -> list[TaskCount]:
    """The permitted tasks (別表) in force today, per table of the law: each task's latest
    version effective by today, not withdrawn by today."""
    latest: dict[str, sa.RowMapping] = {}
    for row in conn.execute(sa.select(permitted_tasks)).mappings():
        if row["effective_from"] <= today:
            held = latest.get(row["ref"])
            if held is None or held["effective_from"] < row["effective_from"]:
                latest[row["ref"]] = row
    per: dict[str, list[int]] = {}
    for row in latest.values():
        if row["withdrawn_on"] is None or row["withdrawn_on"] > today:
            counts = per.setdefault(row["law_table"], [0, 0])
            counts[0] += 1
            counts[1] += int(bool(row["my_number_task"]))
    return [TaskCount(law, n, mine) for law, (n, mine) in sorted(per.items())]


def agencies_of(conn: sa.Connection) -> int:
    pa = provision_agencies.c
    query = sa.select(sa.func.count()).select_from(provision_agencies).where(pa.status == "active")
    return int(conn.execute(query).scalar_one())


def provisions_of(conn: sa.Connection, node_id: str) -> list[ProvisionCountRow]:
    """The node's provisions by year, agency, task and outcome (提供状況の公表)."""
    pr, pa = provision_records.c, provision_agencies.c
    names = dict(conn.execute(sa.select(pa.agency_id, pa.name)).tuples().all())
    year = sa.func.substr(pr.at, 1, 4).label("year")
    rows = conn.execute(
        sa.select(year, pr.agency_id, pr.task_ref, pr.outcome, sa.func.count().label("n"))
        .group_by(year, pr.agency_id, pr.task_ref, pr.outcome)
        .order_by(year, pr.agency_id, pr.task_ref, pr.outcome)
    )
    found = [
        ProvisionCountRow(
            node_id,
            r.year,
            r.agency_id,
            names.get(r.agency_id, ""),
            r.task_ref or "-",
            r.outcome,
            int(r.n),
        )
        for r in rows
    ]
    # one order on every backend (PostgreSQL sorts a null task last, SQLite first)
    return sorted(found, key=lambda p: (p.year, p.agency_id, p.task_ref, p.outcome))


def kiosk_of(conn: sa.Connection) -> list[KioskCountRow]:
    """The relay's issuance records by municipality, kind and status."""
    ki = kiosk_issuances.c
    rows = conn.execute(
        sa.select(
            ki.lg_code,
            ki.kind,
            ki.status,
            sa.func.count().label("n"),
            sa.func.sum(ki.copies).label("copies"),
            sa.func.sum(ki.fee_yen).label("fee"),
        )
        .group_by(ki.lg_code, ki.kind, ki.status)
        .order_by(ki.lg_code, ki.kind, ki.status)
    )
    return [
        KioskCountRow(r.lg_code, r.kind, r.status, int(r.n), int(r.copies), int(r.fee))
        for r in rows
    ]


def oplog_rows(checks: Sequence[ChainCheck]) -> list[OplogRow]:
    return [
        OplogRow(
            c.node_id,
            c.holds,
            c.entries,
            c.head[0],
            tuple(c.lines()) if not c.holds else (),
            len(c.not_countersigned),
        )
        for c in checks
    ]


def topology_section(path: Path | None) -> TopologySection:
    """`juki audit network` on the municipality's layout, or the report says none was given."""
    if path is None:
        return TopologySection(False, "構成ファイルの指定なし（--topology FILE.yaml）")
    try:
        result = audit(load_topology(path))
    except TopologyError as exc:
        return TopologySection(True, path.name, error=exc.in_japanese())
    findings = tuple(
        TopologyFindingRow(f.severity.value, f.case, f.summary.ja, " → ".join(f.path), f.remedy.ja)
        for f in result.findings
    )
    return TopologySection(True, path.name, result.municipality or "", findings)


@dataclass
class _Read:
    storage: NodeStorage
    decisions: list[DisconnectionDecision]
    provisions: list[ProvisionCountRow]
    kiosk: list[KioskCountRow]
    tasks: list[TaskCount]
    agencies: int
    incidents: list[IncidentLine]


def incidents_of(conn: sa.Connection, node_id: str) -> list[IncidentLine]:
    """The node's open incidents: what happened, and the response step it has reached."""
    return [
        IncidentLine(
            node_id=node_id,
            incident_id=i.incident_id,
            occurred_at=i.occurred_at.isoformat(timespec="minutes"),
            kind_ja=INCIDENT_KIND_JA[i.kind],
            title=i.title,
            next_step=i.next_step.ja if i.next_step else "",
        )
        for i in open_incidents(conn)
    ]


def _read(source: NodeSource, today: date) -> _Read:
    with source.engine.connect() as conn:
        national = source.kind is NodeKind.NATIONAL
        return _Read(
            storage_of(conn, source),
            decisions_in(conn),
            provisions_of(conn, source.node_id),
            kiosk_of(conn) if national else [],
            tasks_of(conn, today) if national else [],
            agencies_of(conn) if national else 0,
            incidents_of(conn, source.node_id),
        )


def _describe(read: _Read) -> str:
    return (
        f"{len(read.storage.tables)} tables, {len(read.provisions)} provision counts, "
        f"{len(read.incidents)} open incidents"
    )


def compile_report(
    sources: Sequence[NodeSource],
    by: Actor,
    *,
    checks: Sequence[ChainCheck],
    topology: TopologySection,
    clock: Clock,
) -> TransparencyReport:
    """Read every node (each reading authorised and logged at that node) into one report."""
    report = TransparencyReport(
        generated_at=clock.now().isoformat(timespec="seconds"),
        network=[(s.node_id, s.kind.value, s.name) for s in sources],
        hops={s: [hop_row(h) for h in HOPS if h.service is s] for s in Service},
        oplog=oplog_rows(checks),
        topology=topology,
    )
    for source in sources:
        read = perform_outside(
            SqlUnitOfWork(source.engine, clock=clock),
            by,
            Permission.COMPILE_TRANSPARENCY_REPORT,
            "transparency_report",
            functools.partial(_read, source, clock.today()),
            describe=_describe,
        )
        report.storage.append(read.storage)
        report.decisions += read.decisions
        report.provisions += read.provisions
        report.kiosk += read.kiosk
        report.tasks += read.tasks
        report.agencies += read.agencies
        report.incidents += read.incidents
    return report
