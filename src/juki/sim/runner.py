"""One simulated run: build the network, seed it, live `days` days under faults, quiesce, check.

Everything random comes from one `random.Random(seed)`: the node keys' rngs, the population, the
life events, the scheduler's choice of which node steps next, and every fault. The only clock is
the simulated one; it moves by a fixed amount per node step and jumps over idle time to the next
thing that will happen (a life event, a retry falling due, a held message landing, a restart).
So the same seed gives the same run and the same JSON, byte for byte, whatever the machine.
"""

from __future__ import annotations

import functools
import heapq
import random
import shutil
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TextIO

import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.network.directory import NodeKind
from juki.network.tables import net_dead_letters, net_inbox, net_outbox
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.sim.cluster import STEP, Cluster
from juki.sim.faults import (
    SKEW_BEYOND,
    SKEW_WITHIN,
    Durations,
    FaultRates,
    SimCrash,
    is_disk_full,
    rates_for,
)
from juki.sim.invariants import FinalCheck, Violation, daily
from juki.sim.layout import municipalities_of, outside_municipalities, sim_layout
from juki.sim.population import SeededIds, Truth, Whereabouts, seed_municipality
from juki.sim.trace import Trace
from juki.sim.transport import FaultyTransport
from juki.sim.workload import Workload, poisson

SETUP_AT: Final = datetime(2025, 3, 31, 9, 0, tzinfo=JST)
FIRST_DAY: Final = date(2025, 4, 1)
DAY: Final = timedelta(days=1)
TAIL_DAYS: Final = 20  # after the last day: pending move-ins are filed, no new events
QUIESCE_LIMIT: Final = timedelta(days=3)
REFRESH_EVERY: Final = timedelta(hours=1)
RETRY_ADMIN: Final = timedelta(minutes=5)
LOOKUP_SAMPLE: Final = 50
LIVELOCK_STEPS: Final = 200_000
# Refusals no fault here can cause: every message is genuine, signed and addressed by a node.
NEVER_REFUSED: Final = frozenset(
    {"malformed", "unsigned", "oversized", "bad_signature", "misaddressed", "replay",
     "unknown_sender"}
)  # fmt: skip
SEEDER: Final = Actor("sim-seeder", Role.SYSTEM, "sim")


@dataclass(frozen=True, slots=True)
class SimConfig:
    seed: int
    days: int
    municipalities: int = 5
    population: int = 2000
    faults: str = "none"
    overrides: tuple[tuple[str, float], ...] = ()
    scale: float = 1.0
    workdir: Path | None = None  # default: a fresh temporary directory, removed afterwards

    @property
    def rates(self) -> FaultRates:
        return rates_for(self.faults, dict(self.overrides))


class StopRun(Exception):
    """An invariant failed during the run: stop here and report it."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(violations[0].detail if violations else "stopped")
        self.violations = violations


@dataclass
class _Timer:
    at: datetime
    seq: int
    label: str = field(compare=False)
    fn: Callable[[], None] = field(compare=False)

    def __lt__(self, other: _Timer) -> bool:
        return (self.at, self.seq) < (other.at, other.seq)


class Simulation:
    """One run. `run()` returns the result as a JSON-ready dict; it never raises for a finding:
    a violated invariant, or an exception out of the code under test, is in `violations`."""

    def __init__(self, config: SimConfig, *, echo: TextIO | None = None) -> None:
        if config.days < 0 or config.population < config.municipalities:
            raise ValueError("days must be ≥ 0 and population ≥ municipalities")
        self.config = config
        self.rates = config.rates
        self.durations = Durations()
        self.rng = random.Random(config.seed)
        self.clock = FixedClock(SETUP_AT)
        self.trace = Trace(echo)
        self.truth = Truth()
        self.queue: list[_Timer] = []
        self._seq = 0
        self.steps = 0
        self.injected: Counter[str] = Counter()
        self.disconnected: set[str] = set()
        self.faults_over = False
        self.violations: list[dict[str, Any]] = []
        # The busiest legitimate stretch is the initial load (≈ 2.5 steps per resident).
        self.livelock_steps = max(LIVELOCK_STEPS, 10 * config.population)
        self.repairs: list[str] = []

    # -- the event queue and the clock ---------------------------------------------------------

    def at(self, when: datetime, label: str, fn: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self.queue, _Timer(when, self._seq, label, fn))

    def _advance_to(self, when: datetime) -> None:
        now = self.clock.now()
        if when > now:
            self.clock.advance(when - now)

    def run_until(self, end: datetime, *, quiet: bool = False) -> bool:
        """Run events and node steps until `end`; with `quiet`, stop early once nothing is left
        to do (no node has work, nothing is held on the wire, nobody is down). True if so."""
        cluster, wire = self.cluster, self.wire
        busy = 0  # steps since the nodes last ran out of work
        while True:
            cluster.restart_due()
            wire.release_due()
            cluster.settle_crashes()
            now = self.clock.now()
            while self.queue and self.queue[0].at <= now:
                timer = heapq.heappop(self.queue)
                timer.fn()
                cluster.settle_crashes()
            node_id = cluster.pick()
            if node_id is not None:
                cluster.step(node_id)
                self.steps += 1
                busy += 1
                if wire.gaps:
                    raise StopRun(self._gaps())
                if busy > self.livelock_steps:
                    raise StopRun([self._livelock(busy)])
                self.clock.advance(STEP)
                if self.clock.now() >= end:
                    return False
                continue
            busy = 0
            if quiet and not wire.held() and not cluster.wake and not cluster.down:
                return True
            upcoming = [
                t
                for t in (
                    self.queue[0].at if self.queue else None,
                    cluster.next_wake(),
                    wire.next_release(),
                    cluster.next_restart(),
                )
                if t is not None
            ]
            following = min(upcoming, default=end)
            if following >= end:
                self._advance_to(end)
                return False
            self._advance_to(following)

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
            self.workload = Workload(
                self.cluster,
                self.truth,
                self.rng,
                self.trace,
                municipalities=self.lg_codes,
                outside=outside_municipalities(config.municipalities),
                scale=config.scale,
            )
            try:
                self._setup()
                self._live()
                converged = self._finish()
            except StopRun as stop:
                self._report(stop.violations)
            except Exception as exc:  # a bug in the code under test (or here): stop, say where
                self._report([Violation("no_unexpected_exceptions", _where(exc))])
            return self._result(converged)
        finally:
            self.cluster.dispose()
            if own_dir:
                shutil.rmtree(workdir, ignore_errors=True)

    def _report(self, violations: list[Violation]) -> None:
        at = self.clock.now().isoformat(timespec="milliseconds")
        for v in violations:
            self.violations.append(v.as_json(at, self.trace.trail(v.subjects)))

    # -- setting up -----------------------------------------------------------------------------

    def _setup(self) -> None:
        """Allot resident codes, seed every municipality, let the network carry it all up."""
        config, cluster = self.config, self.cluster
        national = cluster.national()
        assert national is not None
        shares = _split(config.population, len(self.lg_codes))
        for lg, n in zip(self.lg_codes, shares, strict=True):
            national.allot(lg, n + 20_000)
        cluster.touch_all()
        self.run_until(self.clock.now() + DAY, quiet=True)
        for lg, n in zip(self.lg_codes, shares, strict=True):
            node = cluster.municipality(lg)
            assert node is not None
            seed_municipality(
                node.engine,
                lg,
                n,
                seed=self.rng.getrandbits(32),
                ids=SeededIds(random.Random(self.rng.getrandbits(64))),
                now=node.clock.now(),
                today=node.clock.today(),
                truth=self.truth,
                by=SEEDER,
            )
        cluster.touch_all()
        if not self.run_until(self.clock.now() + DAY, quiet=True):
            raise StopRun(
                [Violation("quiescence", "the seeded population did not settle in a day")]
            )
        with national.engine.begin() as conn:
            national.register_existing_numbers(conn)
        self.trace.add(self.clock.now(), f"seeded {len(self.truth.people)} residents", [])

    # -- living -----------------------------------------------------------------------------------

    def _live(self) -> None:
        config = self.config
        self.wire.active = self.rates.any()
        first = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=JST)
        self._advance_to(first)
        self._every_hour(first)
        for day_no in range(config.days):
            start = first + day_no * DAY
            for when, kind, fn in self.workload.plan_day(start.date()):
                self.at(when, kind, fn)
            self._plan_faults(start)
            self.run_until(start + DAY)
            found = daily(self.cluster, faults=self.rates.any()) + self._gaps()
            if found:
                raise StopRun(found)

    def _livelock(self, busy: int) -> Violation:
        top = self.cluster.stepped.most_common(3)
        return Violation(
            "no_livelock",
            f"{busy} node steps without the network ever running out of work; busiest nodes {top}",
            tuple(f"node:{n}" for n, _ in top),
        )

    def _gaps(self) -> list[Violation]:
        """A receiver asked for a sequence number again: a message was acknowledged but never
        applied. The protocol heals that (the sender rewinds), but none of the simulated faults
        loses committed data, so a correct node never causes one: it is a finding."""
        if not self.wire.gaps:
            return []
        sender, recipient, message_id, expected = self.wire.gaps[0]
        keys = [f"msg:{message_id}", f"node:{sender}", f"node:{recipient}"]
        engine, temporary = self.cluster.engine_for_reading(sender)
        try:
            with engine.connect() as conn:
                lost = conn.execute(
                    sa.select(net_outbox.c.message_id).where(
                        (net_outbox.c.peer == recipient) & (net_outbox.c.seq == expected)
                    )
                ).scalar_one_or_none()
        finally:
            if temporary:
                engine.dispose()
        if lost is not None:
            keys.insert(0, f"msg:{lost}")
        return [
            Violation(
                "acknowledged_means_applied",
                f"{recipient} asked {sender} for sequence {expected} again "
                f"({len(self.wire.gaps)} gaps in all): a message was acknowledged, not applied",
                tuple(keys),
            )
        ]

    def _every_hour(self, when: datetime) -> None:
        def tick() -> None:
            self._refresh_directories()
            self.at(self.clock.now() + REFRESH_EVERY, "refresh", tick)

        self.at(when + REFRESH_EVERY, "refresh", tick)

    def _refresh_directories(self) -> None:
        """Nodes fetch the directory now and then; one that missed a change catches up here."""
        national = self.cluster.national()
        if national is None:
            return
        serial = national.directory().serial
        for node_id in self.cluster.order:
            if node_id == national.node_id or not self.cluster.up(node_id):
                continue
            node = self.cluster.node(node_id)
            try:
                if node.directory().serial < serial and node.refresh_directory():
                    self.cluster.touch(node_id)
            except SimCrash as crash:
                self.cluster.crashes.append(crash)
                self.cluster.settle_crashes()

    # -- faults -----------------------------------------------------------------------------------

    def _plan_faults(self, day_start: datetime) -> None:
        for kind in ("partition", "disconnect", "skew", "skew_beyond", "crash", "disk_full"):
            rate: float = getattr(self.rates, kind)
            for _ in range(poisson(self.rng, rate)):
                when = day_start + timedelta(seconds=round(self.rng.random() * 86_400, 3))
                self.at(when, kind, self._fault_action(kind))

    def _fault_action(self, kind: str) -> Callable[[], None]:
        return lambda: self._fault(kind)

    def _span(self, bounds: tuple[timedelta, timedelta]) -> timedelta:
        lo, hi = bounds
        return lo + timedelta(seconds=round((hi - lo).total_seconds() * self.rng.random(), 3))

    def _fault(self, kind: str) -> None:
        if self.faults_over:
            return
        cluster, rng, now = self.cluster, self.rng, self.clock.now()
        nodes = cluster.order
        if kind == "partition":
            a, b = rng.sample(nodes, 2)
            until = now + self._span(self.durations.partition)
            self.wire.partition(a, b, until)
            self._fault_note(kind, f"partition {a} ⇹ {b} until {until:%m-%d %H:%M}", a, b)
            for link in (f"link:{a}>{b}", f"link:{b}>{a}"):
                self.trace.add(now, f"partition {a} ⇹ {b} until {until:%m-%d %H:%M}", [link])
        elif kind == "disconnect":
            candidates = [
                n
                for n in nodes
                if cluster.specs[n].kind is not NodeKind.NATIONAL
                and cluster.up(n)
                and n not in self.disconnected
            ]
            if not candidates or cluster.national() is None:
                return
            target = candidates[rng.randrange(len(candidates))]
            self.disconnected.add(target)
            back = now + self._span(self.durations.disconnect)
            self._fault_note(kind, f"{target} disconnected (離脱) until {back:%m-%d %H:%M}", target)
            self._disconnect(target)
            self.at(back, "reconnect", lambda: self._reconnect(target))
        elif kind in ("skew", "skew_beyond"):
            node_id = nodes[rng.randrange(len(nodes))]
            if kind == "skew":
                most = SKEW_WITHIN.total_seconds()
                offset = timedelta(seconds=round(rng.uniform(-most, most), 3))
                span = self._span(self.durations.skew)
            else:
                offset = self._span(SKEW_BEYOND) * rng.choice((-1, 1))
                span = self._span(self.durations.skew_beyond)
            cluster.skews[node_id] = offset
            cluster.touch_all()
            off = f"{offset.total_seconds():+.1f} s"
            self._fault_note(kind, f"{node_id} clock off by {off} for {span}", node_id)
            self.at(now + span, "skew end", lambda: self._unskew(node_id, offset))
        elif kind == "crash":
            up = [n for n in nodes if cluster.up(n)]
            if not up:
                return
            node_id = up[rng.randrange(len(up))]
            how = rng.choice(("between steps", "at its next commit", "after a send"))
            self._fault_note(kind, f"{node_id} will crash {how}", node_id)
            if how == "between steps":
                cluster.crash(node_id, cluster.downtime(), how)
            elif how == "at its next commit":
                cluster.disks[node_id].crash_at_commit = True
            else:
                self.wire.crash_after_send.add(node_id)
        elif kind == "disk_full":
            node_id = nodes[rng.randrange(len(nodes))]
            disk = cluster.disks[node_id]
            if disk.full:
                return
            disk.full = True
            span = self._span(self.durations.disk_full)
            self._fault_note(kind, f"{node_id} disk full for {span}", node_id)
            self.at(now + span, "disk freed", lambda: self._free_disk(node_id))

    def _fault_note(self, kind: str, text: str, *nodes: str) -> None:
        self.injected[kind] += 1
        self.trace.add(self.clock.now(), text, [f"node:{n}" for n in nodes])

    def _admin(self, action: Callable[[], None]) -> bool:
        """An administrator's network action; it fails like any write when a disk is full."""
        try:
            action()
        except sa.exc.SQLAlchemyError as exc:
            if not is_disk_full(exc):
                raise
            self.trace.add(self.clock.now(), "admin action failed: a disk is full", [])
            return False
        except SimCrash as crash:
            self.cluster.crashes.append(crash)
            self.cluster.settle_crashes()
            return False
        return True

    def _disconnect(self, node_id: str) -> None:
        """An administrator's 離脱; retried while a disk is full or a node is down, since half
        of it (the node's own flag, the national directory) may already have happened."""
        if node_id not in self.disconnected or self.faults_over:
            return
        cluster = self.cluster
        if (
            cluster.up(node_id)
            and cluster.national() is not None
            and self._admin(lambda: cluster.network.disconnect(node_id))
        ):
            cluster.touch_all()
            return
        self.at(self.clock.now() + RETRY_ADMIN, "disconnect", lambda: self._disconnect(node_id))

    def _reconnect(self, node_id: str) -> None:
        if node_id not in self.disconnected:
            return
        cluster = self.cluster
        if (
            cluster.up(node_id)
            and cluster.national() is not None
            and self._admin(lambda: cluster.network.reconnect(node_id))
        ):
            self.disconnected.discard(node_id)
            cluster.touch_all()
            self.trace.add(self.clock.now(), f"{node_id} reconnected", [f"node:{node_id}"])
            return
        self.at(self.clock.now() + RETRY_ADMIN, "reconnect", lambda: self._reconnect(node_id))

    def _unskew(self, node_id: str, offset: timedelta) -> None:
        if self.cluster.skews.get(node_id) == offset:
            del self.cluster.skews[node_id]
            self.cluster.touch_all()
            self.trace.add(self.clock.now(), f"{node_id} clock corrected", [f"node:{node_id}"])

    def _free_disk(self, node_id: str) -> None:
        self.cluster.disks[node_id].full = False
        self.cluster.touch(node_id)
        self.trace.add(self.clock.now(), f"{node_id} disk has space again", [f"node:{node_id}"])

    def _stop_faults(self) -> None:
        """The fault period is over: heal everything, let the network drain."""
        self.faults_over = True
        cluster, wire = self.cluster, self.wire
        wire.active = False
        wire.partitions.clear()
        wire.crash_after_send.clear()
        cluster.skews.clear()
        for disk in cluster.disks.values():
            disk.full = False
            disk.crash_at_commit = False
        for node_id in sorted(cluster.down):
            cluster.restart(node_id)
        for node_id in sorted(self.disconnected):
            if self._admin(functools.partial(cluster.network.reconnect, node_id)):
                self.disconnected.discard(node_id)
        if self.disconnected:
            raise StopRun(
                [Violation("quiescence", f"could not reconnect {sorted(self.disconnected)}")]
            )
        self._refresh_directories()
        cluster.touch_all()
        self.trace.add(self.clock.now(), "faults stop", [])

    # -- finishing --------------------------------------------------------------------------------

    def _finish(self) -> bool:
        self._stop_faults()
        end_of_days = self.clock.now()
        for extra in range(TAIL_DAYS):
            if not self.workload.moves:
                break
            start = datetime.combine(end_of_days.date(), datetime.min.time(), tzinfo=JST)
            start += (extra + 1) * DAY
            self._advance_to(start)
            for plan_at, kind, fn in self.workload.plan_day(start.date(), tail=True):
                self.at(plan_at, kind, fn)
            self.run_until(start + DAY)
        if not self.run_until(self.clock.now() + QUIESCE_LIMIT, quiet=True):
            raise StopRun([Violation("quiescence", "the network did not quiesce in 3 days")])
        self._refresh_directories()
        spurious = sorted(set(self.wire.refusals) & NEVER_REFUSED)
        if spurious:
            raise StopRun(
                [
                    Violation(
                        "no_spurious_refusals",
                        "genuine messages were refused as "
                        + ", ".join(f"{r} ({self.wire.refusals[r]}×)" for r in spurious),
                    )
                ]
            )
        if self._gaps():
            raise StopRun(self._gaps())
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
            self.run_until(self.clock.now() + QUIESCE_LIMIT, quiet=True)
            converged = not self.cluster.network.check()
        else:
            converged = True
            found.extend(FinalCheck(self.cluster, self.truth, faults=self.rates.any()).run())
            found.extend(self._lookups_find_residents())
        self._report(found)
        return converged

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
            hits = national.lookup_by_basic_items(
                name_kana=record.family_name_kana + record.given_name_kana,
                birth_date=record.birth_date,
            )
            mine = [h for h in hits if h["resident_code"] == code]
            if [h["lg_code"] for h in mine] != [record.lg_code]:
                out.append(
                    Violation(
                        "national_lookup",
                        f"looking up {code} by its four basic items finds "
                        f"{[h['lg_code'] for h in mine]}, it lives in {record.lg_code}",
                        (f"person:{code}",),
                    )
                )
        return out

    # -- the result -------------------------------------------------------------------------------

    def _result(self, converged: bool) -> dict[str, Any]:
        counts = self._message_counts()
        stats = self.workload.stats
        events = sum(stats.done.values()) + stats.lookups
        residents = sum(1 for p in self.truth.people.values() if p.status is Whereabouts.RESIDENT)
        injected = Counter(self.injected)
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
            "messages_sent": counts["sent"],
            "messages_applied": counts["applied"],
            "duplicates_suppressed": self.wire.replies.get("duplicate", 0),
            "dead_letters": counts["dead_letters"],
            "dead_letter_reasons": counts["dead_letter_reasons"],
            "refusals": dict(sorted(self.wire.refusals.items())),
            "faults_injected": dict(sorted((k, v) for k, v in injected.items() if v)),
            "step_errors": self.cluster.step_errors,
            "steps": self.steps,
            "residents": residents,
            "repairs": self.repairs,
            "violations": self.violations,
            "converged": converged,
            "simulated_until": self.clock.now().isoformat(timespec="seconds"),
        }

    def _message_counts(self) -> dict[str, Any]:
        sent = applied = dead = 0
        reasons: Counter[str] = Counter()
        for node_id in self.cluster.order:
            engine, temporary = self.cluster.engine_for_reading(node_id)
            try:
                with engine.connect() as conn:
                    sent += int(
                        conn.execute(
                            sa.select(sa.func.count()).select_from(net_outbox)
                        ).scalar_one()
                    )
                    applied += int(
                        conn.execute(
                            sa.select(sa.func.count())
                            .select_from(net_inbox)
                            .where(net_inbox.c.outcome == "applied")
                        ).scalar_one()
                    )
                    for reason, n in conn.execute(
                        sa.select(net_dead_letters.c.reason, sa.func.count()).group_by(
                            net_dead_letters.c.reason
                        )
                    ).all():
                        reasons[str(reason)] += int(n)
                        dead += int(n)
            finally:
                if temporary:
                    engine.dispose()
        return {
            "sent": sent,
            "applied": applied,
            "dead_letters": dead,
            "dead_letter_reasons": dict(sorted(reasons.items())),
        }


def _where(exc: BaseException) -> str:
    """The exception and the innermost juki frames it passed through (file:line in function)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{Path('juki')}" in f.filename] or frames
    path = " ← ".join(
        f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} {f.name}"
        for f in reversed(ours[-4:])
    )
    return f"{type(exc).__name__}: {exc} at {path}"


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def run(config: SimConfig, *, echo: TextIO | None = None) -> dict[str, Any]:
    return Simulation(config, echo=echo).run()
