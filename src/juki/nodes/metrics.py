"""Prometheus metrics of one node: what it received and refused, and how its queues stand.

Counters are fed by the receiver through the `NetworkEvents` protocol; queue gauges are read
from the node's own database at scrape time, so they are right after a restart too. Each node
app has its own registry: several nodes in one process (tests) never share a counter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from juki.nodes.node import Node


class NodeMetrics:
    """Implements `juki.network.receiver.NetworkEvents` with Prometheus counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._received = Counter(
            "juki_messages_received",
            "Messages received, by type and outcome (applied, duplicate, dead_letter)",
            ["message_type", "outcome"],
            registry=self.registry,
        )
        self._refused = Counter(
            "juki_messages_refused",
            "Messages refused before they were applied, by reason",
            ["reason"],
            registry=self.registry,
        )
        self._watching: Node | None = None

    def received(self, message_type: str, outcome: str, count: int = 1) -> None:
        self._received.labels(message_type=message_type[:64], outcome=outcome).inc(count)

    def refused(self, reason: str) -> None:
        self._refused.labels(reason=reason[:64]).inc()

    def watch(self, node: Node) -> None:
        """Add the queue gauges of `node` (once; a second app on the same node reuses them)."""
        if self._watching is None:
            self.registry.register(_QueueCollector(node))
            self._watching = node
        elif self._watching is not node:
            raise ValueError("these metrics already describe another node")


class _QueueCollector(Collector):
    def __init__(self, node: Node) -> None:
        self.node = node

    def describe(self) -> list[Metric]:
        return []  # unchecked: the gauges depend on the database, read only at scrape time

    def collect(self) -> Iterator[Metric]:
        status: dict[str, Any] = self.node.status()
        queue = GaugeMetricFamily(
            "juki_outbox_pending", "Undelivered messages per peer (link)", labels=["peer"]
        )
        for peer, pending in sorted(status["queues"].items()):
            queue.add_metric([peer], float(pending))
        yield queue
        yield GaugeMetricFamily(
            "juki_outbox_pending_total", "Undelivered messages, all peers", value=status["pending"]
        )
        age = status["oldest_undelivered_age_s"]
        yield GaugeMetricFamily(
            "juki_outbox_oldest_age_seconds",
            "Age of the oldest undelivered message (0 when none)",
            value=float(age or 0.0),
        )
        yield GaugeMetricFamily(
            "juki_dead_letters", "Dead letters not yet replayed", value=status["dead_letters"]
        )
        yield GaugeMetricFamily(
            "juki_disconnected",
            "1 while this node is disconnected (離脱)",
            value=1.0 if status["disconnected"] else 0.0,
        )
        serial = status["directory_serial"]
        yield GaugeMetricFamily(
            "juki_directory_serial", "Serial of the directory in use", value=float(serial or 0)
        )
        if self.node.standby is not None:
            yield from _standby(self.node.standby.behind(self.node.engine))
            reads = CounterMetricFamily(
                "juki_standby_reads",
                "Provision requests by where their lookups were read: on the standby, or on "
                "the primary and why (unreachable, promoted, behind, failed)",
                labels=["read_on"],
            )
            for where, count in sorted(self.node.standby.reads().items()):
                reads.add_metric([where], count)
            yield reads


def _standby(behind: int | None) -> Iterator[Metric]:
    """The standby provision reads from: up (a standby of this node's database, reachable), and
    how far behind the primary it is; a standby down or behind sends reads to the primary."""
    yield GaugeMetricFamily(
        "juki_standby_up",
        "1 while the standby provision reads from is reachable and in recovery",
        value=0.0 if behind is None else 1.0,
    )
    if behind is not None:
        yield GaugeMetricFamily(
            "juki_standby_replay_lag_bytes",
            "Bytes of the primary's WAL the standby has not replayed yet",
            value=float(behind),
        )
