"""What the final checks read: every node's tables, read once, and the directory.

The checks compare the same rows in many ways; reading them once means every check sees the
same state and no node is read twice. A node that is down is read from its SQLite file
(`Cluster.engine_for_reading`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import sqlalchemy as sa

from juki.network.directory import NATIONAL_ID, Directory, NodeKind
from juki.network.messages import IdentityInfoBody
from juki.network.tables import net_dead_letters, net_inbox, net_links, net_outbox
from juki.nodes.checkpoints import checkpoint_rows
from juki.nodes.oplog_check import check_connection
from juki.nodes.tables import (
    code_ledger,
    fuhyo_identity_changes,
    fuhyo_identity_copies,
    identity_changes,
    identity_copies,
    my_numbers,
)
from juki.registry.tables import (
    fuhyo_entries,
    move_out_infos,
    outbox,
    record_changes,
    resident_records,
)
from juki.sim.cluster import Cluster
from juki.sim.population import Truth

# What the CS, the prefecture and the national node each hold per person: identity_info and
# its change information, exactly the fields of the message that carries it.
COPY_FIELDS: Final = tuple(IdentityInfoBody.model_fields)
RECORD_FIELDS: Final = (
    "record_id",
    "resident_code",
    "my_number",
    "sex",
    "birth_date",
    "status",
    "removal_reason",
    "address",
    "address_since",
    "honseki",
    "move_out_planned_address",
    "move_out_planned_on",
    "move_out_confirmed_address",
    "move_out_confirmed_on",
)


def _rows(engine: sa.Engine, stmt: sa.Select[Any]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def canon(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@dataclass
class NodeData:
    """Everything the checks read from one node, read once."""

    node_id: str
    kind: NodeKind
    outbox: list[dict[str, Any]]
    inbox: list[dict[str, Any]]
    dead: list[dict[str, Any]]
    links: list[dict[str, Any]]
    copies: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    records: list[dict[str, Any]] = field(default_factory=list)
    record_changes: list[dict[str, Any]] = field(default_factory=list)
    registry_outbox: list[dict[str, Any]] = field(default_factory=list)
    fuhyo: list[dict[str, Any]] = field(default_factory=list)
    move_out_infos: list[dict[str, Any]] = field(default_factory=list)
    my_numbers: list[dict[str, Any]] = field(default_factory=list)
    retired_codes: set[str] = field(default_factory=set)  # national's ledger: retired for good
    # the oplog: what verifying its chain and own checkpoints found (empty: it holds), and
    # every checkpoint kept (own, and the children's it countersigned)
    oplog_problems: list[str] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    # 附票連携 (a prefecture, national): the 附票本人確認情報 copies and every change applied
    fuhyo_copies: list[dict[str, Any]] = field(default_factory=list)
    fuhyo_changes: list[dict[str, Any]] = field(default_factory=list)


def read_node(cluster: Cluster, node_id: str) -> NodeData:
    kind = cluster.specs[node_id].kind
    engine, temporary = cluster.engine_for_reading(node_id)
    try:
        o, i, d, li = net_outbox.c, net_inbox.c, net_dead_letters.c, net_links.c
        c, ch = identity_copies.c, identity_changes.c
        data = NodeData(
            node_id=node_id,
            kind=kind,
            outbox=_rows(
                engine,
                sa.select(
                    o.message_id, o.peer, o.seq, o.message_type, o.status, o.outcome
                ).order_by(o.outbox_id),
            ),
            inbox=_rows(
                engine,
                sa.select(i.message_id, i.sender, i.seq, i.message_type, i.outcome).order_by(
                    i.sender, i.seq
                ),
            ),
            dead=_rows(
                engine,
                sa.select(
                    d.direction, d.message_id, d.peer, d.message_type, d.reason, d.detail
                ).order_by(d.dead_letter_id),
            ),
            links=_rows(engine, sa.select(net_links).order_by(li.peer)),
            copies=_rows(engine, sa.select(*(c[f] for f in COPY_FIELDS)).order_by(c.lg_code)),
            changes=_rows(
                engine,
                sa.select(ch.lg_code, ch.resident_code, ch.body).order_by(ch.change_id),
            ),
        )
        if kind is NodeKind.MUNICIPALITY:
            _read_municipality(engine, data)
        else:
            _read_fuhyo_link(engine, data)
        if node_id == NATIONAL_ID:
            data.my_numbers = _rows(engine, sa.select(my_numbers))
            ledger = code_ledger.c
            data.retired_codes = {
                r["resident_code"]
                for r in _rows(
                    engine,
                    sa.select(ledger.resident_code).where(ledger.retired_at.is_not(None)),
                )
            }
        with engine.connect() as conn:
            check = check_connection(conn, node_id)
            data.oplog_problems = [] if check.holds else check.lines()
            data.checkpoints = checkpoint_rows(conn)
    finally:
        if temporary:
            engine.dispose()
    return data


def _read_municipality(engine: sa.Engine, data: NodeData) -> None:
    """A municipality's registry side: records, their changes, its outbox, its 附票."""
    r, rc, ob, f = resident_records.c, record_changes.c, outbox.c, fuhyo_entries.c
    data.records = _rows(engine, sa.select(*(r[f] for f in RECORD_FIELDS)).order_by(r.record_id))
    data.record_changes = _rows(
        engine,
        sa.select(rc.record_id, rc.seq, rc.reason, rc.fields).order_by(rc.record_id, rc.seq),
    )
    data.registry_outbox = _rows(
        engine,
        sa.select(ob.message_type, ob.key, ob.payload, ob.delivered_at).order_by(ob.outbox_id),
    )
    data.fuhyo = _rows(engine, sa.select(fuhyo_entries).order_by(f.entry_id))
    m = move_out_infos.c
    data.move_out_infos = _rows(
        engine,
        sa.select(m.resident_code, m.from_lg_code, m.body, m.withdrawn_on).order_by(
            m.resident_code, m.from_lg_code
        ),
    )


def _read_fuhyo_link(engine: sa.Engine, data: NodeData) -> None:
    """A prefecture's or national's 附票本人確認情報 (附票連携): copies and changes."""
    fc, fh = fuhyo_identity_copies.c, fuhyo_identity_changes.c
    data.fuhyo_copies = _rows(engine, sa.select(fuhyo_identity_copies).order_by(fc.lg_code))
    data.fuhyo_changes = _rows(
        engine, sa.select(fh.lg_code, fh.resident_code, fh.body).order_by(fh.change_id)
    )


def directory_of(cluster: Cluster) -> Directory:
    national = cluster.national()
    if national is not None:
        return national.directory()
    for node_id in cluster.order:
        if cluster.up(node_id):
            return cluster.node(node_id).directory()
    raise RuntimeError("no node is up to read the directory from")


@dataclass
class Snapshot:
    """The final checks' input: every node's data, the directory, and the simulator's truth."""

    cluster: Cluster
    truth: Truth
    faults: bool
    directory: Directory
    data: dict[str, NodeData]
    munis: list[NodeData]

    @classmethod
    def take(cls, cluster: Cluster, truth: Truth, *, faults: bool) -> Snapshot:
        directory = directory_of(cluster)
        data = {n: read_node(cluster, n) for n in cluster.order}
        munis = [d for d in data.values() if d.kind is NodeKind.MUNICIPALITY]
        return cls(cluster, truth, faults, directory, data, munis)
