"""One simulated run: build the network, seed it, live `days` days under faults, quiesce, check.

Everything random comes from one `random.Random(seed)`: the node keys' rngs, the population, the
life events, the scheduler's choice of which node steps next, and every fault. The only clock is
the simulated one; it moves by a fixed amount per node step and jumps over idle time to the next
thing that will happen (a life event, a retry falling due, a held message landing, a restart).
So the same seed gives the same run and the same JSON, byte for byte, whatever the machine.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TextIO

from juki.core.clock import JST, FixedClock
from juki.sim.cluster import Cluster
from juki.sim.faults import FaultRates, rates_for
from juki.sim.invariants import FinalCheck, Violation, daily
from juki.sim.invariants.kiosk import kiosk_checks
from juki.sim.layout import municipalities_of, outside_municipalities, sim_layout
from juki.sim.population import Truth, Whereabouts
from juki.sim.runner.fault_injection import FaultInjector
from juki.sim.runner.loop import DAY, EventLoop, StopRun, refresh_directories
from juki.sim.runner.report import message_counts, where
from juki.sim.runner.seeding import seed_network
from juki.sim.trace import Trace
from juki.sim.transport import FaultyTransport
from juki.sim.workload import Workload
from juki.sim.workload.agencies import find

SETUP_AT: Final = datetime(2025, 3, 31, 9, 0, tzinfo=JST)
FIRST_DAY: Final = date(2025, 4, 1)
TAIL_DAYS: Final = 20  # after the last day: pending move-ins are filed, no new events
QUIESCE_LIMIT: Final = timedelta(days=3)
LOOKUP_SAMPLE: Final = 50
LIVELOCK_STEPS: Final = 200_000
# Refusals no fault here can cause to a genuine message (every one is signed and addressed by a
# node with the authority to send it); only the `forge` fault's messages may meet them.
NEVER_REFUSED: Final = frozenset(
    {"malformed", "unsigned", "oversized", "bad_signature", "misaddressed", "replay",
     "unknown_sender", "unauthorised", "sender_mismatch"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SimConfig:
    seed: int
    days: int
    municipalities: int = 5
    population: int = 2000
    faults: str = "none"
    overrides: tuple[tuple[str, float], ...] = ()
    scale: float = 1.0
    kiosk_scale: float = 1.0  # × Japan's コンビニ交付 rate (juki.sim.workload.kiosk); 0: none
    workdir: Path | None = None  # default: a fresh temporary directory, removed afterwards

    @property
    def rates(self) -> FaultRates:
        return rates_for(self.faults, dict(self.overrides))


class Simulation:
    """One run. `run()` returns the result as a JSON-ready dict; it never raises for a finding:
    a violated invariant, or an exception out of the code under test, is in `violations`."""

    def __init__(self, config: SimConfig, *, echo: TextIO | None = None) -> None:
        if config.days < 0 or config.population < config.municipalities:
            raise ValueError("days must be ≥ 0 and population ≥ municipalities")
        self.config = config
        self.rates = config.rates
        self.rng = random.Random(config.seed)
        self.clock = FixedClock(SETUP_AT)
        self.trace = Trace(echo)
        self.truth = Truth()
        self.violations: list[dict[str, Any]] = []
        # The busiest legitimate stretch is the initial load (≈ 2.5 steps per resident).
        self.livelock_steps = max(LIVELOCK_STEPS, 10 * config.population)
        self.repairs: list[str] = []
        self.relay_retained_bytes = 0

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        config = self.config
        own_dir = config.workdir is None
        workdir = Path(tempfile.mkdtemp(prefix="juki-sim-")) if own_dir else config.workdir
        assert workdir is not None
        if not own_dir and workdir.exists() and any(workdir.iterdir()):
            raise ValueError(f"{workdir} is not empty: a run starts from empty databases")
        workdir.mkdir(parents=True, exist_ok=True)
        self.layout = sim_layout(config.municipalities)
        self.lg_codes = [s.node_id for s in municipalities_of(self.layout)]
        self.wire = FaultyTransport(self.clock, self.rng, self.rates, self.trace)
        self.wire.active = False
        try:
            self.cluster = Cluster(
                self.layout, workdir, self.clock, self.rng, self.wire, self.trace, self.rates
            )
        except BaseException:
            if own_dir:
                shutil.rmtree(workdir, ignore_errors=True)
            raise
        converged = False
        try:
            self.loop = EventLoop(
                self.clock, self.cluster, self.wire, livelock_steps=self.livelock_steps
            )
            self.injector = FaultInjector(
                self.loop, self.rng, self.rates, self.trace, forged=self.truth.forged
            )
            self.workload = Workload(
                self.cluster,
                self.truth,
                self.rng,
                self.trace,
                municipalities=self.lg_codes,
                outside=outside_municipalities(config.municipalities),
                scale=config.scale,
                kiosk_scale=config.kiosk_scale,
            )
            try:
                seed_network(
                    self.loop,
                    self.rng,
                    self.truth,
                    self.trace,
                    lg_codes=self.lg_codes,
                    population=config.population,
                )
                self._live()
                converged = self._finish()
            except StopRun as stop:
                self._report(stop.violations)
            except Exception as exc:  # a bug in the code under test (or here): stop, say where
                self._report([Violation("no_unexpected_exceptions", where(exc))])
            return self._result(converged)
        finally:
            self.cluster.dispose()
            if own_dir:
                shutil.rmtree(workdir, ignore_errors=True)

    def _report(self, violations: list[Violation]) -> None:
        at = self.clock.now().isoformat(timespec="milliseconds")
        for v in violations:
            self.violations.append(v.as_json(at, self.trace.trail(v.subjects)))

    # -- living -----------------------------------------------------------------------------------

    def _live(self) -> None:
        config, loop = self.config, self.loop
        self.wire.active = self.rates.any()
        first = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=JST)
        loop.advance_to(first)
        loop.every_hour(first)
        for day_no in range(config.days):
            start = first + day_no * DAY
            for when, kind, fn in self.workload.plan_day(start.date()):
                loop.at(when, kind, fn)
            self.injector.plan_day(start)
            loop.run_until(start + DAY)
            found = daily(self.cluster, faults=self.rates.any()) + loop.gaps()
            if found:
                raise StopRun(found)

    # -- finishing --------------------------------------------------------------------------------

    def _finish(self) -> bool:
        loop = self.loop
        self.injector.stop()
        end_of_days = self.clock.now()
        for extra in range(TAIL_DAYS):
            if not self.workload.moves:
                break
            start = datetime.combine(end_of_days.date(), datetime.min.time(), tzinfo=JST)
            start += (extra + 1) * DAY
            loop.advance_to(start)
            for plan_at, kind, fn in self.workload.plan_day(start.date(), tail=True):
                loop.at(plan_at, kind, fn)
            loop.run_until(start + DAY)
        if not loop.run_until(self.clock.now() + QUIESCE_LIMIT, quiet=True):
            raise StopRun([Violation("quiescence", "the network did not quiesce in 3 days")])
        refresh_directories(self.cluster)
        # a forged message is refused as unauthorised, and its copies (duplicate fault) as replay
        genuine = Counter(
            reason
            for message_id, reason in self.wire.refused
            if message_id not in self.truth.forged and reason in NEVER_REFUSED
        )
        if genuine:
            raise StopRun(
                [
                    Violation(
                        "no_spurious_refusals",
                        "genuine messages were refused as "
                        + ", ".join(f"{r} ({n}×)" for r, n in sorted(genuine.items())),
                    )
                ]
            )
        if loop.gaps():
            raise StopRun(loop.gaps())
        left = self.cluster.pending()
        if left:
            raise StopRun([Violation("quiescence", f"still pending after quiescing: {left}")])
        disagreements = self.cluster.network.check()
        found: list[Violation] = []
        if disagreements:
            self.repairs = sorted({d.lg_code for d in disagreements})
            found.append(
                Violation(
                    "repair_not_needed",
                    "digests disagree after quiescing: "
                    + "; ".join(d.describe() for d in disagreements[:4]),
                    tuple(f"node:{lg}" for lg in self.repairs),
                )
            )
            found.extend(FinalCheck(self.cluster, self.truth, faults=self.rates.any()).run())
            self.cluster.network.repair(disagreements)
            self.cluster.touch_all()
            loop.run_until(self.clock.now() + QUIESCE_LIMIT, quiet=True)
            converged = not self.cluster.network.check()
        else:
            converged = True
            found.extend(FinalCheck(self.cluster, self.truth, faults=self.rates.any()).run())
            found.extend(self._lookups_find_residents())
            found.extend(self._kiosk_checks())
        self._report(found)
        return converged

    def _kiosk_checks(self) -> list[Violation]:
        kiosks = self.workload.kiosks
        if kiosks is None:
            return []
        found, self.relay_retained_bytes = kiosk_checks(self.cluster, kiosks.pages)
        return found

    def _lookups_find_residents(self) -> list[Violation]:
        """After quiescence the national index must answer for anyone living in the network."""
        national = self.cluster.national()
        assert national is not None
        residents = sorted(
            c for c, p in self.truth.people.items() if p.status is Whereabouts.RESIDENT
        )
        out: list[Violation] = []
        for code in self.rng.sample(residents, min(LOOKUP_SAMPLE, len(residents))):
            record = self.workload.active_record(self.truth.people[code])
            if record is None:
                continue
            hit = find(national, record, self.rng)
            where_found = [] if hit is None or hit.resident_code != code else [hit.lg_code]
            if where_found != [record.lg_code]:
                out.append(
                    Violation(
                        "national_lookup",
                        f"looking up {code} by its four basic items finds "
                        f"{where_found}, it lives in {record.lg_code}",
                        (f"person:{code}",),
                    )
                )
        return out

    # -- the result -------------------------------------------------------------------------------

    def _result(self, converged: bool) -> dict[str, Any]:
        counts = message_counts(self.cluster)
        stats = self.workload.stats
        events = sum(stats.done.values()) + stats.lookups
        residents = sum(1 for p in self.truth.people.values() if p.status is Whereabouts.RESIDENT)
        injected = Counter(self.injector.injected)
        injected.update(self.wire.injected)
        injected["crash"] = self.cluster.restarts
        return {
            "seed": self.config.seed,
            "days": self.config.days,
            "municipalities": len(self.lg_codes),
            "nodes": len(self.layout),
            "population": self.config.population,
            "faults": self.config.faults,
            "fault_rates": self.rates.as_json(),
            "event_scale": self.config.scale,
            "events": events,
            "events_by_kind": dict(sorted(stats.done.items())),
            "events_refused": dict(sorted(stats.rejected.items())),
            "events_failed": dict(sorted(stats.failed.items())),
            "events_skipped": dict(sorted(stats.skipped.items())),
            "lookups": stats.lookups,
            "lookup_hits": stats.lookup_hits,
            "card_move_ins_fell_back_to_paper": stats.card_fallbacks,
            "card_move_outs_withdrawn": len(self.truth.withdrawn_card_moves),
            "kiosk": self._kiosk_result(),
            "messages_sent": counts["sent"],
            "messages_applied": counts["applied"],
            "duplicates_suppressed": self.wire.replies.get("duplicate", 0),
            "dead_letters": counts["dead_letters"],
            "dead_letter_reasons": counts["dead_letter_reasons"],
            "refusals": dict(sorted(self.wire.refusals.items())),
            "faults_injected": dict(sorted((k, v) for k, v in injected.items() if v)),
            "step_errors": self.cluster.step_errors,
            "steps": self.loop.steps,
            "residents": residents,
            "repairs": self.repairs,
            "violations": self.violations,
            "converged": converged,
            "simulated_until": self.clock.now().isoformat(timespec="seconds"),
        }

    def _kiosk_result(self) -> dict[str, Any] | None:
        kiosks = self.workload.kiosks
        if kiosks is None:
            return None
        return kiosks.stats.as_json() | {"relay_retained_bytes": self.relay_retained_bytes}


def run(config: SimConfig, *, echo: TextIO | None = None) -> dict[str, Any]:
    return Simulation(config, echo=echo).run()
