"""The synthetic population, loaded through the real bulk seeding path, and the simulator's
own account of where everyone is (the truth the invariants compare the registries with).

Seeding mirrors `juki.population.seeding.seed_registry` step for step (resident codes reserved from
the pool national allotted, `generate_population`, `load_population`), but passes seeded id sources:
`seed_registry` gives the outbox rows uuid4 message ids, and a replay must write the same bytes.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa

from juki.core.ports import OpLogEntry
from juki.population.addresses import municipality_from_lg_code, town_areas
from juki.population.bulk import load_population
from juki.population.seeding import code_bodies, reserve_resident_codes
from juki.population.synthetic import SyntheticHousehold, generate_population
from juki.registry.store.codes import release_reserved
from juki.security.actors import Actor
from juki.security.permissions import Permission, authorize
from juki.security.store import SqlOpLog
from juki.sim.faults import Forgery


class SeededIds:
    """An `IdSource` of UUIDs drawn from a seeded random source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


class Whereabouts(StrEnum):
    RESIDENT = "resident"  # active record at `lg`
    MOVING = "moving"  # moved out of `lg`, not yet moved in at the destination
    OUTSIDE = "outside"  # moved out of `lg` to a municipality outside the network
    ABROAD = "abroad"  # 国外転出 from `lg`
    DEAD = "dead"  # died while resident of `lg`


@dataclass
class Person:
    """What the simulator knows about one person, independent of every database."""

    resident_code: str
    birth_date: date
    sex: str
    status: Whereabouts
    lg: str


@dataclass(frozen=True, slots=True)
class PlannedMoveOut:
    """A 転出 the simulator filed: it must end confirmed, or listed as never confirmed."""

    resident_code: str
    from_lg: str
    planned_on: date
    destination_address: str
    to_lg: str | None  # None: outside the network


@dataclass(frozen=True, slots=True)
class WithdrawnCardMove:
    """A card-based 転出 withdrawn before its date (転出取消): its destination must end holding
    the 転出証明書情報 as withdrawn (`move_out_withdrawn`)."""

    resident_code: str
    from_lg: str
    to_lg: str
    planned_on: date


@dataclass(frozen=True, slots=True)
class CompletedMove:
    resident_code: str
    from_lg: str
    planned_on: date
    address: str
    moved_on: date


class Truth:
    def __init__(self) -> None:
        self.people: dict[str, Person] = {}
        self.move_outs: list[PlannedMoveOut] = []
        self.completed: dict[tuple[str, str, date], CompletedMove] = {}
        self.reused: list[str] = []  # codes a registry handed to a second person
        self.withdrawn_card_moves: list[WithdrawnCardMove] = []
        self.forged: dict[str, Forgery] = {}  # message id → a message sent without authority

        self.retired: dict[str, str] = {}  # a code changed away from → the code that replaced it

    def add(self, person: Person) -> None:
        if person.resident_code in self.people or person.resident_code in self.retired:
            self.reused.append(person.resident_code)
            return
        self.people[person.resident_code] = person

    def change_code(self, former: str, new: str) -> None:
        """住民票コードの変更 (法第30条の4): the person is known by the new code from now on."""
        person = self.people.pop(former)
        self.retired[former] = new
        person.resident_code = new
        self.add(person)

    def current(self, code: str) -> str:
        """The code the person who once held `code` holds now."""
        seen = {code}
        while code in self.retired and self.retired[code] not in seen:
            code = self.retired[code]
            seen.add(code)
        return code


def seed_municipality(
    engine: sa.Engine,
    lg_code: str,
    residents: int,
    *,
    seed: int,
    ids: SeededIds,
    now: datetime,
    today: date,
    truth: Truth,
    by: Actor,
) -> int:
    """Load `residents` synthetic residents into a municipality that already has its pool of
    codes from national; record each of them in `truth`. Returns how many were loaded."""
    authorize(by.actor_id, by.role, Permission.SEED_POPULATION)
    place = municipality_from_lg_code(lg_code)
    run_id = ids.new_id()
    with engine.begin() as conn:
        codes = reserve_resident_codes(
            conn, residents, rng=ids.rng, run_id=run_id, now=now.isoformat()
        )
    population = generate_population(
        place,
        town_areas(lg_code),
        residents,
        seed=seed,
        today=today,
        resident_code_bodies=code_bodies(codes),
        new_id=ids.new_id,
    )

    def recorded(households: Iterator[SyntheticHousehold]) -> Iterator[SyntheticHousehold]:
        for hh in households:
            for record, _change in hh.members:
                truth.add(
                    Person(
                        record.resident_code,
                        record.birth_date,
                        record.sex.value,
                        Whereabouts.RESIDENT,
                        lg_code,
                    )
                )
            yield hh

    result = load_population(
        engine, recorded(population), actor_id=by.actor_id, now=now, message_ids=ids.new_id
    )
    with engine.begin() as conn:
        release_reserved(conn, run_id)
        SqlOpLog(conn).append(
            OpLogEntry(
                at=now,
                actor_id=by.actor_id,
                role=by.role.value,
                terminal_id=by.terminal_id,
                action=Permission.SEED_POPULATION.value,
                target=f"lg_code:{lg_code}",
                outcome="ok",
                detail=f"{result.residents} residents, seed {seed}",
            )
        )
    return result.residents
