"""Node, link and clock faults: planned per simulated day, each undone when its time is up.

Message faults are the wire's own (`FaultyTransport`); the faults here change the network's
shape instead (a partition between two nodes, a node's 離脱 from the network, a skewed clock, a
crash, a full disk), so each is a timed event on the loop's queue that schedules its own end.
Every draw comes from the run's one rng, so a seed gives the same faults at the same times.
`stop` heals everything at the end of the fault period, so the network can drain and be checked.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa

from juki.network.directory import NodeKind
from juki.sim.faults import (
    SKEW_BEYOND,
    SKEW_WITHIN,
    Durations,
    FaultRates,
    Forgery,
    SimCrash,
    is_disk_full,
)
from juki.sim.invariants import Violation
from juki.sim.runner.forgery import Forger
from juki.sim.runner.loop import EventLoop, StopRun, refresh_directories
from juki.sim.trace import Trace
from juki.sim.workload import poisson

RETRY_ADMIN: Final = timedelta(minutes=5)


class FaultInjector:
    def __init__(
        self,
        loop: EventLoop,
        rng: random.Random,
        rates: FaultRates,
        trace: Trace,
        forged: dict[str, Forgery] | None = None,
    ) -> None:
        self.loop = loop
        self.clock = loop.clock
        self.cluster = loop.cluster
        self.wire = loop.wire
        self.rng = rng
        self.rates = rates
        self.trace = trace
        self.durations = Durations()
        self.injected: Counter[str] = Counter()
        self.disconnected: set[str] = set()
        self.over = False
        self.forger: Forger | None = None
        if rates.forge > 0:  # its own rng, so runs without forging keep their course
            self.forger = Forger(self.cluster, trace, random.Random(rng.getrandbits(64)))
            if forged is not None:
                self.forger.forged = forged
        # its own rng (as the forger's), so runs without this fault keep their course
        self.batch_rng: random.Random | None = None
        if rates.crash_mid_batch > 0:
            self.batch_rng = random.Random(rng.getrandbits(64))

    def plan_day(self, day_start: datetime) -> None:
        """Schedule the day's node, link and clock faults at random times in it."""
        for kind in ("partition", "disconnect", "skew", "skew_beyond", "crash", "disk_full"):
            rate: float = getattr(self.rates, kind)
            for _ in range(poisson(self.rng, rate)):
                when = day_start + timedelta(seconds=round(self.rng.random() * 86_400, 3))
                self.loop.at(when, kind, self._fault_action(kind))
        if self.batch_rng is not None:
            for _ in range(poisson(self.batch_rng, self.rates.crash_mid_batch)):
                when = day_start + timedelta(seconds=round(self.batch_rng.random() * 86_400, 3))
                self.loop.at(when, "crash_mid_batch", self._crash_mid_batch)
        if self.forger is not None:
            for _ in range(poisson(self.forger.rng, self.rates.forge)):
                when = day_start + timedelta(seconds=round(self.forger.rng.random() * 86_400, 3))
                self.loop.at(when, "forge", self._forge)

    def _crash_mid_batch(self) -> None:
        """Arm a node to die at its 1st to 6th write while applying batches (the next one, or a
        later one if that one writes less): some of a batch written, none of it committed; the
        sender must send it again."""
        if self.over or self.batch_rng is None:
            return
        up = [n for n in self.cluster.order if self.cluster.up(n)]
        if not up:
            return
        node_id = up[self.batch_rng.randrange(len(up))]
        at_write = self.batch_rng.randint(1, 6)
        self.cluster.disks[node_id].crash_mid_batch = at_write
        self._note(
            "crash_mid_batch", f"{node_id} will crash at write {at_write} of a batch", node_id
        )

    def _fault_action(self, kind: str) -> Callable[[], None]:
        return lambda: self._fault(kind)

    def _span(self, bounds: tuple[timedelta, timedelta]) -> timedelta:
        lo, hi = bounds
        return lo + timedelta(seconds=round((hi - lo).total_seconds() * self.rng.random(), 3))

    def _fault(self, kind: str) -> None:
        if self.over:
            return
        cluster, rng, now = self.cluster, self.rng, self.clock.now()
        nodes = cluster.order
        if kind == "partition":
            a, b = rng.sample(nodes, 2)
            until = now + self._span(self.durations.partition)
            self.wire.partition(a, b, until)
            self._note(kind, f"partition {a} ⇹ {b} until {until:%m-%d %H:%M}", a, b)
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
            self._note(kind, f"{target} disconnected (離脱) until {back:%m-%d %H:%M}", target)
            self._disconnect(target)
            self.loop.at(back, "reconnect", lambda: self._reconnect(target))
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
            self._note(kind, f"{node_id} clock off by {off} for {span}", node_id)
            self.loop.at(now + span, "skew end", lambda: self._unskew(node_id, offset))
        elif kind == "crash":
            up = [n for n in nodes if cluster.up(n)]
            if not up:
                return
            node_id = up[rng.randrange(len(up))]
            how = rng.choice(("between steps", "at its next commit", "after a send"))
            self._note(kind, f"{node_id} will crash {how}", node_id)
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
            self._note(kind, f"{node_id} disk full for {span}", node_id)
            self.loop.at(now + span, "disk freed", lambda: self._free_disk(node_id))

    def _forge(self) -> None:
        forger = self.forger
        if self.over or forger is None:
            return
        now = self.clock.now()
        if self._admin(lambda: forger.forge(now)):
            self.injected["forge"] += 1

    def _note(self, kind: str, text: str, *nodes: str) -> None:
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
        if node_id not in self.disconnected or self.over:
            return
        cluster = self.cluster
        if (
            cluster.up(node_id)
            and cluster.national() is not None
            and self._admin(lambda: cluster.network.disconnect(node_id))
        ):
            cluster.touch_all()
            return
        self.loop.at(
            self.clock.now() + RETRY_ADMIN, "disconnect", lambda: self._disconnect(node_id)
        )

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
        self.loop.at(self.clock.now() + RETRY_ADMIN, "reconnect", lambda: self._reconnect(node_id))

    def _unskew(self, node_id: str, offset: timedelta) -> None:
        if self.cluster.skews.get(node_id) == offset:
            del self.cluster.skews[node_id]
            self.cluster.touch_all()
            self.trace.add(self.clock.now(), f"{node_id} clock corrected", [f"node:{node_id}"])

    def _free_disk(self, node_id: str) -> None:
        self.cluster.disks[node_id].full = False
        self.cluster.touch(node_id)
        self.trace.add(self.clock.now(), f"{node_id} disk has space again", [f"node:{node_id}"])

    def stop(self) -> None:
        """The fault period is over: heal everything, let the network drain."""
        self.over = True
        cluster, wire = self.cluster, self.wire
        wire.active = False
        wire.partitions.clear()
        wire.crash_after_send.clear()
        cluster.skews.clear()
        for disk in cluster.disks.values():
            disk.full = False
            disk.crash_at_commit = False
            disk.crash_mid_batch = 0
        for node_id in sorted(cluster.down):
            cluster.restart(node_id)
        for node_id in sorted(self.disconnected):
            if self._admin(functools.partial(cluster.network.reconnect, node_id)):
                self.disconnected.discard(node_id)
        if self.disconnected:
            raise StopRun(
                [Violation("quiescence", f"could not reconnect {sorted(self.disconnected)}")]
            )
        refresh_directories(cluster)
        cluster.touch_all()
        self.trace.add(self.clock.now(), "faults stop", [])
