"""What the run's report needs beyond the run's own counters: the message totals, read from
every node's tables, and where an unexpected exception came from.

The totals are read from the nodes' databases rather than counted by the simulator, so they say
what the nodes recorded; an exception is reduced to the innermost juki frames it passed
through, one line that says where the code under test failed.
"""

from __future__ import annotations

import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from juki.network.tables import net_dead_letters, net_inbox, net_outbox
from juki.sim.cluster import Cluster


def message_counts(cluster: Cluster) -> dict[str, Any]:
    sent = applied = dead = 0
    reasons: Counter[str] = Counter()
    for node_id in cluster.order:
        engine, temporary = cluster.engine_for_reading(node_id)
        try:
            with engine.connect() as conn:
                sent += int(
                    conn.execute(sa.select(sa.func.count()).select_from(net_outbox)).scalar_one()
                )
                applied += int(
                    conn.execute(
                        sa.select(sa.func.count())
                        .select_from(net_inbox)
                        .where(net_inbox.c.outcome == "applied")
                    ).scalar_one()
                )
                for reason, n in conn.execute(
                    sa.select(net_dead_letters.c.reason, sa.func.count()).group_by(
                        net_dead_letters.c.reason
                    )
                ).all():
                    reasons[str(reason)] += int(n)
                    dead += int(n)
        finally:
            if temporary:
                engine.dispose()
    return {
        "sent": sent,
        "applied": applied,
        "dead_letters": dead,
        "dead_letter_reasons": dict(sorted(reasons.items())),
    }


def where(exc: BaseException) -> str:
    """The exception and the innermost juki frames it passed through (file:line in function)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{Path('juki')}" in f.filename] or frames
    path = " ← ".join(
        f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} {f.name}"
        for f in reversed(ours[-4:])
    )
    return f"{type(exc).__name__}: {exc} at {path}"
