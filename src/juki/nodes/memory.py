"""A whole network in one process on the in-memory transport: for tests and the simulator.

Each node still has its own database, key and certificate; only the wire is replaced.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from cryptography import x509

from juki.cards.ca import CardAuthority
from juki.core.clock import Clock
from juki.network import pki
from juki.network.directory import Directory, DirectoryEntry, NodeKind, NodeStatus
from juki.network.receiver import NetworkEvents
from juki.network.transport import MemoryTransport, Transport
from juki.nodes.check import Disagreement, compare, fuhyo_disagreements
from juki.nodes.digest import Digest
from juki.nodes.fuhyo_link import fuhyo_digests
from juki.nodes.layout import NodeSpec
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.national import NationalNode
from juki.nodes.node import Node, NodeIdentity
from juki.nodes.prefecture import PrefectureNode
from juki.registry.model import Municipality
from juki.registry.store.municipality import save_municipality
from juki.storage.engine import make_engine
from juki.storage.migrate import create_migrated

NODE_CLASSES: dict[NodeKind, type[Node]] = {
    NodeKind.MUNICIPALITY: MunicipalityNode,
    NodeKind.PREFECTURE: PrefectureNode,
    NodeKind.NATIONAL: NationalNode,
}


@dataclass
class InProcessNetwork:
    nodes: dict[str, Node]
    transport: MemoryTransport
    root_key: pki.PrivateKey
    root_cert: x509.Certificate
    engines: list[sa.Engine] = field(default_factory=list)

    @property
    def national(self) -> NationalNode:
        node = self.nodes["national"]
        assert isinstance(node, NationalNode)
        return node

    def municipality(self, lg_code: str) -> MunicipalityNode:
        node = self.nodes[lg_code]
        assert isinstance(node, MunicipalityNode)
        return node

    def municipalities(self) -> list[MunicipalityNode]:
        return [n for n in self.nodes.values() if isinstance(n, MunicipalityNode)]

    def prefectures(self) -> list[PrefectureNode]:
        return [n for n in self.nodes.values() if isinstance(n, PrefectureNode)]

    def step_all(self) -> int:
        """One step of every node, in a fixed order; how many did something."""
        return sum(1 for node in self.nodes.values() if node.step())

    def run_until_quiet(self, max_rounds: int = 100_000) -> int:
        rounds = 0
        while rounds < max_rounds and self.step_all():
            rounds += 1
        return rounds

    def pending(self) -> int:
        return sum(int(n.status()["pending"]) for n in self.nodes.values())

    def check(self) -> list[Disagreement]:
        """identity_info's digests at every level, then the 附票本人確認情報's (附票連携)."""
        found = self._compare(lambda node: node.digests())
        return found + fuhyo_disagreements(self._compare(fuhyo_digests))

    def _compare(self, digests_of: Callable[[Node], list[Digest]]) -> list[Disagreement]:
        municipal = {m.node_id: digests_of(m)[0] for m in self.municipalities()}
        pref_digests = {
            p.node_id: {d.lg_code: d for d in digests_of(p)} for p in self.prefectures()
        }
        directory = self.national.directory()
        prefectural = {
            lg: (pid, pref_digests.get(pid, {}))
            for lg in municipal
            for pid in [directory.require(lg).parent or ""]
        }
        national = {d.lg_code: d for d in digests_of(self.national)}
        return compare(municipal, prefectural, ("national", national))

    def repair(self, disagreements: Iterable[Disagreement]) -> int:
        """Have each municipality that disagrees somewhere send its whole set up again."""
        lg_codes = sorted({d.lg_code for d in disagreements})
        for lg in lg_codes:
            self.municipality(lg).send_snapshot(
                str(uuid.UUID(int=self.national.rng.getrandbits(128)))
            )
        return len(lg_codes)

    def disconnect(self, node_id: str) -> None:
        """離脱: the node stops sending and receiving; the directory marks it disconnected."""
        self.nodes[node_id].set_disconnected(True)
        self.national.set_node_status(node_id, NodeStatus.DISCONNECTED)
        self.refresh_directories()

    def reconnect(self, node_id: str) -> None:
        self.national.set_node_status(node_id, NodeStatus.ACTIVE)
        self.nodes[node_id].set_disconnected(False)
        self.refresh_directories()

    def refresh_directories(self) -> None:
        for node in self.nodes.values():
            if node is not self.national:
                node.refresh_directory()

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()


def build_network(
    layout: Sequence[NodeSpec],
    db_url: Callable[[str], str],
    clock: Clock,
    seed: int,
    *,
    transport: Transport | None = None,
    events: Callable[[str], NetworkEvents] | None = None,
) -> InProcessNetwork:
    """Create the root, every node's key, certificate and database, and the signed directory.

    An in-process network is for tests and the simulator: its databases are thrown away
    afterwards, so they skip the fsync of every commit (`make_engine(durable=False)`)."""
    rng = random.Random(seed)
    memory = MemoryTransport()
    wire: Transport = transport or memory
    root_key, root_cert = pki.create_root(clock.now())
    nodes: dict[str, Node] = {}
    entries: list[DirectoryEntry] = []
    engines: list[sa.Engine] = []
    national: NationalNode | None = None
    for spec in layout:
        key, cert = pki.issue_key_pair(
            root_key, root_cert, node_id=spec.node_id, kind=spec.kind.value, now=clock.now()
        )
        url = db_url(spec.node_id)
        create_migrated(url)
        engine = make_engine(url, durable=False)
        engines.append(engine)
        if spec.kind is NodeKind.MUNICIPALITY:
            with engine.begin() as conn:
                save_municipality(
                    conn, Municipality(spec.node_id, spec.prefecture, spec.municipality)
                )
        node = _start_node(
            NodeIdentity(spec.node_id, spec.kind, key, cert),
            engine,
            root_cert,
            wire,
            memory,
            clock,
            random.Random(rng.getrandbits(64)),
            lambda: _national(nodes).directory_bytes(),
            events(spec.node_id) if events else None,
        )
        if isinstance(node, NationalNode):
            node.root_key = root_key
            node.card_ca = CardAuthority.create(clock.now())
            national = node
        nodes[spec.node_id] = node
        memory.register(spec.node_id, node.receiver.receive)
        memory.register_answer(spec.node_id, node.answer)
        entries.append(
            DirectoryEntry(
                node_id=spec.node_id,
                kind=spec.kind,
                name=spec.name,
                parent=spec.parent,
                endpoint=f"memory://{spec.node_id}",
                certificate_pem=pki.cert_to_pem(cert).decode(),
                status=NodeStatus.ACTIVE,
            )
        )
    if national is None:
        raise ValueError("a network needs a national node")
    national.publish(Directory(serial=1, issued_at=clock.now().isoformat(), entries=tuple(entries)))
    network = InProcessNetwork(nodes, memory, root_key, root_cert, engines)
    network.refresh_directories()
    return network


def reopen_network(
    network: InProcessNetwork, db_url: Callable[[str], str], clock: Clock, seed: int
) -> InProcessNetwork:
    """The same network (root, keys, certificates) started again on the databases at `db_url`,
    as every node's process would start after a restart: for tests that build a network once
    and run each test on copies of its databases. Nothing may be in flight in `network`."""
    rng = random.Random(seed)
    memory = MemoryTransport()
    nodes: dict[str, Node] = {}
    engines: list[sa.Engine] = []
    for node_id, old in network.nodes.items():
        engine = make_engine(db_url(node_id), durable=False)
        engines.append(engine)
        node = _start_node(
            old.identity,
            engine,
            network.root_cert,
            memory,
            memory,
            clock,
            random.Random(rng.getrandbits(64)),
            lambda: _national(nodes).directory_bytes(),
            None,
        )
        if isinstance(node, NationalNode):
            node.root_key = network.root_key
            node.card_ca = network.national.card_ca
        nodes[node_id] = node
        memory.register(node_id, node.receiver.receive)
        memory.register_answer(node_id, node.answer)
    reopened = InProcessNetwork(nodes, memory, network.root_key, network.root_cert, engines)
    reopened.refresh_directories()
    return reopened


def _start_node(
    identity: NodeIdentity,
    engine: sa.Engine,
    root: x509.Certificate,
    wire: Transport,
    memory: MemoryTransport,
    clock: Clock,
    rng: random.Random,
    fetch_directory: Callable[[], bytes],
    events: NetworkEvents | None,
) -> Node:
    return NODE_CLASSES[identity.kind](
        engine=engine,
        identity=identity,
        root=root,
        transport=wire,
        clock=clock,
        rng=rng,
        fetch_directory=fetch_directory,
        events=events,
        query_transport=memory,
    )


def _national(nodes: dict[str, Node]) -> NationalNode:
    node = nodes["national"]
    assert isinstance(node, NationalNode)
    return node
