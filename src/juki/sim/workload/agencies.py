"""What the agencies ask the network: a 基本4情報 lookup at the national node.

It is the only event that reads instead of writes: it checks, while faults are still on, that
the national index finds people living in the network (how often it does not is reported, not
a violation; after quiescence the runner's final lookups must all succeed).
"""

from __future__ import annotations

from juki.sim.population import Whereabouts
from juki.sim.workload.desk import Desk


def lookup(desk: Desk) -> None:
    """基本4情報 lookup at the national node for someone living somewhere in the network."""
    national = desk.cluster.national()
    residents = [p for p in desk.truth.people.values() if p.status is Whereabouts.RESIDENT]
    if national is None or not residents:
        desk.stats.skipped["lookup"] += 1
        return
    person = residents[desk.rng.randrange(len(residents))]
    record = desk.active_record(person)
    if record is None:
        desk.stats.skipped["lookup"] += 1
        return
    hits = national.lookup_by_basic_items(
        name_kana=record.family_name_kana + record.given_name_kana,
        birth_date=record.birth_date,
    )
    desk.stats.lookups += 1
    found = any(h["resident_code"] == person.resident_code for h in hits)
    desk.stats.lookup_hits += found
    desk.trace.add(
        desk.cluster.master.now(),
        f"national lookup of {person.resident_code}: {'found' if found else 'not (yet) found'}",
        [f"person:{person.resident_code}"],
    )
