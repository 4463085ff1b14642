"""The final checks about people: where each one lives, and that their identifiers are theirs.

The simulator's `Truth` knows where everyone should be (it saw every command the registries
accepted); these checks hold each municipality's records and the national index against it,
and check that resident codes and my_numbers name one person each, everywhere.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Final

from juki.network.directory import NATIONAL_ID
from juki.sim.invariants.findings import Found
from juki.sim.invariants.snapshot import Snapshot, canon
from juki.sim.population import Person, Whereabouts

Located = list[tuple[str, dict[str, Any]]]  # (lg_code, record row) for one resident code
# The removal reason a record must carry for someone who is no longer resident anywhere.
EXPECTED_REMOVAL: Final = {
    Whereabouts.DEAD: "death",
    Whereabouts.ABROAD: "emigration",
    Whereabouts.OUTSIDE: "move_out_planned",
}


# every living person is a resident of exactly one municipality, or moved abroad
def residency(s: Snapshot, found: Found) -> None:
    active: dict[str, Located] = defaultdict(list)
    removed: dict[str, Located] = defaultdict(list)
    for d in s.munis:
        for r in d.records:
            (active if r["status"] == "active" else removed)[r["resident_code"]].append(
                (d.node_id, r)
            )
    national_active: Counter[str] = Counter(
        c["resident_code"] for c in s.data[NATIONAL_ID].copies if c["status"] == "active"
    )
    for code in sorted(s.truth.people):
        p = s.truth.people[code]
        here = active.get(code, [])
        if p.status is Whereabouts.RESIDENT:
            _resident(found, code, p, here, national_active[code])
        else:
            _not_resident(found, code, p, here, removed.get(code, []), national_active[code])
    for code in sorted(set(active) - set(s.truth.people)):
        found.add(
            "resident_of_one_municipality",
            f"{code} is active at {[lg for lg, _ in active[code]]} but nobody was given it",
            f"person:{code}",
        )


def _resident(found: Found, code: str, p: Person, here: Located, national_active: int) -> None:
    """A resident: active at their municipality only, as the same person, once nationally."""
    key = f"person:{code}"
    if [lg for lg, _ in here] != [p.lg]:
        found.add(
            "resident_of_one_municipality",
            f"{code} lives in {p.lg}; active records at {[lg for lg, _ in here]}",
            key,
        )
        return
    record = here[0][1]
    if (canon(record["birth_date"]), record["sex"]) != (
        p.birth_date.isoformat(),
        p.sex,
    ):
        found.add(
            "resident_codes_unique",
            f"{code} at {p.lg} has birth date/sex {record['birth_date']}/"
            f"{record['sex']}, the person {p.birth_date}/{p.sex}",
            key,
        )
    if national_active != 1:
        found.add(
            "resident_of_one_municipality",
            f"{code}: the national index has {national_active} active copies",
            key,
        )


def _not_resident(
    found: Found, code: str, p: Person, here: Located, removed: Located, national_active: int
) -> None:
    """Dead, abroad, moving or moved outside: active nowhere, removed for the right reason."""
    key = f"person:{code}"
    if here:
        found.add(
            "resident_of_one_municipality",
            f"{code} is {p.status.value} but active at {[lg for lg, _ in here]}",
            key,
        )
        return
    if p.status is Whereabouts.MOVING:
        found.add(
            "resident_of_one_municipality",
            f"{code} moved out of {p.lg} and never moved in anywhere",
            key,
        )
        return
    reason = EXPECTED_REMOVAL[p.status]
    if not any(lg == p.lg and r["removal_reason"] == reason for lg, r in removed):
        found.add(
            "resident_of_one_municipality",
            f"{code} is {p.status.value}, but {p.lg} has no record removed for {reason}",
            key,
        )
    if national_active:
        found.add(
            "resident_of_one_municipality",
            f"{code} is {p.status.value} but active in the national index",
            key,
        )


# resident codes and my_numbers are unique nationally and never reused
def codes_and_numbers(s: Snapshot, found: Found) -> None:
    for code in s.truth.reused:
        found.add("resident_codes_unique", f"{code} was given to a second person", f"person:{code}")
    sex_of: dict[str, set[str]] = defaultdict(set)
    number_codes: dict[str, set[str]] = defaultdict(set)
    code_numbers: dict[str, set[str]] = defaultdict(set)
    current = s.truth.current  # a 除票 keeps a code its person later changed (法第30条の4)
    for d in s.munis:
        for r in d.records:
            code = current(r["resident_code"])
            sex_of[code].add(r["sex"])
            if r["my_number"]:
                number_codes[r["my_number"]].add(code)
                code_numbers[code].add(r["my_number"])
    for code, sexes in sorted(sex_of.items()):
        if code not in s.truth.people:
            found.add(
                "resident_codes_unique",
                f"{code} is on a record but was never given to anyone",
                f"person:{code}",
            )
        elif sexes != {s.truth.people[code].sex}:
            found.add(
                "resident_codes_unique",
                f"{code} is on records of more than one person (sexes {sorted(sexes)})",
                f"person:{code}",
            )
    for number, codes in sorted(number_codes.items()):
        if len(codes) > 1:
            found.add(
                "my_numbers_unique",
                f"my_number …{number[-4:]} is on records of {sorted(codes)}",
                *(f"person:{c}" for c in sorted(codes)),
            )
    for code, numbers in sorted(code_numbers.items()):
        if len(numbers) > 1:
            found.add(
                "my_numbers_unique",
                f"{code} has {len(numbers)} different my_numbers on its records",
                f"person:{code}",
            )
    national = {r["my_number"]: r["resident_code"] for r in s.data[NATIONAL_ID].my_numbers}
    if len(set(national.values())) != len(national):
        found.add("my_numbers_unique", "the national node gave one person two numbers")
    for number, codes in sorted(number_codes.items()):
        owner = national.get(number)
        if owner is not None and codes != {owner}:
            found.add(
                "my_numbers_unique",
                f"my_number …{number[-4:]} belongs to {owner} nationally, "
                f"to {sorted(codes)} in the registries",
                *(f"person:{c}" for c in sorted(codes | {owner})),
            )


# a code in use names one person; a retired code is never in use, nor handed out, again
def codes_never_reissued(s: Snapshot, found: Found) -> None:
    in_use: Counter[str] = Counter(
        r["resident_code"] for d in s.munis for r in d.records if r["status"] == "active"
    )
    for code, n in sorted(in_use.items()):
        if n > 1:
            found.add(
                "resident_codes_unique", f"{code} is in use on {n} active records", f"person:{code}"
            )
    national = s.data[NATIONAL_ID]
    indexed = {c["resident_code"] for c in national.copies if c["status"] == "active"}
    for former, new in sorted(s.truth.retired.items()):
        key = f"person:{new}"
        if in_use[former] or former in indexed:
            found.add(
                "retired_codes_never_reissued",
                f"{former} was retired for {new} but is in use again",
                key,
            )
        if former not in national.retired_codes:
            found.add(
                "retired_codes_never_reissued",
                f"{former} was retired for {new}; the national ledger does not say so",
                key,
            )
