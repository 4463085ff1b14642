"""Deterministic simulation of the whole network, with faults (DESIGN.md principle 6).

Many municipality, prefecture and national nodes run their real code in one process on the
in-memory transport, under one simulated clock and one seeded random source; faults are injected
on the wire, in the clocks, in the processes and on the disks; invariants are checked every
simulated day and after the network has quiesced. `juki sim --seed S` replays any run exactly.
See docs/simulation.md.
"""
