"""Break delivery on purpose; the invariants must catch it within the CI seed set.

Sequence numbers heal a lost message when a later one follows on the same link (the receiver
asks for the gap again), so a broken sender or receiver shows only when a link's last message
is lost — which, over a few seeds of sparse traffic, always happens somewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from juki import cli
from juki.network import store
from juki.network.delivery import DeliveryWorker, StepResult
from juki.network.receiver import Receiver
from juki.network.transport import Reply, ReplyStatus
from juki.sim.runner import SimConfig, run

CI_SEEDS = (1, 2, 3)
SMALL: dict[str, Any] = {"days": 3, "municipalities": 4, "population": 240, "scale": 150.0}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _mark_delivered_before_sending(
    self: DeliveryWorker, msg: store.Outgoing, reason: str, detail: str
) -> StepResult:
    """The worker recorded the message as delivered before it sent it: a failed send is lost."""
    with self.engine.begin() as conn:
        store.mark_delivered(conn, msg.outbox_id, "applied", self.clock.now())
    return StepResult(msg.message_id, msg.peer, msg.seq, "error")


_receive = Receiver.receive


def _acknowledge_before_inbox_commit(self: Receiver, raw: bytes) -> Reply:
    """The receiver said "applied" before its inbox commit, which then failed."""
    reply = _receive(self, raw)
    if reply.status is ReplyStatus.UNAVAILABLE and reply.reason == "storage":
        return Reply(ReplyStatus.APPLIED)
    return reply


def _violations(faults: str, **overrides: float) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for seed in CI_SEEDS:
        config = SimConfig(seed=seed, faults=faults, overrides=tuple(overrides.items()), **SMALL)
        result = run(config)
        found[seed] = [v["invariant"] for v in result["violations"]]
    return found


def test_a_worker_that_marks_delivered_before_sending_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(DeliveryWorker, "_failed", _mark_delivered_before_sending)
    found = _violations("network")
    assert all(found.values()), found
    assert "acknowledged_means_applied" in {v for vs in found.values() for v in vs}


def test_a_receiver_that_acknowledges_before_the_inbox_commit_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Receiver, "receive", _acknowledge_before_inbox_commit)
    found = _violations("none", disk_full=12.0)
    assert all(found.values()), found


def test_the_command_line_exits_1_and_names_seed_time_invariant_and_trail(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(DeliveryWorker, "_failed", _mark_delivered_before_sending)
    code = cli.main(
        ["sim", "--seed", "1", "--days", "3", "--municipalities", "4", "--population", "240",
         "--faults", "network", "--event-scale", "150"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    assert "VIOLATION seed 1 at 2025-" in out
    assert "trail:" in out
    assert "replay with tracing: juki sim --seed 1 --days 3" in out
