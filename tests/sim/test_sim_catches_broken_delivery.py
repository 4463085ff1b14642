"""Break delivery on purpose; the invariants must catch it within the CI seeds (the runs stop
at the first seed that does).

Sequence numbers heal a lost message when a later one follows on the same link (the receiver
asks for the gap again), so a broken sender or receiver shows only when a link's last message
is lost — which, over a few seeds of sparse traffic, always happens somewhere.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from juki import cli
from juki.network import store
from juki.network.delivery import DeliveryWorker, StepResult
from juki.network.receiver import Receiver
from juki.network.transport import Reply, ReplyStatus
from juki.sim.runner import SimConfig, run
from support.simulation import SMALL, WITHOUT_KIOSK

CI_SEEDS = (1, 2, 3)


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


def _first_caught(faults: str, **overrides: float) -> tuple[int, list[str]]:
    """The first CI seed whose run reports a violation, and what it reported ((0, []) if none
    does): one run when the first seed catches it, as it should."""
    for seed in CI_SEEDS:
        config = SimConfig(
            seed=seed,
            faults=faults,
            overrides=tuple(overrides.items()),
            **SMALL,
            **WITHOUT_KIOSK,
        )
        found = [v["invariant"] for v in run(config)["violations"]]
        if found:
            return seed, found
    return 0, []


def test_a_receiver_that_acknowledges_before_the_inbox_commit_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Receiver, "receive", _acknowledge_before_inbox_commit)
    _, found = _first_caught("none", disk_full=12.0)
    assert found, f"no CI seed {CI_SEEDS} caught it"


def test_a_worker_that_marks_delivered_before_sending_is_caught_and_named_on_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(DeliveryWorker, "_failed", _mark_delivered_before_sending)
    code = cli.main(
        ["sim", "--seed", "1", "--days", "3", "--municipalities", "4", "--population", "120",
         "--faults", "network", "--event-scale", "300", "--kiosk-scale", "0"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    assert "VIOLATION seed 1 at 2025-" in out
    assert ": acknowledged_means_applied" in out
    assert "trail:" in out
    assert "replay with tracing: juki sim --seed 1 --days 3" in out
