"""Signed checkpoints of a node's operation-log chain, kept by its parent.

A node signs its chain head (sequence number, hash, time) with its node key, keeps the
checkpoint (`kind = own`) and sends it to its parent (a municipality to its prefecture, a
prefecture to national) as `oplog_checkpoint`. The parent checks that the child signed it,
countersigns it with its own key and keeps it (`kind = child`); national keeps its own signed
checkpoints and has no parent. A node that rebuilds its whole chain (every hash recomputed, its
own checkpoints re-signed) still disagrees with the copies its parent countersigned: `juki oplog
verify --dir` compares them (`verify_against_parent`).

Signatures are ECDSA P-256 over a canonical JSON encoding (`juki.network.pki`), stored base64.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from cryptography import x509

from juki.network import pki
from juki.network.authority import NotAuthorised
from juki.network.messages import OplogCheckpoint
from juki.security.store import chain_head

__all__ = ["chain_head"]
from juki.security.tables import oplog, oplog_checkpoints

OWN: Final = "own"
CHILD: Final = "child"
ENCODING: Final = "juki-oplog-checkpoint-v1"


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(
        dict(fields) | {"encoding": ENCODING},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def signed_bytes(node_id: str, seq: int, entry_hash: str, signed_at: str) -> bytes:
    """What the node signs: its id and its chain head at a time."""
    return _canonical(
        {"node_id": node_id, "seq": seq, "entry_hash": entry_hash, "signed_at": signed_at}
    )


def countersigned_bytes(
    checkpoint: OplogCheckpoint, countersigned_by: str, countersigned_at: str
) -> bytes:
    """What the parent signs: the child's checkpoint with the child's signature, and itself."""
    return _canonical(
        checkpoint.model_dump()
        | {"countersigned_by": countersigned_by, "countersigned_at": countersigned_at}
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def make_checkpoint(
    conn: sa.Connection, node_id: str, key: pki.PrivateKey, now: datetime
) -> OplogCheckpoint:
    """Sign the chain head and keep the checkpoint, in the caller's transaction."""
    seq, head_hash = chain_head(conn)
    signed_at = now.isoformat()
    signature = _b64(pki.sign(key, signed_bytes(node_id, seq, head_hash, signed_at)))
    checkpoint = OplogCheckpoint(
        node_id=node_id, seq=seq, entry_hash=head_hash, signed_at=signed_at, signature=signature
    )
    conn.execute(oplog_checkpoints.insert().values(kind=OWN, **checkpoint.model_dump()))
    return checkpoint


# Built once: every node reads it each time its checkpoint interval passes.
_LAST_OWN_SEQ = sa.select(sa.func.max(oplog_checkpoints.c.seq)).where(
    oplog_checkpoints.c.kind == OWN
)


def last_own_seq(conn: sa.Connection) -> int | None:
    return conn.execute(_LAST_OWN_SEQ).scalar_one_or_none()


def child_signature_holds(checkpoint: OplogCheckpoint, child_cert: x509.Certificate) -> bool:
    try:
        signature = _unb64(checkpoint.signature)
    except ValueError:
        return False
    data = signed_bytes(
        checkpoint.node_id, checkpoint.seq, checkpoint.entry_hash, checkpoint.signed_at
    )
    return pki.verify(pki.public_key_of(child_cert), signature, data)


def keep_child_checkpoint(
    conn: sa.Connection,
    checkpoint: OplogCheckpoint,
    child_cert: x509.Certificate,
    here: str,
    key: pki.PrivateKey,
    now: datetime,
) -> None:
    """Check the child signed it, countersign it and keep it; a checkpoint its sender did not
    sign is refused and recorded (`NotAuthorised`), like any message without authority."""
    if not child_signature_holds(checkpoint, child_cert):
        raise NotAuthorised(f"the checkpoint is not signed by {checkpoint.node_id}'s node key")
    at = now.isoformat()
    counter = _b64(pki.sign(key, countersigned_bytes(checkpoint, here, at)))
    conn.execute(
        oplog_checkpoints.insert().values(
            kind=CHILD,
            countersigned_by=here,
            countersigned_at=at,
            countersignature=counter,
            **checkpoint.model_dump(),
        )
    )


# -- verification -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckpointProblem:
    node_id: str
    seq: int
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "seq": self.seq, "detail": self.detail}


def _hash_at(conn: sa.Connection, seq: int) -> str | None:
    value = conn.execute(sa.select(oplog.c.entry_hash).where(oplog.c.seq == seq)).scalar()
    return None if value is None else str(value)


def _checkpoints(conn: sa.Connection, kind: str, node_id: str | None = None) -> list[Any]:
    c = oplog_checkpoints.c
    stmt = sa.select(oplog_checkpoints).where(c.kind == kind)
    if node_id is not None:
        stmt = stmt.where(c.node_id == node_id)
    return list(conn.execute(stmt.order_by(c.checkpoint_id)).mappings())


def own_checkpoint_problems(conn: sa.Connection, anchor_seq: int) -> list[CheckpointProblem]:
    """The node's own checkpoints against its chain: each names an entry that still has the
    hash it had (entries pruned after sealing are not checked here; the archive is)."""
    problems: list[CheckpointProblem] = []
    for row in _checkpoints(conn, OWN):
        problem = _against_chain(conn, row, anchor_seq)
        if problem is not None:
            problems.append(problem)
    return problems


def _against_chain(
    conn: sa.Connection, row: Mapping[str, Any], anchor_seq: int
) -> CheckpointProblem | None:
    seq = int(row["seq"])
    if seq == 0 or seq <= anchor_seq:
        return None
    found = _hash_at(conn, seq)
    if found == row["entry_hash"]:
        return None
    what = "is missing" if found is None else "has another hash"
    return CheckpointProblem(
        str(row["node_id"]), seq, f"entry {seq} {what} than the checkpoint of {row['signed_at']}"
    )


def signatures_problem(
    row: Mapping[str, Any],
    child_cert: x509.Certificate,
    parent_id: str,
    parent_cert: x509.Certificate,
) -> str | None:
    """A kept child checkpoint (a row of `oplog_checkpoints`): signed by the child and
    countersigned by the parent, or what fails."""
    checkpoint = OplogCheckpoint.model_validate({k: row[k] for k in OplogCheckpoint.model_fields})
    if not child_signature_holds(checkpoint, child_cert):
        return "the child's signature fails"
    counter = countersigned_bytes(
        checkpoint, str(row["countersigned_by"]), str(row["countersigned_at"])
    )
    try:
        countersignature = _unb64(str(row["countersignature"]))
    except ValueError:
        countersignature = b""
    if row["countersigned_by"] != parent_id or not pki.verify(
        pki.public_key_of(parent_cert), countersignature, counter
    ):
        return f"{parent_id}'s countersignature fails"
    return None


def checkpoint_rows(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every checkpoint kept here, own and children's, in the order kept."""
    c = oplog_checkpoints.c
    stmt = sa.select(oplog_checkpoints).order_by(c.checkpoint_id)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def verify_against_parent(
    child: sa.Connection,
    parent: sa.Connection,
    child_id: str,
    child_cert: x509.Certificate,
    parent_id: str,
    parent_cert: x509.Certificate,
    anchor_seq: int = 0,
) -> list[CheckpointProblem]:
    """Every checkpoint of `child_id` its parent keeps: signed by the child, countersigned by
    the parent, and naming an entry of the child's chain that still has that hash."""
    problems: list[CheckpointProblem] = []
    for row in _checkpoints(parent, CHILD, child_id):
        checkpoint = OplogCheckpoint.model_validate(
            {k: row[k] for k in OplogCheckpoint.model_fields}
        )
        seq = checkpoint.seq
        failed = signatures_problem(row, child_cert, parent_id, parent_cert)
        if failed is not None:
            problems.append(CheckpointProblem(child_id, seq, failed))
            continue
        problem = _against_chain(child, row, anchor_seq)
        if problem is not None:
            problems.append(
                CheckpointProblem(child_id, seq, problem.detail + f" countersigned by {parent_id}")
            )
    return problems


def uncountersigned(child: sa.Connection, parent: sa.Connection, child_id: str) -> list[int]:
    """Sequence numbers of the child's own checkpoints its parent does not hold."""
    c = oplog_checkpoints.c
    sent = {(int(r["seq"]), str(r["signed_at"])) for r in _checkpoints(child, OWN)}
    kept = {
        (int(s), str(a))
        for s, a in parent.execute(
            sa.select(c.seq, c.signed_at).where((c.kind == CHILD) & (c.node_id == child_id))
        )
    }
    return sorted(seq for seq, _at in sent - kept)
