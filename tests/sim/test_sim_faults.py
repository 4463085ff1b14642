"""The simulator's slow set: every fault class alone, invariants held (`make test-slow`).

CI's smaller set runs every class at once (`test_sim_presets.py`); a class that breaks an
invariant only alone shows here, in `make test-slow` and in `make soak`.

Each run is a small network (4 municipalities, 240 residents, 3 days) with life events sped up
so every path runs; `make soak` explores many more seeds and bigger networks.
"""

from __future__ import annotations

import pytest

from support.simulation import assert_held, simulate

# Each class alone, at a rate that makes it happen many times in three days.
FAULT_CLASSES = {
    "drop": 0.3,
    "drop_reply": 0.3,
    "duplicate": 0.3,
    "reorder": 0.3,
    "delay": 0.3,
    "partition": 25.0,
    "disconnect": 5.0,
    "skew": 10.0,
    "skew_beyond": 5.0,
    "crash": 40.0,
    "disk_full": 8.0,
    "forge": 8.0,
    "crash_mid_batch": 40.0,
}


@pytest.mark.slow
@pytest.mark.parametrize(("fault", "rate"), sorted(FAULT_CLASSES.items()))
def test_invariants_hold_under_each_fault_class_alone(fault: str, rate: float) -> None:
    result = simulate(21, "none", **{fault: rate})
    assert_held(result)
    assert result["faults_injected"].get(fault, 0) > 0
    assert result["events"] > 0


@pytest.mark.slow  # CI's `all` run forges too, and its final check `forgeries_refused` holds
def test_forged_messages_are_refused_and_applied_nowhere() -> None:
    """A municipality sending, validly signed, what it may not: each refused and dead-lettered
    (the final check `forgeries_refused`), the rest of the network untouched."""
    result = simulate(22, "none", forge=12.0)
    assert_held(result)
    assert result["faults_injected"]["forge"] >= 10
