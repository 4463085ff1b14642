"""The checks after quiescence, in the order they report: `FinalCheck` reads every node once and
runs each final check over that one snapshot.

The order is part of the output (violations are listed as found, the first few of each kind),
so it is fixed here rather than left to whoever adds a check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from juki.sim.cluster import Cluster
from juki.sim.invariants.addresses import card_withdrawals, fuhyo, move_outs
from juki.sim.invariants.findings import Found, Violation
from juki.sim.invariants.fuhyo_link import fuhyo_link_agrees
from juki.sim.invariants.levels import applied_once, levels_agree
from juki.sim.invariants.messages import forgeries_refused, messages_accounted
from juki.sim.invariants.oplog import checkpoints_countersigned, oplog_chains
from juki.sim.invariants.people import codes_and_numbers, codes_never_reissued, residency
from juki.sim.invariants.snapshot import Snapshot
from juki.sim.population import Truth

CHECKS: Final[tuple[Callable[[Snapshot, Found], None], ...]] = (
    residency,
    codes_and_numbers,
    codes_never_reissued,
    levels_agree,
    applied_once,
    messages_accounted,
    forgeries_refused,
    move_outs,
    card_withdrawals,
    fuhyo,
    fuhyo_link_agrees,
    oplog_chains,
    checkpoints_countersigned,
)


class FinalCheck:
    """The checks after quiescence, over data read once from every node."""

    def __init__(self, cluster: Cluster, truth: Truth, *, faults: bool) -> None:
        self.snapshot = Snapshot.take(cluster, truth, faults=faults)
        self.found = Found()

    def run(self) -> list[Violation]:
        for check in CHECKS:
            check(self.snapshot, self.found)
        return self.found.summary()
