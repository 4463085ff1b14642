"""The final check on the wire: every message a node sent was applied by its peer, or is a dead
letter with a reason, and each link's sequence numbers agree at both ends.

Faults may delay, duplicate or refuse messages but must never lose one silently; this check
follows every outbox row to the peer's inbox, since a node's own "acknowledged" proves nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from juki.sim.invariants.findings import Found
from juki.sim.invariants.snapshot import NodeData, Snapshot


# every message sent was applied, or is a dead letter with a reason
def messages_accounted(s: Snapshot, found: Found) -> None:
    inboxes = {n: {r["message_id"]: r for r in d.inbox} for n, d in s.data.items()}
    dead_in = {
        n: {r["message_id"] for r in d.dead if r["direction"] == "in"} for n, d in s.data.items()
    }
    for node_id, d in s.data.items():
        for r in d.outbox:
            _outbox_row(found, node_id, d, r, inboxes, dead_in)
        sent_by_peer: Counter[str] = Counter(r["peer"] for r in d.outbox)
        for link in d.links:
            peer = link["peer"]
            expected = sent_by_peer[peer]
            received = s.data[peer].links if peer in s.data else []
            last = next((x["last_recv_seq"] for x in received if x["peer"] == node_id), 0)
            if int(link["next_send_seq"]) - 1 != expected or int(last) != expected:
                found.add(
                    "messages_accounted",
                    f"link {node_id}→{peer}: {expected} sent, next seq "
                    f"{link['next_send_seq']}, the receiver's last seq {last}",
                    f"link:{node_id}>{peer}",
                    f"node:{node_id}",
                    f"node:{peer}",
                )
        for sender in sorted({r["sender"] for r in d.inbox}):
            outgoing = {r["message_id"] for r in s.data[sender].outbox}
            for r in d.inbox:
                if r["sender"] == sender and r["message_id"] not in outgoing:
                    found.add(
                        "messages_accounted",
                        f"{node_id} applied {r['message_id']} that {sender} never sent",
                        f"msg:{r['message_id']}",
                    )
        for r in d.dead:
            if r["direction"] == "out" and r["message_id"] not in s.truth.forged:
                found.add(
                    "no_spurious_refusals",
                    f"{node_id} gave up on {r['message_type']} to {r['peer']}: "
                    f"{r['reason']} {r['detail'][:160]}",
                    f"msg:{r['message_id']}",
                )
        if not s.faults:
            for r in d.dead:
                found.add(
                    "no_dead_letters_without_faults",
                    f"{node_id}: {r['direction']} {r['message_type']} dead-lettered: "
                    f"{r['reason']} {r['detail'][:160]}",
                    f"msg:{r['message_id']}",
                )


def _outbox_row(
    found: Found,
    node_id: str,
    d: NodeData,
    r: dict[str, Any],
    inboxes: dict[str, dict[str, dict[str, Any]]],
    dead_in: dict[str, set[str]],
) -> None:
    """One sent message: not pending, dead with a dead letter, or in the peer's inbox."""
    mid, peer = r["message_id"], r["peer"]
    key = f"msg:{mid}"
    if r["status"] == "pending":
        found.add(
            "messages_accounted",
            f"{node_id}→{peer} {r['message_type']}#{r['seq']} still pending",
            key,
        )
    elif r["status"] == "dead":
        if not any(x["message_id"] == mid and x["reason"] for x in d.dead):
            found.add(
                "messages_accounted",
                f"{node_id}→{peer} {r['message_type']}#{r['seq']} dead without a dead letter",
                key,
            )
    else:
        seen = inboxes.get(peer, {}).get(mid)
        if seen is None:
            found.add(
                "messages_accounted",
                f"{node_id}→{peer} {r['message_type']}#{r['seq']} acknowledged "
                f"({r['outcome']}) but not in {peer}'s inbox",
                key,
            )
        elif seen["outcome"] == "dead_letter" and mid not in dead_in.get(peer, set()):
            found.add(
                "messages_accounted",
                f"{node_id}→{peer} {r['message_type']}#{r['seq']} dead-lettered "
                "without a dead letter",
                key,
            )


# every message a municipality forged (the `forge` fault) was refused for want of authority at
# its receiver, which applied nothing of it, and the sender keeps it as a dead letter
def forgeries_refused(s: Snapshot, found: Found) -> None:
    for mid, forged in sorted(s.truth.forged.items()):
        taken = [
            r
            for r in s.data[forged.peer].inbox
            if r["sender"] == forged.sender and r["message_id"] == mid
        ]
        if taken:
            found.add(
                "forgeries_refused",
                f"{forged.peer} took {forged.sender}'s forged {forged.message_type} "
                f"({taken[0]['outcome']})",
                f"msg:{mid}",
            )
        reasons = [
            r["reason"]
            for r in s.data[forged.sender].dead
            if r["direction"] == "out" and r["message_id"] == mid
        ]
        if reasons != ["unauthorised"]:
            found.add(
                "forgeries_refused",
                f"{forged.sender}'s forged {forged.message_type} to {forged.peer} was not "
                f"refused for want of authority: {reasons or 'no dead letter'}",
                f"msg:{mid}",
            )
