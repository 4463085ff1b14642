"""Running one simulation: `run(SimConfig(seed=…, days=…))` returns the run's JSON-ready result.

The modules: `simulation` (the configuration and the run from start to result), `seeding` (the
network filled before day one), `loop` (the simulated clock, the timer queue and node steps),
`fault_injection` (node, link and clock faults and their ends), `report` (message totals and
where an exception came from).
"""

from juki.sim.runner.simulation import SimConfig, Simulation, run

__all__ = ["SimConfig", "Simulation", "run"]
