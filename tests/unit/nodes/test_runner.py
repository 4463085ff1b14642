"""The stepper thread of `juki node run`: keeps stepping through faults, stops when told."""

from __future__ import annotations

import threading

from juki.nodes.runner import Stepper


class FakeNode:
    node_id = "132250"

    def __init__(self) -> None:
        self.steps = 0
        self.refreshes = 0
        self.enough = threading.Event()

    def refresh_directory(self) -> bool:
        self.refreshes += 1
        if self.refreshes == 2:
            raise OSError("national unreachable")
        return False

    def step(self) -> bool:
        self.steps += 1
        if self.steps == 3:
            raise RuntimeError("database is locked")
        if self.steps >= 10:
            self.enough.set()
        return self.steps % 2 == 0  # busy, idle, busy, …


def test_the_stepper_survives_faults_refreshes_and_stops() -> None:
    node = FakeNode()
    ticks = iter(range(1_000_000))
    stepper = Stepper(
        node,  # type: ignore[arg-type]
        idle_wait=0.001,
        error_wait=0.001,
        refresh_every=3,
        monotonic=lambda: float(next(ticks)),
    )
    stepper.start()
    assert node.enough.wait(5)
    stepper.join(timeout=5)
    assert not stepper.thread.is_alive()
    assert node.refreshes >= 2
    assert node.steps >= 10
