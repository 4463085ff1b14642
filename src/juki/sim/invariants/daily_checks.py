"""The cheap checks, at the end of every simulated day, while faults are still on.

They count rows rather than compare them, so a run stops on the day a duplicate application or
a double residence first appears, with the trail of that day, instead of only at the end.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from juki.network.directory import NATIONAL_ID, NodeKind
from juki.network.messages import IDENTITY_INFO_CHANGED, RESIDENT_CODE_CHANGED
from juki.network.tables import net_dead_letters
from juki.nodes.tables import identity_changes
from juki.registry.tables import outbox, resident_records
from juki.sim.cluster import Cluster
from juki.sim.invariants.findings import Found, Violation
from juki.sim.invariants.snapshot import directory_of


def _count_by_lg(engine: sa.Engine, table: sa.Table) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            str(lg): int(n)
            for lg, n in conn.execute(
                sa.select(table.c.lg_code, sa.func.count()).group_by(table.c.lg_code)
            ).all()
        }


def daily(cluster: Cluster, *, faults: bool) -> list[Violation]:
    """Nothing applied twice so far, nobody resident twice, no dead letters without faults."""
    found = Found()
    directory = directory_of(cluster)
    active: dict[str, list[str]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = {}
    pumped: dict[str, int] = {}
    for node_id in cluster.order:
        engine, temporary = cluster.engine_for_reading(node_id)
        try:
            counts[node_id] = _count_by_lg(engine, identity_changes)
            with engine.connect() as conn:
                dead = conn.execute(
                    sa.select(net_dead_letters.c.message_type, net_dead_letters.c.reason)
                ).all()
                if cluster.specs[node_id].kind is NodeKind.MUNICIPALITY:
                    for code in conn.execute(
                        sa.select(resident_records.c.resident_code).where(
                            resident_records.c.status == "active"
                        )
                    ).scalars():
                        active[code].append(node_id)
                    pumped[node_id] = int(
                        conn.execute(
                            sa.select(sa.func.count())
                            .select_from(outbox)
                            .where(
                                outbox.c.message_type.in_(
                                    (IDENTITY_INFO_CHANGED, RESIDENT_CODE_CHANGED)
                                )
                                & outbox.c.delivered_at.is_not(None)
                            )
                        ).scalar_one()
                    )
        finally:
            if temporary:
                engine.dispose()
        if dead and not faults:
            found.add(
                "no_dead_letters_without_faults",
                f"{node_id} has dead letters: {sorted({f'{t}/{r}' for t, r in dead})}",
                f"node:{node_id}",
            )
    for code, where in sorted(active.items()):
        if len(where) > 1:
            found.add(
                "resident_of_one_municipality",
                f"{code} is an active resident of {sorted(where)}",
                f"person:{code}",
            )
    for lg, n_pumped in sorted(pumped.items()):
        cs = counts[lg].get(lg, 0)
        if cs != n_pumped:
            found.add(
                "applied_once",
                f"{lg}: the CS applied {cs} identity changes for {n_pumped} forwarded",
                f"node:{lg}",
            )
        parent = directory.require(lg).parent or ""
        pref = counts.get(parent, {}).get(lg, 0)
        nat = counts.get(NATIONAL_ID, {}).get(lg, 0)
        if not nat <= pref <= cs:
            found.add(
                "applied_once",
                f"{lg}: identity changes CS {cs}, prefecture {parent} {pref}, national {nat}: "
                "a level holds more changes than the level below sent",
                f"link:{lg}>{parent}",
                f"link:{parent}>{NATIONAL_ID}",
                f"node:{lg}",
                f"node:{parent}",
            )
    return found.summary()
