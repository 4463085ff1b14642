"""The simulator's wire faults a node's synchronous questions (`FaultyTransport.query_from`): a
lost question is never answered, a lost answer was made all the same, a partition answers
nothing, and without a query rng (no workload that asks) nothing is faulted."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import pytest

from juki.core.clock import JST, FixedClock
from juki.network.transport import TransportError
from juki.sim.faults import FaultRates
from juki.sim.trace import Trace
from juki.sim.transport import FaultyTransport

QUESTION = json.dumps(
    {"message_id": "m-1", "message_type": "kiosk_request", "seq": 0, "body": {}}
).encode()


def _wire(rates: FaultRates, *, query_rng: bool = True) -> tuple[FaultyTransport, list[bytes]]:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    wire = FaultyTransport(clock, random.Random(1), rates, Trace(None))
    asked: list[bytes] = []

    def answer(payload: bytes) -> bytes:
        asked.append(payload)
        return b"answer"

    wire.inner.register_answer("132250", answer)
    wire.query_rng = random.Random(2) if query_rng else None
    return wire, asked


def test_a_lost_question_is_not_answered_and_a_lost_answer_was_made() -> None:
    wire, asked = _wire(FaultRates(drop=1.0))
    with pytest.raises(TransportError):
        wire.querier("national").query("132250", "memory://132250", QUESTION)
    assert asked == []
    wire, asked = _wire(FaultRates(drop_reply=1.0))
    with pytest.raises(TransportError):
        wire.querier("national").query("132250", "memory://132250", QUESTION)
    assert asked == [QUESTION]  # the municipality acted on it: the relay must void


def test_a_duplicate_is_asked_twice_and_a_partition_answers_nothing() -> None:
    wire, asked = _wire(FaultRates(duplicate=1.0))
    assert wire.querier("national").query("132250", "memory://132250", QUESTION) == b"answer"
    assert asked == [QUESTION, QUESTION]
    wire, asked = _wire(FaultRates(drop=0.0, partition=1.0))
    wire.partition("national", "132250", wire.clock.now() + timedelta(minutes=5))
    with pytest.raises(TransportError):
        wire.querier("national").query("132250", "memory://132250", QUESTION)
    assert asked == []


def test_without_a_query_rng_questions_are_never_faulted() -> None:
    wire, asked = _wire(FaultRates(drop=1.0), query_rng=False)
    assert wire.querier("national").query("132250", "memory://132250", QUESTION) == b"answer"
    assert asked == [QUESTION]
