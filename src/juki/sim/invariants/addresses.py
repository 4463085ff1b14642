"""The final checks on where people went: every planned move-out ends confirmed (or listed as
never confirmed), a withdrawn card move-out is withdrawn at its destination too, and each
family register's 附票 follows its members' addresses.

Both are kept by a node other than the one where the address changed (the old municipality
confirms a move-out when the new one's notice arrives; the 本籍地 keeps the 附票), so both
show whether the notices between municipalities arrived once, in full, at the right node.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from typing import Any, Final

from juki.network.messages import FUHYO_NOTICE
from juki.nodes.municipality import MunicipalityNode
from juki.sim.invariants.findings import Found
from juki.sim.invariants.snapshot import Snapshot, canon

FUHYO_KEY: Final = (
    "resident_code",
    "honseki",
    "koseki_head",
    "address",
    "address_since",
    "status",
    "change_reason",
    "changed_on",
    "from_lg_code",
)


# every planned move-out ends confirmed, or listed as never confirmed (転入通知未着者一覧)
def move_outs(s: Snapshot, found: Found) -> None:
    unconfirmed: dict[str, set[tuple[str, date]]] = {}
    for d in s.munis:
        node = s.cluster.municipality(d.node_id)
        assert isinstance(node, MunicipalityNode)
        unconfirmed[d.node_id] = {
            (r["resident_code"], r["move_out_planned_on"]) for r in node.unconfirmed_move_outs()
        }
    records = {
        d.node_id: [r for r in d.records if r["removal_reason"] == "move_out_planned"]
        for d in s.munis
    }
    expected_unconfirmed: dict[str, set[tuple[str, date]]] = defaultdict(set)
    for plan in s.truth.move_outs:
        key = f"person:{plan.resident_code}"
        matches = [
            r
            for r in records[plan.from_lg]
            if r["resident_code"] == plan.resident_code
            and r["move_out_planned_on"] == plan.planned_on
            and r["move_out_planned_address"] == plan.destination_address
        ]
        if len(matches) != 1:
            found.add(
                "move_outs_end_confirmed",
                f"{plan.from_lg}/{plan.resident_code}: {len(matches)} planned move-out "
                f"records for {plan.planned_on}",
                key,
            )
            continue
        record = matches[0]
        done = s.truth.completed.get((plan.resident_code, plan.from_lg, plan.planned_on))
        if done is None:
            expected_unconfirmed[plan.from_lg].add((plan.resident_code, plan.planned_on))
            continue
        got = (record["move_out_confirmed_address"], record["move_out_confirmed_on"])
        if got != (done.address, done.moved_on):
            found.add(
                "move_outs_end_confirmed",
                f"{plan.from_lg}/{plan.resident_code}: moved in at {done.address} on "
                f"{done.moved_on}, confirmed as {got[0]} on {got[1]}",
                key,
            )
    for lg in sorted(unconfirmed):
        listed, expected = unconfirmed[lg], expected_unconfirmed.get(lg, set())
        for code, on in sorted(listed - expected):
            found.add(
                "move_outs_end_confirmed",
                f"{lg} lists {code} (planned {on}) as never confirmed, but they moved in",
                f"person:{code}",
            )
        for code, on in sorted(expected - listed):
            found.add(
                "move_outs_end_confirmed",
                f"{lg}/{code}: move-out planned {on} neither confirmed nor listed",
                f"person:{code}",
            )


# the 附票 of each family register matches its members' address history
def fuhyo(s: Snapshot, found: Found) -> None:
    emitted: Counter[tuple[Any, ...]] = Counter()
    target_of: dict[tuple[Any, ...], str] = {}
    for d in s.munis:
        for r in d.registry_outbox:
            if r["message_type"] != FUHYO_NOTICE:
                continue
            body = json.loads(r["payload"])
            target = s.directory.municipality_at(body["honseki"])
            if target is None:
                continue
            key = tuple(body[f] for f in FUHYO_KEY)
            emitted[key] += 1
            target_of[key] = target.node_id
    recorded: Counter[tuple[Any, ...]] = Counter()
    where: dict[tuple[Any, ...], str] = {}
    for d in s.munis:
        for e in d.fuhyo:
            key = tuple(canon(e[f]) for f in FUHYO_KEY)
            recorded[key] += 1
            where[key] = d.node_id
    for key in sorted(set(emitted) | set(recorded), key=repr):
        if emitted[key] != recorded[key] or (
            recorded[key] and where[key] != target_of.get(key, where[key])
        ):
            found.add(
                "fuhyo_matches_addresses",
                f"附票 notice for {key[0]} ({key[5]}, {key[6]} {key[7]}, {key[3]}): "
                f"sent {emitted[key]}×, recorded {recorded[key]}× "
                f"at {where.get(key, target_of.get(key))}",
                f"person:{key[0]}",
            )
    _fuhyo_follows_addresses(s, found)


def _fuhyo_follows_addresses(s: Snapshot, found: Found) -> None:
    """Every address on a person's 附票 is one they had, and the current one is on it."""
    addresses: dict[str, set[str]] = defaultdict(set)
    current: dict[str, dict[str, Any]] = {}
    person = s.truth.current  # the 附票 may hold a code its person later changed
    for d in s.munis:
        code_of = {r["record_id"]: person(r["resident_code"]) for r in d.records}
        for c in d.record_changes:
            fields = json.loads(c["fields"])
            if "address" in fields:
                addresses[code_of[c["record_id"]]].add(fields["address"])
        for r in d.records:
            if r["status"] == "active":
                current[r["resident_code"]] = r
    entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in s.munis:
        for e in d.fuhyo:
            entries[person(e["resident_code"])].append(e)
    for code in sorted(entries):
        mine = entries[code]
        stray = sorted({e["address"] for e in mine} - addresses.get(code, set()))
        if stray:
            found.add(
                "fuhyo_matches_addresses",
                f"{code}: the 附票 holds addresses the person never had: {stray[:2]}",
                f"person:{code}",
            )
        now = current.get(code)
        if now is None or not now["honseki"]:
            continue
        if not any(
            e["address"] == now["address"]
            and e["status"] == "active"
            and canon(e["address_since"]) == canon(now["address_since"])
            and e["honseki"] == now["honseki"]
            for e in mine
        ):
            found.add(
                "fuhyo_matches_addresses",
                f"{code}: lives at {now['address']} since {now['address_since']}, "
                "which the 附票 does not show",
                f"person:{code}",
            )


# a card-based move-out withdrawn before its date (転出取消): the destination holds its
# 転出証明書情報 as withdrawn (`move_out_withdrawn` arrived and was applied), unless a later
# move of the person by the same route replaced it
def card_withdrawals(s: Snapshot, found: Found) -> None:
    moved = {(p.resident_code, p.from_lg, p.to_lg) for p in s.truth.move_outs}
    for w in s.truth.withdrawn_card_moves:
        if (w.resident_code, w.from_lg, w.to_lg) in moved:
            continue
        held = [
            r
            for r in s.data[w.to_lg].move_out_infos
            if r["resident_code"] == w.resident_code and r["from_lg_code"] == w.from_lg
        ]
        planned = json.loads(held[0]["body"]).get("planned_on") if held else None
        if not held or planned != w.planned_on.isoformat() or held[0]["withdrawn_on"] is None:
            found.add(
                "card_withdrawals_reach_the_destination",
                f"{w.to_lg} holds {w.from_lg}'s 転出証明書情報 of {w.resident_code} "
                f"(planned {w.planned_on}) "
                + ("not at all" if not held else f"planned {planned}, not withdrawn"),
                f"person:{w.resident_code}",
                f"node:{w.to_lg}",
            )
