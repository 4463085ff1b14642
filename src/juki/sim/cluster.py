"""Every node of a simulated network in one process: clocks, disks, crashes and the scheduler.

The nodes are the real `juki.nodes` objects built by `build_network`, each with its own SQLite
file. The cluster adds what a data centre would: a clock per node (the simulated clock plus that
node's skew), a disk that can fill up, a process that can die and be started again from its
database, and a scheduler that gives one node one step at a time, chosen by the seeded random
source among the nodes that may have work. A node that had nothing to do sleeps until its
earliest retry is due, until something is delivered to it, or until the directory changes.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from juki.certificates.desk import CertificateDesk
from juki.certificates.render import CertificateRenderer
from juki.certificates.signing import SIGNER_KIND
from juki.core.clock import JST, FixedClock
from juki.core.settings import Settings
from juki.network import pki, store
from juki.network.directory import NATIONAL_ID
from juki.network.tables import net_outbox
from juki.nodes.kiosk import MunicipalKiosk
from juki.nodes.layout import NodeSpec
from juki.nodes.memory import NODE_CLASSES, InProcessNetwork, build_network
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.national import NationalNode
from juki.nodes.node import Node, NodeIdentity
from juki.registry.tables import outbox
from juki.sim.faults import (
    DiskState,
    FaultRates,
    SimCrash,
    install_disk_hooks,
    is_disk_full,
    never_wait_for_locks,
)
from juki.sim.trace import Trace
from juki.sim.transport import FaultyTransport
from juki.storage.engine import make_engine

STEP: Final = timedelta(milliseconds=2)  # simulated time one node step takes
ERROR_PAUSE: Final = timedelta(seconds=30)  # a step that failed (disk full) is retried after
ZERO: Final = timedelta(0)
# How often each node signs a checkpoint of its oplog chain for its parent (when it grew).
CHECKPOINT_EVERY: Final = timedelta(hours=6)
VERIFY_URL: Final = "https://verify.sim.invalid"  # where a page's QR would lead
# Built once: asked after every idle step of every node.
_EARLIEST_RETRY: Final = sa.select(sa.func.min(net_outbox.c.next_attempt_at)).where(
    (net_outbox.c.status == store.PENDING) & (net_outbox.c.next_attempt_at > sa.bindparam("now"))
)


@cache
def shared_renderer() -> CertificateRenderer:
    """One certificate renderer per process, made when a run first needs one: it caches the
    fonts and the mayor's seal, which cost seconds to load, and holds nothing of a run."""
    return CertificateRenderer()


class NodeClock:
    """One node's view of time: the simulated clock plus that node's current skew."""

    def __init__(self, master: FixedClock, skews: dict[str, timedelta], node_id: str) -> None:
        self.master = master
        self.skews = skews
        self.node_id = node_id

    def now(self) -> datetime:
        return self.master.now() + self.skews.get(self.node_id, ZERO)

    def today(self) -> date:
        return self.now().astimezone(JST).date()


class Cluster:
    def __init__(
        self,
        layout: tuple[NodeSpec, ...],
        directory: Path,
        clock: FixedClock,
        rng: random.Random,
        wire: FaultyTransport,
        trace: Trace,
        rates: FaultRates,
    ) -> None:
        self.directory = directory
        self.hooks = {
            "full": rates.disk_full > 0,
            "crash": rates.crash > 0,
            "mid_batch": rates.crash_mid_batch > 0,
        }
        self.master = clock
        self.rng = rng
        self.wire = wire
        self.trace = trace
        self.specs = {s.node_id: s for s in layout}
        self.order = [s.node_id for s in layout]
        self.skews: dict[str, timedelta] = {}
        self.disks = {s.node_id: DiskState() for s in layout}
        self.clocks = {s.node_id: NodeClock(clock, self.skews, s.node_id) for s in layout}
        self.network: InProcessNetwork = build_network(
            layout, self.url, clock, seed=rng.getrandbits(63)
        )
        wire.inner = self.network.transport
        wire.on_delivered = self.touch
        wire.on_crash = self._crashed_in_receive
        first = next(iter(self.network.nodes.values()))
        self.root = first.root
        # the card CA's key lives in the national node's process (a restart keeps it: its files)
        self.card_ca = self.network.national.card_ca
        self._renderer: CertificateRenderer | None = None
        self.identities: dict[str, NodeIdentity] = {
            nid: n.identity for nid, n in self.network.nodes.items()
        }
        for node in self.network.nodes.values():
            self._wire(node)
        self.down: dict[str, datetime] = {}
        self.runnable: set[str] = set(self.order)
        self.wake: dict[str, datetime] = {}
        self.crashes: list[SimCrash] = []
        self.step_errors = 0
        self.restarts = 0
        self.stepped: Counter[str] = Counter()

    # -- wiring ---------------------------------------------------------------------------------

    def url(self, node_id: str) -> str:
        return f"sqlite:///{self.directory / (node_id + '.db')}"

    def _wire(self, node: Node) -> None:
        """Give a node its own clock, its link on the faulty wire and its fallible disk."""
        node.checkpoint_interval = CHECKPOINT_EVERY
        clock = self.clocks[node.node_id]
        node.clock = clock
        node.receiver.clock = clock
        node.worker.clock = clock
        node.worker.transport = self.wire.sender(node.node_id)
        node.query_transport = self.wire.querier(node.node_id)
        node.fetch_directory = self._fetch_directory
        self._equip_kiosk(node)
        never_wait_for_locks(node.engine)
        install_disk_hooks(node.engine, node.node_id, self.disks[node.node_id], **self.hooks)

    def _equip_kiosk(self, node: Node) -> None:
        """コンビニ交付 at a municipality, as `bootstrap` equips it: its certificate server's desk,
        signing with a `certificate_issuer` key the network root certified (as `juki network
        init` issues one), and a kiosk key made in memory (a restart makes a new one)."""
        if not isinstance(node, MunicipalityNode):
            return
        if self._renderer is None:
            self._renderer = shared_renderer()
        where = self.directory / "certificates" / node.node_id
        if not where.exists():
            where.mkdir(parents=True)
            key = pki.generate_key()
            root_key, root = self.network.root_key, self.network.root_cert
            cert = pki.issue_certificate(
                root_key, root, node_id=node.node_id, kind=SIGNER_KIND,
                public_key=key.public_key(), now=self.master.now(), days=3650,
                hosts=(f"certificates.{node.node_id}.juki.invalid",), ips=(),
            )  # fmt: skip
            (where / "signing.key").write_bytes(pki.key_to_pem(key))
            (where / "signing.pem").write_bytes(pki.cert_to_pem(cert))
            (where / "root.pem").write_bytes(pki.cert_to_pem(root))
        settings = Settings(
            keys_dir=str(where / "keys"),
            print_dir=str(where / "print"),
            public_url=VERIFY_URL,
            signing_key=str(where / "signing.key"),
            signing_cert=str(where / "signing.pem"),
            root_cert=str(where / "root.pem"),
        )
        desk = CertificateDesk(node.engine, settings, clock=node.clock, renderer=self._renderer)
        node.kiosk = MunicipalKiosk(node, desk)

    def _fetch_directory(self) -> bytes:
        national = self.network.nodes.get(NATIONAL_ID)
        if not isinstance(national, NationalNode):
            raise OSError("the national node is not reachable")
        return national.directory_bytes()

    # -- who is there ---------------------------------------------------------------------------

    def up(self, node_id: str) -> bool:
        return node_id in self.network.nodes

    def node(self, node_id: str) -> Node:
        return self.network.nodes[node_id]

    def municipality(self, lg_code: str) -> MunicipalityNode | None:
        node = self.network.nodes.get(lg_code)
        return node if isinstance(node, MunicipalityNode) else None

    def national(self) -> NationalNode | None:
        node = self.network.nodes.get(NATIONAL_ID)
        return node if isinstance(node, NationalNode) else None

    def engine_for_reading(self, node_id: str) -> tuple[sa.Engine, bool]:
        """The node's engine, or a temporary one on its file while it is down (for checks)."""
        node = self.network.nodes.get(node_id)
        if node is not None:
            return node.engine, False
        return make_engine(self.url(node_id), durable=False), True

    # -- crash and restart ----------------------------------------------------------------------

    def _crashed_in_receive(self, crash: SimCrash) -> None:
        """A receiver died mid-apply: nothing more reaches it; the rest waits for the step end."""
        self.network.transport.unregister(crash.node_id)
        self.crashes.append(crash)

    def crash(self, node_id: str, down_for: timedelta, where: str) -> None:
        """Drop the node's objects and its engine's pool; its database file stays."""
        node = self.network.nodes.pop(node_id, None)
        if node is None:
            return
        self.network.transport.unregister(node_id)
        node.engine.dispose()
        self.network.engines = [e for e in self.network.engines if e is not node.engine]
        self.disks[node_id].crash_at_commit = False
        self.disks[node_id].crash_mid_batch = 0
        self.wire.crash_after_send.discard(node_id)
        self.runnable.discard(node_id)
        self.wake.pop(node_id, None)
        self.down[node_id] = self.master.now() + down_for
        self.trace.add(
            self.master.now(),
            f"{node_id} crashed ({where}); restarts in {down_for}",
            [f"node:{node_id}"],
        )

    def settle_crashes(self) -> None:
        while self.crashes:
            crash = self.crashes.pop(0)
            self.crash(crash.node_id, self.downtime(), crash.where)

    def downtime(self) -> timedelta:
        """How long a crashed node stays down: 5 s to 30 min, mostly short (a supervisor
        restarts a process at once; a host that has to be repaired takes a while)."""
        seconds = 5 + 1800 * self.rng.random() ** 2
        return timedelta(seconds=round(seconds, 3))

    def restart(self, node_id: str) -> None:
        """Start the node again from its database, as its process would after a crash."""
        if node_id in self.network.nodes:
            return
        spec = self.specs[node_id]
        engine = make_engine(self.url(node_id), durable=False)
        never_wait_for_locks(engine)
        node = NODE_CLASSES[spec.kind](
            engine=engine,
            identity=self.identities[node_id],
            root=self.root,
            transport=self.wire.sender(node_id),
            clock=self.clocks[node_id],
            rng=random.Random(self.rng.getrandbits(64)),
            fetch_directory=self._fetch_directory,
            query_transport=self.wire.querier(node_id),
        )
        if isinstance(node, NationalNode):
            node.root_key = self.network.root_key
            node.card_ca = self.card_ca
        self._equip_kiosk(node)
        node.checkpoint_interval = CHECKPOINT_EVERY
        install_disk_hooks(engine, node_id, self.disks[node_id], **self.hooks)
        self.network.nodes[node_id] = node
        self.network.engines.append(engine)
        self.network.transport.register(node_id, node.receiver.receive)
        self.network.transport.register_answer(node_id, node.answer)
        self.down.pop(node_id, None)
        self.restarts += 1
        self.trace.add(self.master.now(), f"{node_id} restarted", [f"node:{node_id}"])
        if node_id != NATIONAL_ID:
            node.refresh_directory()
        self.touch_all()

    def restart_due(self) -> None:
        now = self.master.now()
        for node_id in sorted(n for n, at in self.down.items() if at <= now):
            self.restart(node_id)

    def next_restart(self) -> datetime | None:
        return min(self.down.values(), default=None)

    # -- the scheduler --------------------------------------------------------------------------

    def touch(self, node_id: str) -> None:
        if node_id in self.network.nodes:
            self.runnable.add(node_id)
            self.wake.pop(node_id, None)

    def touch_all(self) -> None:
        for node_id in self.order:
            self.touch(node_id)

    def pick(self) -> str | None:
        now = self.master.now()
        if self.wake:
            for node_id in sorted(n for n, at in self.wake.items() if at <= now):
                self.touch(node_id)
        if not self.runnable:
            return None
        candidates = sorted(self.runnable)
        return candidates[self.rng.randrange(len(candidates))]

    def step(self, node_id: str) -> bool:
        """One step of one node. A crash in it is settled; a storage error pauses the node."""
        node = self.network.nodes[node_id]
        self.stepped[node_id] += 1
        try:
            did = node.step()
        except SimCrash as crash:
            self.crashes.append(crash)
            self.settle_crashes()
            return True
        except sa.exc.SQLAlchemyError as exc:
            if not is_disk_full(exc):
                raise
            self.step_errors += 1
            self.runnable.discard(node_id)
            self.wake[node_id] = self.master.now() + ERROR_PAUSE
            self.trace.add(
                self.master.now(),
                f"{node_id} step failed: {type(exc).__name__}: {str(exc).splitlines()[0]}",
                [f"node:{node_id}"],
            )
            return True
        finally:
            if self.crashes:
                self.settle_crashes()
        if not did:
            self.runnable.discard(node_id)
            when = self._next_due(node)
            if when is not None:
                self.wake[node_id] = when
        return did

    def _next_due(self, node: Node) -> datetime | None:
        """When this node's earliest retry falls due, on the simulated clock."""
        now = node.clock.now()
        with node.engine.connect() as conn:
            stamp = conn.execute(_EARLIEST_RETRY, {"now": now.isoformat()}).scalar_one_or_none()
        if stamp is None:
            return None
        return datetime.fromisoformat(stamp) - self.skews.get(node.node_id, ZERO)

    def next_wake(self) -> datetime | None:
        return min(self.wake.values(), default=None)

    # -- queues ---------------------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        """Per node, messages not yet acknowledged plus registry rows not yet forwarded."""
        out: dict[str, int] = {}
        for node_id in self.order:
            engine, temporary = self.engine_for_reading(node_id)
            try:
                with engine.connect() as conn:
                    n = int(
                        conn.execute(
                            sa.select(sa.func.count())
                            .select_from(net_outbox)
                            .where(net_outbox.c.status == store.PENDING)
                        ).scalar_one()
                    )
                    if self.specs[node_id].kind.value == "municipality":
                        n += int(
                            conn.execute(
                                sa.select(sa.func.count())
                                .select_from(outbox)
                                .where(outbox.c.delivered_at.is_(None))
                            ).scalar_one()
                        )
            finally:
                if temporary:
                    engine.dispose()
            if n:
                out[node_id] = n
        return out

    def dispose(self) -> None:
        for engine in self.network.engines:
            engine.dispose()
