"""The transparency report as data: what `collect` reads and `render` draws (pure).

Every value here is read from a node's records or derived from the code (`hops`, `retention`);
the only text written by hand is the labels of the page. The open incidents are each node's
incident ledger (`juki.governance.ledgers`), read with the rest of the node's records.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field

from pydantic import BaseModel

from juki.nodes.disconnection import DisconnectionDecision
from juki.nodes.transparency.hops import (
    PARTY_JA,
    SERVICE_JA,
    Carried,
    Hop,
    Kept,
    Service,
    channel_ja,
    seal_ja,
    signature_ja,
)
from juki.nodes.transparency.retention import retention_of
from juki.storage.metadata import metadata, table_class


@dataclass(frozen=True, slots=True)
class IncidentLine:
    """One open incident as a node's incident ledger holds it (事故の記録, docs/ledgers.md)."""

    node_id: str
    incident_id: int
    occurred_at: str
    kind_ja: str
    title: str
    next_step: str  # the seed's next response step, "" when all are done


# -- the hops, as rows -----------------------------------------------------------------------


def _nested(annotation: object) -> type[BaseModel] | None:
    """The model a field holds, directly, in an Optional, or as list items."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _nested(arg)
        if found is not None:
            return found
    return None


def fields_of(model: type[BaseModel], prefix: str = "", depth: int = 2) -> list[str]:
    """A model's fields, nested models' fields as `outer.inner` (to `depth` levels)."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        inner = _nested(info.annotation) if depth > 1 else None
        if inner is None:
            out.append(prefix + name)
        else:
            out += fields_of(inner, f"{prefix}{name}.", depth - 1)
    return out


@dataclass(frozen=True, slots=True)
class CarriedRow:
    name: str
    fields: tuple[tuple[str, bool], ...]  # (field, sealed end to end)


@dataclass(frozen=True, slots=True)
class KeptRow:
    what: str
    retention_ja: str
    columns: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class HopRow:
    service: Service
    step: int
    source_ja: str
    target_ja: str
    channel_ja: str
    signature_ja: str | None
    seal_ja: str | None
    carries: tuple[CarriedRow, ...]
    kept: tuple[KeptRow, ...]
    code: str


def _carried(c: Carried) -> CarriedRow:
    fields = fields_of(c.model)
    return CarriedRow(c.name, tuple((f, f.split(".")[0] in c.sealed) for f in fields))


def _duration_ja(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}分"
    return f"{seconds:g}秒"


def _kept(k: Kept) -> KeptRow:
    if k.table is not None:
        t = metadata.tables[k.table]
        r = retention_of(k.table)
        return KeptRow(k.table, r.ja, tuple(c.name for c in t.columns), r.source)
    seconds = k.limit.total_seconds() if k.limit is not None else 0.0
    rule = k.rule_ja.format(limit=_duration_ja(seconds))
    return KeptRow(k.memory_ja or "", f"メモリのみ: {rule}", (), k.source)


def hop_row(hop: Hop) -> HopRow:
    sealed = any(c.sealed for c in hop.carries)
    seal = f"{seal_ja()}（開けるのは{hop.sealed_for_ja}のみ）" if sealed else None
    return HopRow(
        hop.service,
        hop.step,
        PARTY_JA[hop.source],
        PARTY_JA[hop.target],
        channel_ja(hop.channel),
        signature_ja() if hop.signed else None,
        seal,
        tuple(_carried(c) for c in hop.carries),
        tuple(_kept(k) for k in hop.kept),
        hop.code,
    )


# -- what was read from the records ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    table_class: str
    rows: int
    retention_ja: str


def table_count(name: str, rows: int) -> TableCount:
    return TableCount(name, table_class(metadata.tables[name]), rows, retention_of(name).ja)


@dataclass(frozen=True, slots=True)
class NodeStorage:
    node_id: str
    kind: str
    name: str
    tables: tuple[TableCount, ...]  # the tables holding rows


@dataclass(frozen=True, slots=True)
class TaskCount:
    law_table: str
    in_force: int
    my_number_tasks: int


@dataclass(frozen=True, slots=True)
class ProvisionCountRow:
    node_id: str
    year: str
    agency_id: str
    agency_name: str
    task_ref: str
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class KioskCountRow:
    lg_code: str
    kind: str
    status: str
    issuances: int
    copies: int
    fee_yen: int


@dataclass(frozen=True, slots=True)
class OplogRow:
    node_id: str
    holds: bool
    entries: int
    head_seq: int
    problems: tuple[str, ...]
    not_countersigned: int


@dataclass(frozen=True, slots=True)
class TopologyFindingRow:
    severity: str
    case: int | None
    summary_ja: str
    path: str
    remedy_ja: str


@dataclass(frozen=True, slots=True)
class TopologySection:
    given: bool
    source: str  # the file given, or why none
    municipality: str = ""
    findings: tuple[TopologyFindingRow, ...] = ()
    error: str | None = None

    @property
    def high(self) -> int:
        return sum(f.severity == "high" for f in self.findings)


@dataclass
class TransparencyReport:
    generated_at: str
    network: list[tuple[str, str, str]]  # node id, kind, name
    hops: dict[Service, list[HopRow]]
    storage: list[NodeStorage] = field(default_factory=list)
    tasks: list[TaskCount] = field(default_factory=list)
    agencies: int = 0
    provisions: list[ProvisionCountRow] = field(default_factory=list)
    kiosk: list[KioskCountRow] = field(default_factory=list)
    oplog: list[OplogRow] = field(default_factory=list)
    topology: TopologySection = field(default_factory=lambda: TopologySection(False, ""))
    incidents: list[IncidentLine] = field(default_factory=list)
    decisions: list[DisconnectionDecision] = field(default_factory=list)

    @property
    def services(self) -> list[tuple[str, list[HopRow]]]:
        return [(SERVICE_JA[s], rows) for s, rows in self.hops.items()]

    @property
    def kept_tables(self) -> list[KeptRow]:
        """Each table some hop's receiver keeps, once, with its columns."""
        seen: dict[str, KeptRow] = {}
        for rows in self.hops.values():
            for hop in rows:
                for k in hop.kept:
                    if k.columns:
                        seen.setdefault(k.what, k)
        return list(seen.values())

    @property
    def oplog_holds(self) -> bool:
        return all(r.holds for r in self.oplog)
