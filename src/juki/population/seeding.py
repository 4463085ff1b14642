"""Seeding: fill a municipality's registry with a synthetic population.

Allowed only to roles holding `Permission.SEED_POPULATION`, written down in the oplog like any other
action (one entry for the whole load, or one saying it was refused or failed), and built from the
same pieces the services use: real addresses, valid identifiers, households that pass the
household rules, one identity_info message per resident in the outbox.

Resident codes. Before the network issue a municipality runs standalone and allots itself codes:
the block `jis_code · 10⁵ … jis_code · 10⁵ + 99 999` (稲城市 13225 → 1322500000 …), which is
unique nationwide because JIS codes are. A population larger than what is left in the allotments
gets an overflow allotment from 5 000 000 000 up (above every JIS block), rounded up to whole
100 000s, unique within this database only. Codes are reserved, all at once, before anything is
written, so counter staff registering a birth during a long seed never collide with it; codes of
a seed that fails half-way are simply never used. The network issue adds the national node's
allotment, which later seeds and the services use first once this one is spent.

My numbers. Each resident's 個人番号 is `synthetic.my_number_for` their resident-code body, a
fixed permutation: distinct resident codes give distinct numbers, so seeding again — with the
same seed or another — never repeats a number, without reading the ones already stored.
Seeding again adds more residents (different people: the generator is keyed by the seed and the
first code of the run).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa

from juki.core.clock import Clock
from juki.core.errors import ValidationError
from juki.core.identifiers import LgCode, ResidentCode
from juki.population.addresses import municipality_from_lg_code, town_areas
from juki.population.bulk import load_population
from juki.population.synthetic import generate_population
from juki.registry.model import Municipality
from juki.registry.store.municipality import add_allotment, save_municipality
from juki.registry.store.records import RESIDENT_CODE
from juki.registry.tables import code_allotments
from juki.security.actions import perform_outside
from juki.security.actors import Actor
from juki.security.permissions import Permission, authorize
from juki.security.uow import SqlUnitOfWork
from juki.storage.migrate import upgrade

MAX_RESIDENTS: Final = 2_000_000
STANDALONE_BLOCK: Final = 100_000
OVERFLOW_BASE: Final = 5_000_000_000
MAX_BODY: Final = 9_999_999_999
STANDALONE: Final = "standalone"
STANDALONE_OVERFLOW: Final = "standalone-overflow"


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


def reserve_resident_codes(conn: sa.Connection, jis_code: str, n: int) -> list[range]:
    """Take `n` resident-code bodies from the allotments, creating the standalone ones as needed.

    Runs in the caller's transaction and locks the allotments (BEGIN IMMEDIATE on SQLite, a table
    lock on PostgreSQL) so concurrent allotting cannot hand out the same bodies.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE code_allotments IN SHARE ROW EXCLUSIVE MODE")
    a = code_allotments.c

    def allotments() -> list[sa.Row[tuple[int, int, int, int]]]:
        return list(
            conn.execute(
                sa.select(a.allotment_id, a.first_body, a.last_body, a.next_body)
                .where(a.kind == RESIDENT_CODE)
                .order_by(a.allotment_id)
            ).tuples()
        )

    rows = allotments()
    if not rows:
        first = int(jis_code) * STANDALONE_BLOCK
        add_allotment(conn, first, first + STANDALONE_BLOCK - 1, STANDALONE)
        rows = allotments()
    taken: list[range] = []
    left = n
    for allotment_id, _first, last, next_body in rows:
        if left == 0:
            break
        take = min(left, max(0, last - next_body + 1))
        if take == 0:
            continue
        taken.append(range(next_body, next_body + take))
        conn.execute(
            code_allotments.update()
            .where(a.allotment_id == allotment_id)
            .values(next_body=next_body + take)
        )
        left -= take
    if left:
        top = max((last for _, first, last, _ in rows if first >= OVERFLOW_BASE), default=None)
        first = OVERFLOW_BASE if top is None else top + 1
        size = -(-left // STANDALONE_BLOCK) * STANDALONE_BLOCK
        if first + size - 1 > MAX_BODY:
            raise ValidationError(
                "residents",
                "codes_exhausted",
                "no resident codes left for a standalone allotment of that size",
                "住民票コードの割当範囲が不足しています",
            )
        add_allotment(conn, first, first + size - 1, STANDALONE_OVERFLOW)
        conn.execute(
            code_allotments.update()
            .where((a.kind == RESIDENT_CODE) & (a.first_body == first))
            .values(next_body=first + left)
        )
        taken.append(range(first, first + left))
    return taken


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
        with engine.begin() as conn:
            save_municipality(conn, municipality)
            bodies = reserve_resident_codes(conn, lg.jis_code, n)
        population = generate_population(
            municipality,
            towns,
            n,
            seed=seed,
            today=clock.today(),
            resident_code_bodies=itertools.chain.from_iterable(bodies),
        )
        result = load_population(
            engine, population, actor_id=by.actor_id, now=clock.now(), chunk=chunk, progress=counted
        )
        return SeedResult(
            municipality=municipality,
            seed=seed,
            households=result.households,
            residents=result.residents,
            foreign_residents=result.foreign_residents,
            first_resident_code=ResidentCode.complete(f"{bodies[0][0]:010d}").value,
            last_resident_code=ResidentCode.complete(f"{bodies[-1][-1]:010d}").value,
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
