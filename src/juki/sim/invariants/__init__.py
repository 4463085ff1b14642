"""What must hold whatever the faults did: checked at the end of every simulated day (the cheap
ones) and after the network has quiesced (all of them).

Each check reads the nodes' own databases and compares them with each other and with the
simulator's `Truth`; none trusts a node's own report. A failed check is a `Violation` naming the
trace keys of what it is about, so the run can print the events that led there.

The modules: `findings` (a violation, and how many of one kind are reported), `snapshot` (what
the final checks read from every node, once), `daily_checks`, and the final checks by what they
check — `people` (who lives where; codes and numbers unique), `levels` (the CS, prefecture and
national copies agree; nothing applied twice), `messages` (every message accounted for),
`addresses` (move-outs confirmed; the 附票 follows the addresses), `oplog` (every chain verifies;
every checkpoint sent is countersigned by the parent) — run in order by `final`.
"""

from juki.sim.invariants.daily_checks import daily
from juki.sim.invariants.final import FinalCheck
from juki.sim.invariants.findings import Found, Violation

__all__ = ["FinalCheck", "Found", "Violation", "daily"]
