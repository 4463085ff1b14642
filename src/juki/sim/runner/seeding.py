"""Before day one: give each municipality a pool of random resident codes, seed every
municipality, let the network carry it up.

Each municipality's synthetic population is loaded into its registry, and the real network then
carries it to the CS, the prefectures and the national node; the first simulated day starts only
once that has settled, so day one's events meet a network in which every level agrees.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Final

from juki.nodes.codes import POOL_BATCH
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.sim.invariants import Violation
from juki.sim.population import SeededIds, Truth, seed_municipality
from juki.sim.runner.loop import DAY, EventLoop, StopRun
from juki.sim.trace import Trace

SEEDER: Final = Actor("sim-seeder", Role.SYSTEM, "sim")


def seed_network(
    loop: EventLoop,
    rng: random.Random,
    truth: Truth,
    trace: Trace,
    *,
    lg_codes: Sequence[str],
    population: int,
) -> None:
    """Allot resident codes, seed every municipality, let the network carry it all up."""
    cluster, clock = loop.cluster, loop.clock
    national = cluster.national()
    assert national is not None
    shares = split(population, len(lg_codes))
    for lg, n in zip(lg_codes, shares, strict=True):
        national.allot(lg, n + POOL_BATCH)
    cluster.touch_all()
    loop.run_until(clock.now() + DAY, quiet=True)
    for lg, n in zip(lg_codes, shares, strict=True):
        node = cluster.municipality(lg)
        assert node is not None
        seed_municipality(
            node.engine,
            lg,
            n,
            seed=rng.getrandbits(32),
            ids=SeededIds(random.Random(rng.getrandbits(64))),
            now=node.clock.now(),
            today=node.clock.today(),
            truth=truth,
            by=SEEDER,
        )
    cluster.touch_all()
    if not loop.run_until(clock.now() + DAY, quiet=True):
        raise StopRun([Violation("quiescence", "the seeded population did not settle in a day")])
    with national.engine.begin() as conn:
        national.register_existing_numbers(conn)
    trace.add(clock.now(), f"seeded {len(truth.people)} residents", [])


def split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
