"""The simulator's CI runs: a small network (4 municipalities, 240 residents, 3 days) with life
events sped up so every path runs, and what every run must show."""

from __future__ import annotations

from typing import Any

from juki.sim.runner import SimConfig, run

SMALL: dict[str, Any] = {"days": 3, "municipalities": 4, "population": 240, "scale": 150.0}


def simulate(seed: int, faults: str = "none", **overrides: float) -> dict[str, Any]:
    return run(SimConfig(seed=seed, faults=faults, overrides=tuple(overrides.items()), **SMALL))


def assert_held(result: dict[str, Any]) -> None:
    assert result["violations"] == [], result["violations"][0]["detail"]
    assert result["converged"] is True
    assert result["repairs"] == []
