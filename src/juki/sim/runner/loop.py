"""The event loop: one simulated clock, a queue of timed events, and node steps in between.

Node steps and timed events (life events, faults and their ends, directory refreshes) share one
clock: each node step moves it by `STEP`, and when no node has work it jumps straight to the next
thing that will happen. The loop is also where two findings can only be seen as they happen, so
it stops the run on them: a receiver asking for a sequence number again (an acknowledged message
was not applied) and a network that never runs out of work (a livelock).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa

from juki.core.clock import FixedClock
from juki.network.tables import net_outbox
from juki.sim.cluster import STEP, Cluster
from juki.sim.faults import SimCrash, is_disk_full
from juki.sim.invariants import Violation
from juki.sim.transport import FaultyTransport

DAY: Final = timedelta(days=1)
REFRESH_EVERY: Final = timedelta(hours=1)


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


def refresh_directories(cluster: Cluster) -> None:
    """Nodes fetch the directory now and then; one that missed a change catches up here."""
    national = cluster.national()
    if national is None:
        return
    serial = national.directory().serial
    for node_id in cluster.order:
        if node_id == national.node_id or not cluster.up(node_id):
            continue
        node = cluster.node(node_id)
        try:
            if node.directory().serial < serial and node.refresh_directory():
                cluster.touch(node_id)
        except SimCrash as crash:
            cluster.crashes.append(crash)
            cluster.settle_crashes()


def checkpoint_oplogs(cluster: Cluster) -> None:
    """Nodes with nothing to do are not stepped: the hour's tick gives each its chance to sign
    a checkpoint that has fallen due (`Node.maybe_checkpoint`), and wakes it to send it."""
    for node_id in cluster.order:
        if not cluster.up(node_id):
            continue
        try:
            if cluster.node(node_id).maybe_checkpoint():
                cluster.touch(node_id)
        except SimCrash as crash:
            cluster.crashes.append(crash)
            cluster.settle_crashes()
        except sa.exc.SQLAlchemyError as exc:
            if not is_disk_full(exc):
                raise


class EventLoop:
    def __init__(
        self,
        clock: FixedClock,
        cluster: Cluster,
        wire: FaultyTransport,
        *,
        livelock_steps: int,
    ) -> None:
        self.clock = clock
        self.cluster = cluster
        self.wire = wire
        self.livelock_steps = livelock_steps
        self.queue: list[_Timer] = []
        self._seq = 0
        self.steps = 0

    # -- the event queue and the clock ---------------------------------------------------------

    def at(self, when: datetime, label: str, fn: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self.queue, _Timer(when, self._seq, label, fn))

    def advance_to(self, when: datetime) -> None:
        now = self.clock.now()
        if when > now:
            self.clock.advance(when - now)

    def every_hour(self, when: datetime) -> None:
        def tick() -> None:
            refresh_directories(self.cluster)
            checkpoint_oplogs(self.cluster)
            self.at(self.clock.now() + REFRESH_EVERY, "refresh", tick)

        self.at(when + REFRESH_EVERY, "refresh", tick)

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
                    raise StopRun(self.gaps())
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
                self.advance_to(end)
                return False
            self.advance_to(following)

    # -- what only the loop sees ----------------------------------------------------------------

    def _livelock(self, busy: int) -> Violation:
        top = self.cluster.stepped.most_common(3)
        return Violation(
            "no_livelock",
            f"{busy} node steps without the network ever running out of work; busiest nodes {top}",
            tuple(f"node:{n}" for n, _ in top),
        )

    def gaps(self) -> list[Violation]:
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
