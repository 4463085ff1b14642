"""The simulator's CI runs: a small network (4 municipalities, 120 residents, 3 days) with life
events sped up (×300) so every path runs, and what every run must show.

Most of a run's time is the seeded population travelling up the network before day one, so a
smaller population with faster events runs the same number of events in about 60% of the time."""

from __future__ import annotations

from typing import Any

from juki.sim.runner import SimConfig, run

SMALL: dict[str, Any] = {"days": 3, "municipalities": 4, "population": 120, "scale": 300.0}


def simulate(seed: int, faults: str = "none", **overrides: float) -> dict[str, Any]:
    return run(SimConfig(seed=seed, faults=faults, overrides=tuple(overrides.items()), **SMALL))


def assert_held(result: dict[str, Any]) -> None:
    assert result["violations"] == [], result["violations"][0]["detail"]
    assert result["converged"] is True
    assert result["repairs"] == []
