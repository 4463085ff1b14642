"""The final checks across the three levels: the CS, the prefecture and the national node hold
the same identity_info as the municipality, reached by the same changes, each applied once.

A copy can be right while its history is wrong (a change applied twice and then overwritten),
so the copies and the sequence of changes are compared separately; the counts compare what each
registry emitted with what its CS applied, and move-in notices with move-out confirmations.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from juki.network.directory import NATIONAL_ID
from juki.network.messages import IDENTITY_INFO_CHANGED, MOVE_IN_NOTICE, RESIDENT_CODE_CHANGED
from juki.sim.invariants.findings import Found
from juki.sim.invariants.snapshot import COPY_FIELDS, Snapshot, canon


# each municipality's identity_info equals its prefecture's and the national node's, field
# by field, and so does the sequence of changes that led there
def levels_agree(s: Snapshot, found: Found) -> None:
    national = s.data[NATIONAL_ID]
    for d in s.munis:
        lg = d.node_id
        parent = s.directory.require(lg).parent or ""
        levels = {"municipality": d, "prefecture": s.data[parent], "national": national}
        copies = {
            name: {
                c["resident_code"]: tuple(canon(c[f]) for f in COPY_FIELDS)
                for c in data.copies
                if c["lg_code"] == lg
            }
            for name, data in levels.items()
        }
        histories = {name: _histories(data.changes, lg) for name, data in levels.items()}
        for name in ("prefecture", "national"):
            _compare_copies(found, lg, name, copies["municipality"], copies[name])
            _compare_histories(found, lg, name, histories["municipality"], histories[name])


def _compare_copies(
    found: Found,
    lg: str,
    level: str,
    mine: Mapping[str, tuple[Any, ...]],
    theirs: Mapping[str, tuple[Any, ...]],
) -> None:
    for code in sorted(set(mine) | set(theirs)):
        a, b = mine.get(code), theirs.get(code)
        if a == b:
            continue
        if a is None or b is None:
            side = "only by" if a is None else "not by"
            detail = f"{lg}/{code}: held {side} the {level}"
        else:
            diff = [
                f"{f}: {x!r} ≠ {y!r}" for f, x, y in zip(COPY_FIELDS, a, b, strict=True) if x != y
            ]
            detail = f"{lg}/{code}: {level} differs from the municipality in {'; '.join(diff)}"
        found.add("levels_agree", detail, f"person:{code}", f"node:{lg}")


def _compare_histories(
    found: Found,
    lg: str,
    level: str,
    mine: Mapping[str, list[str]],
    theirs: Mapping[str, list[str]],
) -> None:
    for code in sorted(set(mine) | set(theirs)):
        a, b = mine.get(code, []), theirs.get(code, [])
        if a == b:
            continue
        at = next(
            (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
            min(len(a), len(b)),
        )
        found.add(
            "levels_agree",
            f"{lg}/{code}: change history at the {level} differs from the municipality's "
            f"from change {at + 1} on ({len(a)} changes there, {len(b)} here): "
            f"{_reasons(a[at : at + 3])} vs {_reasons(b[at : at + 3])}",
            f"person:{code}",
            f"node:{lg}",
        )


def _histories(changes: Iterable[Mapping[str, Any]], lg: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for c in changes:
        if c["lg_code"] == lg:
            out[c["resident_code"]].append(c["body"])
    return out


def _reasons(bodies: Sequence[str]) -> list[str]:
    out = []
    for b in bodies:
        data = json.loads(b)
        out.append(f"{data['change_reason']}@{data['changed_on']}")
    return out


# no message was applied twice: every registry change is reflected once at every level
def applied_once(s: Snapshot, found: Found) -> None:
    for d in s.munis:
        lg = d.node_id
        sent: Counter[str] = Counter(
            r["key"]
            for r in d.registry_outbox
            if r["message_type"] in (IDENTITY_INFO_CHANGED, RESIDENT_CODE_CHANGED)
        )
        applied: Counter[str] = Counter(c["resident_code"] for c in d.changes if c["lg_code"] == lg)
        for code in sorted(set(sent) | set(applied)):
            if sent[code] != applied[code]:
                found.add(
                    "applied_once",
                    f"{lg}/{code}: the registry emitted {sent[code]} identity changes, "
                    f"its CS applied {applied[code]}",
                    f"person:{code}",
                )
    # a move-in notice confirms the old municipality's move-out once
    notices: Counter[tuple[str, str]] = Counter()
    for d in s.munis:
        for r in d.registry_outbox:
            if r["message_type"] == MOVE_IN_NOTICE:
                body = json.loads(r["payload"])
                if s.directory.get(body["from_lg_code"]) is not None:
                    notices[(body["from_lg_code"], body["resident_code"])] += 1
    confirmed: Counter[tuple[str, str]] = Counter()
    for d in s.munis:
        code_of = {r["record_id"]: r["resident_code"] for r in d.records}
        for c in d.record_changes:
            if c["reason"] == "move_out_confirmed":
                confirmed[(d.node_id, code_of[c["record_id"]])] += 1
    for key in sorted(set(notices) | set(confirmed)):
        if notices[key] != confirmed[key]:
            found.add(
                "applied_once",
                f"{key[0]}/{key[1]}: {notices[key]} move-in notices sent, "
                f"{confirmed[key]} move-out confirmations recorded",
                f"person:{key[1]}",
            )
    for d in s.munis:
        per_record: Counter[str] = Counter(
            c["record_id"] for c in d.record_changes if c["reason"] == "my_number_assigned"
        )
        for record_id, n in sorted(per_record.items()):
            if n > 1:
                found.add(
                    "applied_once",
                    f"{d.node_id}: record {record_id} was assigned a my_number {n} times",
                )
