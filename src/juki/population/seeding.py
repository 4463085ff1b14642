"""Seeding: fill a municipality's registry with a synthetic population.

Allowed only to roles holding `Permission.SEED_POPULATION`, written down in the oplog like any other
action (one entry for the whole load, or one saying it was refused or failed), and built from the
same pieces the services use: real addresses, valid identifiers, households that pass the
household rules, one identity_info message per resident in the outbox.

Resident codes (住民基本台帳法施行規則第1条, ADR 0006). A registry in the network takes its codes
from the pool the national node allotted it; a standalone registry (one national never allotted
codes to) draws random codes itself, unique within its own database. Either way they are taken at
random and reserved, all at once, before anything is written, so counter staff registering a
birth during a long seed never collide with it; the reservations are dropped once the load is
done, and codes of a seed that fails half-way stay reserved and are never used.

My numbers. Each resident's 個人番号 is `synthetic.my_number_for` their resident-code body, a
fixed permutation: distinct resident codes give distinct numbers, so seeding again — with the
same seed or another — never repeats a number, without reading the ones already stored.
Seeding again adds more residents (different people: the generator is keyed by the seed and the
first code of the run).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa

from juki.core.clock import Clock
from juki.core.errors import ValidationError
from juki.core.identifiers import LgCode
from juki.population.addresses import municipality_from_lg_code, town_areas
from juki.population.bulk import load_population
from juki.population.synthetic import generate_population
from juki.registry.model import Municipality
from juki.registry.store.codes import release_reserved, reserve_codes
from juki.registry.store.municipality import save_municipality
from juki.security.actions import perform_outside
from juki.security.actors import Actor
from juki.security.permissions import Permission, authorize
from juki.security.uow import SqlUnitOfWork
from juki.storage.migrate import upgrade

MAX_RESIDENTS: Final = 2_000_000


@dataclass(frozen=True, slots=True)
class SeedResult:
    municipality: Municipality
    seed: int
    households: int
    residents: int
    foreign_residents: int
    first_resident_code: str
    last_resident_code: str


def _validate_residents(residents: int) -> int:
    if isinstance(residents, bool) or not isinstance(residents, int):
        raise ValidationError(
            "residents",
            "integer",
            "residents must be a whole number",
            "人数は整数で指定してください",
        )
    if not 1 <= residents <= MAX_RESIDENTS:
        raise ValidationError(
            "residents",
            "range",
            f"residents must be between 1 and {MAX_RESIDENTS:,}; got {residents:,}",
            f"人数は1から{MAX_RESIDENTS:,}までで指定してください（指定は{residents:,}）",
        )
    return residents


def reserve_resident_codes(
    conn: sa.Connection, n: int, *, rng: random.Random, run_id: str, now: str
) -> list[str]:
    """Reserve `n` resident codes, in random order, in the caller's transaction (the pool is
    locked: BEGIN IMMEDIATE on SQLite, a table lock on PostgreSQL)."""
    return reserve_codes(conn, n, rng=rng, run_id=run_id, now=now)


def code_bodies(codes: list[str]) -> Iterator[int]:
    """The 10-digit bodies `generate_population` takes, in the order reserved."""
    return (int(code[:10]) for code in codes)


def seed_registry(
    engine: sa.Engine,
    *,
    lg_code: str,
    residents: int,
    seed: int,
    by: Actor,
    clock: Clock,
    progress: Callable[[int], None] | None = None,
    chunk: int = 5000,
) -> SeedResult:
    """Migrate, register the municipality, and load `residents` synthetic residents.

    An action like any other (`perform_outside`: the load commits in chunks of its own): one
    oplog entry for the whole load, or one saying it was refused, rejected or failed. `progress`
    is called with the number of residents each committed chunk added (for a tqdm bar). On
    failure after some chunks were committed, those residents stay (each chunk is complete on
    its own) and the oplog says how many were loaded. A refusal on a database not migrated yet
    has nowhere to be logged: nothing is written, not even the schema.
    """
    if not sa.inspect(engine).has_table("oplog"):
        # A new database: a refusal has nowhere to be logged, so nothing is written at all;
        # an allowed seed creates the schema first, so a rejection can be logged.
        authorize(by.actor_id, by.role, Permission.SEED_POPULATION)
        upgrade(engine)
    loaded = 0

    def counted(k: int) -> None:
        nonlocal loaded
        loaded += k
        if progress is not None:
            progress(k)

    def load() -> SeedResult:
        lg = LgCode.parse(lg_code)
        n = _validate_residents(residents)
        upgrade(engine)
        municipality = municipality_from_lg_code(lg.value)
        towns = town_areas(lg.value)
        run_id = str(uuid.uuid4())
        with engine.begin() as conn:
            save_municipality(conn, municipality)
            codes = reserve_resident_codes(
                conn, n, rng=random.SystemRandom(), run_id=run_id, now=clock.now().isoformat()
            )
        population = generate_population(
            municipality,
            towns,
            n,
            seed=seed,
            today=clock.today(),
            resident_code_bodies=code_bodies(codes),
        )
        result = load_population(
            engine, population, actor_id=by.actor_id, now=clock.now(), chunk=chunk, progress=counted
        )
        with engine.begin() as conn:
            release_reserved(conn, run_id)
        return SeedResult(
            municipality=municipality,
            seed=seed,
            households=result.households,
            residents=result.residents,
            foreign_residents=result.foreign_residents,
            first_resident_code=codes[0],
            last_resident_code=codes[-1],
        )

    def failed(exc: Exception) -> str:
        return f"{loaded} of {residents} residents loaded, seed {seed}; {type(exc).__name__}: {exc}"

    return perform_outside(
        SqlUnitOfWork(engine, clock=clock),
        by,
        Permission.SEED_POPULATION,
        f"lg_code:{lg_code}",
        load,
        describe=lambda r: f"{r.residents} residents, seed {seed}",
        failed=failed,
    )
