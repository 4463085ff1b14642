"""The stepper thread of `juki node run`: keeps stepping through faults, stops when told."""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from juki.core.clock import SystemClock
from juki.nodes.runner import IDLE_WAIT, Gather, Stepper, WakeOnWrite, trusts_proxy_headers


class FakeNode:
    node_id = "132250"
    clock = SystemClock()

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

    def next_due(self) -> datetime | None:
        return None


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


class IdleNode:
    node_id = "132250"
    clock = SystemClock()

    def __init__(self, due: datetime | None = None) -> None:
        self.steps = 0
        self.stepped = threading.Event()
        self.due = due

    def next_due(self) -> datetime | None:
        return self.due

    def refresh_directory(self) -> bool:
        return False

    def step(self) -> bool:
        self.steps += 1
        self.stepped.set()
        return False


def test_an_idle_stepper_waits_until_woken() -> None:
    node = IdleNode()
    stepper = Stepper(node, idle_wait=60.0, max_idle_wait=60.0)  # type: ignore[arg-type]
    stepper.start()
    try:
        assert node.stepped.wait(10)  # the first step; then a minute's wait, unless woken
        node.stepped.clear()
        stepper.wake()
        assert node.stepped.wait(10)
        assert node.steps == 2
    finally:
        stepper.join(timeout=5)  # a stop wakes it too
    assert not stepper.thread.is_alive()


def test_idle_waits_double_up_to_the_limit_and_a_wake_starts_them_again() -> None:
    stepper = Stepper(IdleNode(), idle_wait=0.001, max_idle_wait=0.004)  # type: ignore[arg-type]
    waits = [0.001]
    for _ in range(4):
        waits.append(stepper._idle(waits[-1], math.inf))
    assert waits == [0.001, 0.002, 0.004, 0.004, 0.004]
    stepper.wake()
    assert stepper._idle(0.004, math.inf) == 0.001 and not stepper.woken.is_set()


def test_an_idle_stepper_sleeps_no_longer_than_until_work_falls_due() -> None:
    """A retry waiting out its backoff is sent when due, not at the end of a long idle wait;
    a due time already past waits 50 ms, so it cannot spin the loop."""
    soon = IdleNode(due=SystemClock().now() + timedelta(seconds=2))
    stepper = Stepper(soon, idle_wait=0.05, max_idle_wait=3600)  # type: ignore[arg-type]
    assert 1.0 < stepper._until_due() <= 2.0
    assert Stepper(IdleNode(), idle_wait=0.05)._until_due() == math.inf  # type: ignore[arg-type]
    past = IdleNode(due=SystemClock().now() - timedelta(hours=1))
    assert Stepper(past, idle_wait=60)._until_due() == IDLE_WAIT == 0.05  # type: ignore[arg-type]


def test_an_idle_stepper_steps_again_when_a_retry_falls_due() -> None:
    node = IdleNode(due=SystemClock().now() + timedelta(seconds=0.2))
    stepper = Stepper(node, idle_wait=60.0, max_idle_wait=60.0)  # type: ignore[arg-type]
    stepper.start()
    try:
        assert node.stepped.wait(10)
        node.stepped.clear()
        assert node.stepped.wait(30)  # not woken: due, long before the minute's idle wait
    finally:
        stepper.join(timeout=5)


def test_a_writing_request_wakes_the_stepper_a_reading_one_does_not() -> None:
    woken: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    client = TestClient(WakeOnWrite(app, lambda: woken.append("woken")))  # type: ignore[arg-type]
    client.get("/registry/api/v1/residents")
    assert woken == []
    client.post("/net/v1/messages", content=b"{}")
    client.delete("/whatever")
    assert woken == ["woken", "woken"]


def test_forwarded_headers_are_believed_only_when_a_proxy_is_named(monkeypatch: Any) -> None:
    """Both the node's listeners and a standalone `juki serve` take this answer: without
    FORWARDED_ALLOW_IPS, a loopback client's X-Forwarded-For is not its address."""
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert not trusts_proxy_headers()
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.5")
    assert trusts_proxy_headers()


def _waiting(gather: Gather) -> threading.Thread:
    thread = threading.Thread(target=gather.wait, daemon=True)
    thread.start()
    return thread


def test_the_sender_goes_at_once_when_nothing_is_being_forwarded() -> None:
    gather = Gather(linger=3600)
    _waiting(gather).join(10)
    gather.stepped(True)
    gather.stepped(False)  # a change on a quiet network: one step forwarded it, the next none
    thread = _waiting(gather)
    thread.join(10)
    assert not thread.is_alive()


def test_the_sender_waits_for_a_run_being_forwarded_until_enough_steps_or_its_end() -> None:
    gather = Gather(steps=3, linger=3600)
    gather.stepped(True)
    thread = _waiting(gather)
    for _ in range(2):
        gather.stepped(True)
    thread.join(0.2)
    assert thread.is_alive()  # two more steps of the run: not yet a batch's worth
    gather.stepped(True)
    thread.join(10)
    assert not thread.is_alive()
    thread = _waiting(gather)
    gather.stepped(False)  # the run is all forwarded
    thread.join(10)
    assert not thread.is_alive()


def test_the_sender_waits_no_longer_than_its_linger() -> None:
    ticks = iter([0.0, 2.0])
    gather = Gather(steps=100, linger=1.5, monotonic=lambda: next(ticks))
    gather.stepped(True)
    gather.wait()  # returns: the clock passed the linger, with the run still being forwarded
