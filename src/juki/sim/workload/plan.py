"""A day's events: Japan's yearly rates turned into Poisson counts per municipality per day, each
event at a random time in office hours, plus the move-ins that have fallen due.

`Workload` is the desk with a planner on top: the runner asks it for one day's events, puts
them on its timer queue, and reads its `stats` and `moves` afterwards.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from juki.core.clock import JST
from juki.sim.population import Whereabouts
from juki.sim.workload.abroad import emigration, immigration
from juki.sim.workload.agencies import lookup
from juki.sim.workload.desk import Desk, MovePlan
from juki.sim.workload.kiosk import Kiosks
from juki.sim.workload.life import birth, death
from juki.sim.workload.local import (
    correction,
    household_change,
    name_change,
    relocation,
    resident_code_change,
)
from juki.sim.workload.moves import move_in, move_out

PER_YEAR: Final = 1 / 365.0
JAPAN: Final = 124.0  # million residents
MOVERS_PER_MOVE: Final = 1.6  # people per move between municipalities (households move together)
# Events per resident per day. Japan's figures where they exist (births, deaths, moves between
# municipalities); estimates for the rest, named in docs/simulation.md.
RATES: Final = {
    "birth": 0.69 / JAPAN * PER_YEAR,
    "death": 1.6 / JAPAN * PER_YEAR,
    "move": 5.2 / JAPAN / MOVERS_PER_MOVE * PER_YEAR,
    "relocation": 3.0 / JAPAN / MOVERS_PER_MOVE * PER_YEAR,
    "household": 0.4 / JAPAN * PER_YEAR,
    "name_change": 0.6 / JAPAN * PER_YEAR,
    "correction": 0.05 / JAPAN * PER_YEAR,
    "resident_code_change": 0.3 / JAPAN * PER_YEAR,  # 住民票コードの変更請求: an estimate
    "immigration": 0.5 / JAPAN * PER_YEAR,
    "emigration": 0.35 / JAPAN * PER_YEAR,
    "lookup": 1 / 2000,  # agencies' identity checks: a simulator choice, not a statistic
}
# The event a counter files for each kind in RATES ("lookup" is the national node's, planned
# once for the whole network).
HANDLERS: Final[dict[str, Callable[[Desk, str], None]]] = {
    "birth": birth,
    "death": death,
    "move": move_out,
    "relocation": relocation,
    "household": household_change,
    "name_change": name_change,
    "correction": correction,
    "resident_code_change": resident_code_change,
    "immigration": immigration,
    "emigration": emigration,
}
OPEN: Final = time(8, 30)
CLOSE: Final = time(17, 15)


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal for large ones (deterministic)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class Workload(Desk):
    def __init__(self, *args: Any, kiosk_scale: float = 0.0, **kw: Any) -> None:
        super().__init__(*args, **kw)
        # コンビニ交付 (juki.sim.workload.kiosk), when on: its own rng, taken only then
        self.kiosks = (
            Kiosks(self.cluster, self.trace, self.rng, scale=kiosk_scale)
            if kiosk_scale > 0
            else None
        )

    def plan_day(
        self, day: date, *, tail: bool = False
    ) -> list[tuple[datetime, str, Callable[[], None]]]:
        """Every counter's events of one day, at random office-hour times; in the `tail` after
        the last day, only the move-ins still to be filed."""
        out: list[tuple[datetime, str, Callable[[], None]]] = []
        residents = Counter(
            p.lg for p in self.truth.people.values() if p.status is Whereabouts.RESIDENT
        )
        for lg in [] if tail else self.municipalities:
            n_res = residents.get(lg, 0)
            for kind, rate in RATES.items():
                if kind == "lookup":
                    continue
                for _ in range(poisson(self.rng, rate * n_res * self.scale)):
                    out.append((self._office_time(day), kind, self._event(kind, lg)))
        total = 0 if tail else sum(residents.values())
        for _ in range(poisson(self.rng, RATES["lookup"] * total * self.scale)):
            out.append((self._office_time(day), "lookup", self._lookup_event()))
        for plan in self.moves:
            if plan.due <= day:
                out.append((self._office_time(day), "move_in", self._move_in_event(plan)))
        if self.kiosks is not None and not tail:
            out += self.kiosks.plan_day(day, residents, poisson)
        return out

    def _office_time(self, day: date) -> datetime:
        start = datetime.combine(day, OPEN, tzinfo=JST)
        span = (datetime.combine(day, CLOSE, tzinfo=JST) - start).total_seconds()
        return start + timedelta(seconds=round(self.rng.random() * span, 3))

    def _event(self, kind: str, lg: str) -> Callable[[], None]:
        handler = HANDLERS[kind]
        return lambda: handler(self, lg)

    def _lookup_event(self) -> Callable[[], None]:
        return lambda: lookup(self)

    def _move_in_event(self, plan: MovePlan) -> Callable[[], None]:
        return lambda: move_in(self, plan)
