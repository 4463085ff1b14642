"""Verifying operation logs: one database (`verify_database`), or every node of a network
directory against its parent's countersigned checkpoints (`verify_network`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography import x509

from juki.network import pki
from juki.nodes.checkpoints import (
    CheckpointProblem,
    own_checkpoint_problems,
    uncountersigned,
    verify_against_parent,
)
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.security.chain import Break
from juki.security.oplog_verify import anchor, entry_count, verify_chain
from juki.security.store import chain_head
from juki.storage.engine import open_existing


@dataclass
class ChainCheck:
    """What verifying one node's (or one database's) log found."""

    node_id: str
    entries: int = 0
    head: tuple[int, str] = (0, "")
    broken: Break | None = None
    checkpoints: list[CheckpointProblem] = field(default_factory=list)
    not_countersigned: list[int] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return self.broken is None and not self.checkpoints

    def as_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "holds": self.holds,
            "entries": self.entries,
            "head": {"seq": self.head[0], "entry_hash": self.head[1]},
            "first_break": self.broken.as_json() if self.broken else None,
            "checkpoint_problems": [p.as_json() for p in self.checkpoints],
            "not_countersigned": self.not_countersigned,
        }

    def lines(self) -> list[str]:
        name = self.node_id or "oplog"
        if self.holds:
            extra = (
                f"; checkpoints not yet countersigned: {self.not_countersigned}"
                if self.not_countersigned
                else ""
            )
            return [f"{name}: OK — {self.entries} entries, head {self.head[0]}{extra}"]
        out = []
        if self.broken is not None:
            b = self.broken
            out.append(f"{name}: BROKEN — entry {b.seq} {b.problem}: {b.detail}")
        out += [f"{name}: CHECKPOINT — entry {p.seq}: {p.detail}" for p in self.checkpoints]
        return out


def check_connection(conn: sa.Connection, node_id: str = "") -> ChainCheck:
    """The chain and the node's own stored checkpoints, in one database."""
    return ChainCheck(
        node_id,
        entry_count(conn),
        chain_head(conn),
        verify_chain(conn),
        own_checkpoint_problems(conn, anchor(conn).seq),
    )


def verify_database(url: str) -> ChainCheck:
    engine = open_existing(url)
    try:
        with engine.connect() as conn:
            return check_connection(conn)
    finally:
        engine.dispose()


def _cert(config: NodeConfig) -> x509.Certificate:
    return pki.cert_from_pem(Path(config.certificate).read_bytes())


def verify_network(root: Path) -> list[ChainCheck]:
    """Every node's chain and own checkpoints, and each node's checkpoints as its parent
    countersigned and kept them."""
    configs = {c.node_id: c for c in NetworkFiles(root).configs()}
    engines = {node_id: open_existing(c.db) for node_id, c in configs.items()}
    try:
        results = []
        for node_id, config in configs.items():
            with engines[node_id].connect() as conn:
                result = check_connection(conn, node_id)
                parent = config.parent
                if parent is not None and parent in engines:
                    with engines[parent].connect() as parent_conn:
                        result.checkpoints += verify_against_parent(
                            conn,
                            parent_conn,
                            node_id,
                            _cert(config),
                            parent,
                            _cert(configs[parent]),
                            anchor(conn).seq,
                        )
                        result.not_countersigned = uncountersigned(conn, parent_conn, node_id)
            results.append(result)
        return results
    finally:
        for engine in engines.values():
            engine.dispose()
