"""The operation log's hash chain, as plain functions: no I/O.

Every entry carries the hash of the entry before it (`prev_hash`) and its own hash
(`entry_hash`): SHA-256 over a canonical encoding of all its fields, the sequence number and the
previous hash among them. Changing any field of any entry changes its hash; removing or inserting
an entry breaks the link of the next one; removing the newest entries leaves the chain short of
its head (`oplog_head`). A chain rebuilt end to end (every hash recomputed) is consistent with
itself and is caught only by a copy kept elsewhere: the checkpoints a node's parent countersigned
(`juki.nodes.checkpoints`).

The encoding is JSON with sorted keys, no whitespace and UTF-8 text, of exactly `HASHED`;
the version tag is hashed too, so a later encoding cannot be mistaken for this one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from juki.core.ports import OpLogEntry

ENCODING: Final = "juki-oplog-v1"
GENESIS: Final = "0" * 64  # the `prev_hash` of the first entry
HASHED: Final = (
    "seq",
    "at",
    "actor_id",
    "role",
    "terminal_id",
    "action",
    "target",
    "purpose",
    "my_number_shown",
    "outcome",
    "detail",
    "prev_hash",
)

Problem = Literal["changed", "removed", "inserted", "truncated", "checkpoint"]


def canonical(row: Mapping[str, Any]) -> bytes:
    fields = {name: row[name] for name in HASHED}
    fields["seq"] = int(fields["seq"])
    fields["my_number_shown"] = bool(fields["my_number_shown"])
    fields["encoding"] = ENCODING
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def entry_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def entry_fields(entry: OpLogEntry) -> dict[str, Any]:
    """The entry's own fields as the table stores them (without its place in the chain)."""
    return {
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "role": entry.role,
        "terminal_id": entry.terminal_id,
        "action": entry.action,
        "target": entry.target,
        "purpose": entry.purpose,
        "my_number_shown": entry.my_number_shown,
        "outcome": entry.outcome,
        "detail": entry.detail,
    }


def link(fields: Mapping[str, Any], seq: int, prev_hash: str) -> dict[str, Any]:
    """The row that follows an entry `seq - 1` whose hash is `prev_hash`."""
    row = dict(fields) | {"seq": seq, "prev_hash": prev_hash}
    row["entry_hash"] = entry_hash(row)
    return row


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where the stored chain starts: after entry `seq` whose hash is `entry_hash` (seq 0 and
    `GENESIS` for a chain that was never pruned; the last entry of the newest pruned month
    otherwise)."""

    seq: int = 0
    entry_hash: str = GENESIS


@dataclass(frozen=True, slots=True)
class Break:
    """The first place the chain does not hold: which entry (by sequence number) and how."""

    problem: Problem
    seq: int
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"problem": self.problem, "seq": self.seq, "detail": self.detail}


def first_break(
    rows: Iterable[Mapping[str, Any]],
    anchor: Anchor = Anchor(),
    head: tuple[int, str] | None = None,
) -> Break | None:
    """The first entry changed, removed or inserted, in `rows` ordered by `seq`; None when the
    chain holds from `anchor` up to `head` (the stored chain head: seq and hash)."""
    prev = anchor
    for row in rows:
        seq = int(row["seq"])
        if seq <= prev.seq:
            return Break("inserted", seq, f"entry {seq} repeats a number already in the chain")
        if seq > prev.seq + 1:
            return Break("removed", prev.seq + 1, f"entries {prev.seq + 1}..{seq - 1} are missing")
        if entry_hash(row) != row["entry_hash"]:
            return Break("changed", seq, f"entry {seq} does not match its hash")
        if row["prev_hash"] != prev.entry_hash:
            return Break(
                "inserted",
                seq,
                f"entry {seq} does not follow entry {prev.seq} (one was inserted or replaced)",
            )
        prev = Anchor(seq, str(row["entry_hash"]))
    if head is not None and head[0] < 0:
        return Break("removed", prev.seq, "the chain head (oplog_head) is missing")
    if head is not None and (head[0], head[1]) != (prev.seq, prev.entry_hash):
        if head[0] > prev.seq:
            return Break(
                "truncated", prev.seq + 1, f"entries {prev.seq + 1}..{head[0]} are missing"
            )
        if head[0] < prev.seq:
            return Break(
                "inserted", head[0] + 1, f"the chain head says entry {head[0]} is the last"
            )
        return Break("changed", prev.seq, f"entry {prev.seq} is not the chain head it was")
    return None
