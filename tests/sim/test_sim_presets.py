"""The simulator's CI seed set: the `all` preset (every fault class at once), and properties
that need a particular mix (duplicates suppressed, a clock skew healed).

Each class alone, the other presets and more seeds are in the slow set (`make test-slow`,
`test_sim_faults.py`); `make soak` explores many more seeds and bigger networks.
"""

from __future__ import annotations

from dataclasses import fields

import pytest

from juki.sim.faults import PRESETS, FaultRates
from support.simulation import assert_held, simulate


def test_invariants_hold_with_every_fault_class_at_once() -> None:
    result = simulate(1, "all", kiosk=True, skew_beyond=2.0)  # 0.3 a day may miss three days
    assert_held(result)
    kiosk = result["kiosk"]  # コンビニ交付 ran under the faults, and its invariants held
    assert kiosk["printed"] > 0 and kiosk["relay_retained_bytes"] == 0
    injected = result["faults_injected"]
    classes = [f.name for f in fields(FaultRates) if getattr(PRESETS["all"], f.name) > 0]
    assert classes == [f.name for f in fields(FaultRates)]  # `all` leaves no class out
    assert {c: injected.get(c, 0) for c in classes if not injected.get(c)} == {}


@pytest.mark.slow  # the `all` preset above covers these classes together
@pytest.mark.parametrize(("faults", "seed"), [("none", 1), ("network", 2), ("crash", 3)])
def test_invariants_hold_under_each_preset(faults: str, seed: int) -> None:
    result = simulate(seed, faults)
    assert_held(result)
    if faults == "none":
        assert result["dead_letters"] == 0
        assert result["duplicates_suppressed"] == 0


def test_duplicates_are_suppressed_and_a_clock_skew_heals_once_corrected() -> None:
    """Two properties that need a heavy mix of their own, in one run: duplicates are suppressed,
    not applied; a clock skewed beyond the freshness window is refused while it lasts (stale or
    future) and everything still arrives once it is corrected."""
    result = simulate(6, "none", duplicate=0.5, drop_reply=0.3, skew_beyond=8.0)
    assert_held(result)
    assert result["duplicates_suppressed"] > 0
    assert result["messages_applied"] == result["messages_sent"] - result["dead_letters"]
    assert result["faults_injected"]["skew_beyond"] > 0
    assert result["refusals"].keys() & {"stale", "future"}  # refused while it lasted


@pytest.mark.slow  # more seeds of the same mix; `make soak` explores far more
@pytest.mark.parametrize("seed", [31, 32])
def test_invariants_hold_under_all_faults_on_more_seeds(seed: int) -> None:
    assert_held(simulate(seed, "all"))
