"""附票連携's final checks: every change a 本籍 municipality recorded on its 附票 reached its
prefecture and national exactly once and in order (as 附票本人確認情報), and their copies are what
the 附票 says now.

The municipality's side is its 附票 (`fuhyo_entries`, in the order recorded: the order sent);
the copy it should match is each person's latest entry by (change date, order recorded)
(`juki.nodes.fuhyo_link`). A history compared besides the copy catches a change applied twice
or lost and then overwritten.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from juki.network.directory import NATIONAL_ID
from juki.nodes.fuhyo_link import FIELDS, fuhyo_identity_of_entry
from juki.sim.invariants.findings import Found
from juki.sim.invariants.snapshot import Snapshot, canon

INVARIANT = "fuhyo_link_agrees"


def fuhyo_link_agrees(s: Snapshot, found: Found) -> None:
    national = s.data[NATIONAL_ID]
    for d in s.munis:
        lg = d.node_id
        sent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in d.fuhyo:  # entry order: the order the 本籍 municipality sent them
            sent[e["resident_code"]].append(fuhyo_identity_of_entry(e, lg).model_dump(mode="json"))
        latest = {
            e["resident_code"]: fuhyo_identity_of_entry(e, lg).model_dump(mode="json")
            for e in sorted(d.fuhyo, key=lambda e: (e["changed_on"], e["entry_id"]))
        }
        parent = s.directory.require(lg).parent or ""
        for level, data in (("prefecture", s.data[parent]), ("national", national)):
            got: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for c in data.fuhyo_changes:
                if c["lg_code"] == lg:
                    got[c["resident_code"]].append(json.loads(c["body"]))
            for code in sorted(set(sent) | set(got)):
                if sent[code] != got[code]:
                    found.add(
                        INVARIANT,
                        f"{lg}/{code}: the 附票 recorded {_steps(sent[code])}, the {level} "
                        f"applied {_steps(got[code])}",
                        f"person:{code}",
                        f"node:{lg}",
                    )
            copies = {
                c["resident_code"]: {f: canon(c[f]) for f in FIELDS}
                | {"moved_abroad": bool(c["moved_abroad"])}
                for c in data.fuhyo_copies
                if c["lg_code"] == lg
            }
            for code in sorted(set(latest) | set(copies)):
                if latest.get(code) != copies.get(code):
                    found.add(
                        INVARIANT,
                        f"{lg}/{code}: the {level}'s copy of the 附票本人確認情報 is not the "
                        f"附票's: {copies.get(code)} vs {latest.get(code)}",
                        f"person:{code}",
                        f"node:{lg}",
                    )


def _steps(bodies: list[dict[str, Any]]) -> str:
    shown = [f"{b['change_reason']}@{b['changed_on']}" for b in bodies[:4]]
    return f"{len(bodies)} changes ({', '.join(shown)}{', …' if len(bodies) > 4 else ''})"
