"""An idle node is woken by work another process commits to its database, not by a poll.

The municipality's stepper is told to wait an hour when idle; `juki seed`, run as a separate
process on the municipality's database, files new residents; their identity_info must still
reach the prefecture: on PostgreSQL through LISTEN/NOTIFY, on SQLite through the watch on
`data_version` (`juki.storage.watch`). The test waits for that state with a generous limit; it
does not time anything.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from juki.core.clock import SystemClock
from juki.nodes import tables as node_tables
from juki.nodes.layout import municipality, national, prefecture
from juki.nodes.memory import build_network
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.runner import Stepper
from juki.registry.tables import resident_records
from juki.storage.watch import DatabaseWatch

INAGI = "132250"
AN_HOUR = 3600.0
LIMIT = 120.0  # seconds: generous on a loaded machine; the idle wait alone would be an hour


class Watched:
    """The real node, stepped by the real stepper; tells the test when a step found nothing."""

    def __init__(self, node: MunicipalityNode) -> None:
        self.node = node
        self.node_id = node.node_id
        self.clock = node.clock
        self.steps = 0
        self.idle = threading.Event()

    def refresh_directory(self) -> bool:
        return self.node.refresh_directory()

    def next_due(self) -> object:
        return self.node.next_due()

    def step(self) -> bool:
        self.steps += 1
        busy = self.node.step()
        if not busy:
            self.idle.set()
        return busy


def _count(engine: sa.Engine, query: sa.Select[tuple[int]]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_a_change_filed_by_another_process_wakes_an_idle_node(
    node_db_url: Callable[[str], str],
) -> None:
    tokyo = prefecture("130001", "東京都")
    layout = (national(), tokyo, municipality(INAGI, tokyo, "稲城市"))
    net = build_network(layout, node_db_url, SystemClock(), seed=5)
    try:
        inagi = net.municipality(INAGI)
        net.national.allot(INAGI, 200)
        net.run_until_quiet()
        node = Watched(inagi)
        stepper = Stepper(node, idle_wait=AN_HOUR, max_idle_wait=AN_HOUR, refresh_every=AN_HOUR)  # type: ignore[arg-type]
        watch = DatabaseWatch(inagi.engine, stepper.wake)
        watch.start()
        assert watch.ready.wait(LIMIT)
        stepper.start()
        try:
            assert node.idle.wait(LIMIT)  # nothing to do: from now on it would wait an hour
            url = inagi.engine.url.render_as_string(hide_password=False)
            seed = ["seed", "--db", url, "--municipality", INAGI, "--residents", "3"]
            subprocess.run([sys.executable, "-m", "juki", *seed], check=True, capture_output=True)
            people = _count(inagi.engine, sa.select(sa.func.count()).select_from(resident_records))
            assert people > 0
            copies = node_tables.identity_copies
            at_prefecture = (
                sa.select(sa.func.count()).select_from(copies).where(copies.c.lg_code == INAGI)
            )
            deadline = time.monotonic() + LIMIT
            while _count(net.nodes["130001"].engine, at_prefecture) < people:
                assert time.monotonic() < deadline, "the idle node was not woken"
                time.sleep(0.05)
        finally:
            stepper.join(timeout=LIMIT)
            watch.join(timeout=LIMIT)
        assert not stepper.thread.is_alive() and not watch.thread.is_alive()
    finally:
        net.dispose()
