"""A simulated day at every counter: life events in Japan's proportions, through the services.

Rates are Japan's yearly figures per resident (about 0.69 M births, 1.6 M deaths and 5.2 M moves
between municipalities for 124 M residents; the others are estimates named in
`docs/simulation.md`), turned into a Poisson count per municipality per day and multiplied by
`scale` (a few residents make a quiet town; tests raise the scale to see every path in a few
days). Each event is a command a counter clerk (or a supervisor, for 職権) files through
`juki.registry.services`, so the registry's own rules and outbox run; the network then does the
rest. The simulator learns only what the services return, and keeps its own account in `Truth`.
A command the registry refuses is counted, never forced.

The modules: `plan` (rates and a day's events), `desk` (the counter every event is filed at and
the workload's state), one module per kind of event (`life`, `moves`, `local`, `abroad`,
`agencies`), and `forms` (what a clerk copies or makes up to fill in a command).
"""

from juki.sim.workload.plan import Workload, poisson

__all__ = ["Workload", "poisson"]
