"""The operation log after every run: every node's chain verifies with its own checkpoints, and
every checkpoint a node signed for its parent is kept there, signed by the node and
countersigned by the parent (`juki.nodes.checkpoints`)."""

from __future__ import annotations

from juki.network import pki
from juki.nodes.checkpoints import CHILD, OWN, signatures_problem
from juki.sim.invariants.findings import Found
from juki.sim.invariants.snapshot import Snapshot


def oplog_chains(snap: Snapshot, found: Found) -> None:
    for data in snap.data.values():
        for problem in data.oplog_problems:
            found.add("oplog_chain", problem, f"node:{data.node_id}")


def checkpoints_countersigned(snap: Snapshot, found: Found) -> None:
    for data in snap.data.values():
        parent = snap.directory.require(data.node_id).parent
        if parent is None or parent not in snap.data:
            continue
        cert = pki.cert_from_pem(snap.directory.require(data.node_id).certificate_pem)
        parent_cert = pki.cert_from_pem(snap.directory.require(parent).certificate_pem)
        kept = {
            (r["seq"], r["signed_at"], r["entry_hash"]): r
            for r in snap.data[parent].checkpoints
            if r["kind"] == CHILD and r["node_id"] == data.node_id
        }
        for own in (r for r in data.checkpoints if r["kind"] == OWN):
            key = (own["seq"], own["signed_at"], own["entry_hash"])
            row = kept.get(key)
            subjects = (f"node:{data.node_id}", f"node:{parent}")
            if row is None:
                found.add(
                    "checkpoints_countersigned",
                    f"{parent} keeps no countersigned copy of {data.node_id}'s checkpoint "
                    f"of entry {own['seq']} ({own['signed_at']})",
                    *subjects,
                )
                continue
            problem = signatures_problem(row, cert, parent, parent_cert)
            if problem is not None:
                found.add(
                    "checkpoints_countersigned",
                    f"{data.node_id}'s checkpoint of entry {own['seq']} at {parent}: {problem}",
                    *subjects,
                )
