"""The simulator's CI seed set: every fault class alone and in the presets, invariants held.

Each run is a small network (4 municipalities, 240 residents, 3 days) with life events sped up
so every path runs; `make soak` explores many more seeds and bigger networks.
"""

from __future__ import annotations

from typing import Any

import pytest

from juki.sim.runner import SimConfig, run

SMALL: dict[str, Any] = {"days": 3, "municipalities": 4, "population": 240, "scale": 150.0}

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
}


def simulate(seed: int, faults: str = "none", **overrides: float) -> dict[str, Any]:
    return run(SimConfig(seed=seed, faults=faults, overrides=tuple(overrides.items()), **SMALL))


def assert_held(result: dict[str, Any]) -> None:
    assert result["violations"] == [], result["violations"][0]["detail"]
    assert result["converged"] is True
    assert result["repairs"] == []


@pytest.mark.parametrize(("fault", "rate"), sorted(FAULT_CLASSES.items()))
def test_invariants_hold_under_each_fault_class_alone(fault: str, rate: float) -> None:
    result = simulate(21, "none", **{fault: rate})
    assert_held(result)
    assert result["faults_injected"].get(fault, 0) > 0
    assert result["events"] > 0


@pytest.mark.parametrize(
    ("faults", "seed"), [("none", 1), ("network", 2), ("crash", 3), ("all", 4)]
)
def test_invariants_hold_under_each_preset(faults: str, seed: int) -> None:
    result = simulate(seed, faults)
    assert_held(result)
    if faults == "none":
        assert result["dead_letters"] == 0
        assert result["duplicates_suppressed"] == 0


def test_duplicates_are_suppressed_not_applied() -> None:
    result = simulate(5, "none", duplicate=0.5, drop_reply=0.3)
    assert_held(result)
    assert result["duplicates_suppressed"] > 0
    assert result["messages_applied"] == result["messages_sent"] - result["dead_letters"]


def test_a_clock_skew_beyond_the_freshness_window_heals_once_corrected() -> None:
    result = simulate(6, "none", skew_beyond=8.0)
    assert_held(result)
    assert result["faults_injected"]["skew_beyond"] > 0
    assert result["refusals"].keys() & {"stale", "future"}  # refused while it lasted


@pytest.mark.parametrize("seed", [31, 32])
def test_invariants_hold_under_all_faults_on_more_seeds(seed: int) -> None:
    assert_held(simulate(seed, "all"))
