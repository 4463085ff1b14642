"""コンビニ交付's invariants, after quiescence.

- `kiosk_pages_name_the_holder`: every page printed at a kiosk verifies under the network root,
  is issued by the card's municipality, and names only the card holder — or, for a residence
  certificate of the household, members of the holder's household — as the issuing registry
  stood at the moment of issuance. "As it stood" is rebuilt from the registry's change history
  (`record_changes`: a record's first change carries every field, each later one what changed),
  replayed up to the last change recorded when the page was made, not read from today's
  records: a name changed or a member gone since does not excuse a wrong page, nor condemn a
  right one. The history is cut by change id rather than by time: a node's clock may be skewed,
  its ids are in commit order.
- `kiosk_relay_keeps_nothing`: the relay's own storage on the national node (its issuance
  record and the oplog entries the stores' calls made) holds none of the residents' data that
  went through it — card serials, resident codes, names, certificate ids, issue numbers, bytes
  of the PDFs (`juki.nodes.kiosk_stress.retained_bytes`, as `juki kiosk stress` measures it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from juki.network.directory import NATIONAL_ID
from juki.nodes.kiosk_stress import retained_bytes
from juki.registry.tables import record_changes
from juki.sim.cluster import Cluster
from juki.sim.invariants.findings import Found, Violation
from juki.sim.workload.kiosk import Page

NAMES = "kiosk_pages_name_the_holder"
RELAY = "kiosk_relay_keeps_nothing"


@dataclass
class _Record:
    fields: dict[str, Any] = field(default_factory=dict)
    codes: set[str] = field(default_factory=set)  # every resident code it has had (法30条の4)

    @property
    def name(self) -> str:
        return "".join(
            f"{self.fields.get('family_name', '')}{self.fields.get('given_name', '')}".split()
        )

    @property
    def active(self) -> bool:
        return self.fields.get("status") == "active"


def _same(printed: str, name: str) -> bool:
    """A printed name is the person's when it starts with their name (旧氏 may follow)."""
    return bool(name) and "".join(printed.split()).startswith(name)


def _changes(cluster: Cluster, lg: str) -> list[tuple[int, str, dict[str, Any]]]:
    engine, temporary = cluster.engine_for_reading(lg)
    c = record_changes.c
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(c.change_id, c.record_id, c.fields).order_by(c.change_id)
            ).all()
    finally:
        if temporary:
            engine.dispose()
    return [(int(r.change_id), r.record_id, json.loads(r.fields)) for r in rows]


def _judge(page: Page, records: dict[str, _Record], found: Found) -> None:
    keys = (f"person:{page.holder}", f"node:{page.lg}")
    what = f"page {page.certificate_id} printed for card {page.serial} at {page.at.isoformat()}"
    if not page.ok or page.issuer_lg != page.lg:
        found.add(NAMES, f"{what}: does not verify as {page.lg}'s ({page.reason})", *keys)
        return
    mine = [r for r in records.values() if page.holder in r.codes and r.active]
    if not mine:
        found.add(NAMES, f"{what}: the holder {page.holder} was no resident then", *keys)
        return
    holder = mine[0]
    allowed = [holder.name]
    if page.members == "household":
        household = holder.fields.get("household_id")
        allowed += [
            r.name
            for r in records.values()
            if r.active and r.fields.get("household_id") == household
        ]
    strangers = [n for n in page.names if not any(_same(n, a) for a in allowed)]
    if not page.names or strangers or not any(_same(n, holder.name) for n in page.names):
        found.add(
            NAMES,
            f"{what}: names {list(page.names)}, the holder was {holder.name}"
            + (f" (household: {sorted(set(allowed))})" if page.members == "household" else ""),
            *keys,
        )


def kiosk_pages(cluster: Cluster, pages: Sequence[Page], found: Found) -> None:
    for lg in sorted({p.lg for p in pages}):
        mine = sorted((p for p in pages if p.lg == lg), key=lambda p: p.history_upto)
        changes = _changes(cluster, lg)
        records: dict[str, _Record] = {}
        i = 0
        for page in mine:
            while i < len(changes) and changes[i][0] <= page.history_upto:
                _, record_id, fields = changes[i]
                record = records.setdefault(record_id, _Record())
                record.fields.update(fields)
                if "resident_code" in fields:
                    record.codes.add(fields["resident_code"])
                i += 1
            _judge(page, records, found)


def relay_keeps_nothing(cluster: Cluster, pages: Sequence[Page], found: Found) -> int:
    """The bytes of residents' data found in the relay's storage; a violation, naming what
    kind of data it was, if any."""
    needles: dict[str, set[str]] = {
        "card serials": {p.serial for p in pages},
        "resident codes": {p.holder for p in pages},
        "names": {"".join(n.split()) for p in pages for n in p.names},
        "certificate ids": {p.certificate_id for p in pages},
        "issue numbers": {n for p in pages for n in p.issue_numbers},
        "PDF bytes": {s for p in pages for s in p.pdf_slices},
    }
    engine, temporary = cluster.engine_for_reading(NATIONAL_ID)
    try:
        kept = {kind: retained_bytes(engine, these) for kind, these in needles.items()}
    finally:
        if temporary:
            engine.dispose()
    retained = sum(kept.values())
    if retained:
        what = ", ".join(f"{kind} ({n} bytes)" for kind, n in kept.items() if n)
        found.add(RELAY, f"the relay's storage holds residents' data: {what}")
    return retained


def kiosk_checks(cluster: Cluster, pages: Sequence[Page]) -> tuple[list[Violation], int]:
    found = Found()
    kiosk_pages(cluster, pages, found)
    retained = relay_keeps_nothing(cluster, pages, found)
    return found.summary(), retained
