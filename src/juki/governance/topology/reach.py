"""Who can send to whom: packets walked through hubs, VLANs, routers and firewall rules.

An *actor* is something that sends: a host, the Internet, a vendor's line, a caller on a
dial-up router (`caller@<router>`) or a PC plugged into a free port (`laptop@<hub>`). For each
pair of actors a packet is walked through the devices: a hub or plain switch floods; a VLAN
switch keeps it in its VLAN (a trunk carries the tag); an L3 switch also routes between its
VLANs when its ACL allows the pair; a router routes when its ACL allows it; a firewall passes
it only when its rules allow it (first match wins, then its default). Hosts never forward.

With `takeover`, the named VLAN-aware switches behave as the report fears once their
management is taken over from afar (seed 000 §2.4.2, §2.4.4): a mere relay between all their
ports, ACL ignored.

The attack graph joins actor a to b when a can send to b, and b to a as well: a passage that
lets a PC reach a server lets the server's answer (a worm, a malicious mail) reach the PC
(§2.4.2: "所詮通信可能な通路がある"). Each reached host is a new place to attack from.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import networkx as nx

from juki.governance.topology.model import (
    ANY,
    ENDPOINTS,
    HOSTS,
    Action,
    Device,
    DeviceKind,
    Link,
    Topology,
)


@dataclass(frozen=True)
class Actor:
    id: str  # the label that opens a path: a device id, caller@<id> or laptop@<id>
    device: str  # where it is attached
    names: frozenset[str]  # what a rule's from/to may call it: ids and segments
    vlan: int | None = None  # the VLAN it enters (a free port of a VLAN switch)
    inside: bool = False  # starts inside the device (a dial-up caller, a plugged-in PC)

    @property
    def pseudo(self) -> bool:
        return self.inside


def actors(topology: Topology) -> list[Actor]:
    out = []
    for d in topology.devices:
        if d.kind in HOSTS or d.kind in (DeviceKind.INTERNET, DeviceKind.VENDOR_LINE):
            out.append(Actor(d.id, d.id, frozenset({d.id, *d.segments})))
        elif d.kind == DeviceKind.DIALUP_ROUTER:
            out.append(Actor(f"caller@{d.id}", d.id, frozenset({d.id, *d.segments}), inside=True))
        elif d.free_ports > 0:
            seg = d.vlan_map[d.free_port_vlan] if d.free_port_vlan is not None else d.segments[0]
            names = frozenset({d.id, seg})
            out.append(Actor(f"laptop@{d.id}", d.id, names, vlan=d.free_port_vlan, inside=True))
    return out


def allows(device: Device, src: Actor, dst: Actor) -> bool:
    """The device's rules for a packet from `src` to `dst`: first match, else the default."""
    for rule in device.rules:
        if (rule.src == ANY or rule.src in src.names) and (
            rule.dst == ANY or rule.dst in dst.names
        ):
            return rule.action == Action.ALLOW
    return device.default == Action.ALLOW


class Walker:
    """Walks packets through one topology; `takeover` names the switches taken over."""

    def __init__(self, topology: Topology, takeover: frozenset[str] = frozenset()) -> None:
        self.topology = topology
        self.takeover = takeover
        self.devices = {d.id: d for d in topology.devices}
        self.links: dict[str, list[Link]] = {d.id: [] for d in topology.devices}
        for link in topology.links:
            self.links[link.a].append(link)
            self.links[link.b].append(link)

    def _entry_vlan(self, link: Link, to: Device, carried: int | None) -> int | None:
        if not to.has_vlans:
            return None
        return carried if link.trunk else link.vlan

    def _out(
        self, device: Device, vlan: int | None, src: Actor, dst: Actor
    ) -> Iterator[tuple[Link, int | None]]:
        """The links a packet in `vlan` leaves `device` by, with the VLAN it carries."""
        kind = device.kind
        if kind in ENDPOINTS:
            return
        if kind in (DeviceKind.FIREWALL, DeviceKind.ROUTER) and not allows(device, src, dst):
            return
        if not device.has_vlans:
            for link in self.links[device.id]:
                yield link, None
            return
        free = device.id in self.takeover
        routes = free or (kind == DeviceKind.L3_SWITCH and allows(device, src, dst))
        for link in self.links[device.id]:
            if link.trunk:
                tags = device.vlan_map if routes else [vlan]
                for tag in tags:
                    yield link, tag
            elif link.vlan == vlan or routes:
                yield link, link.vlan

    def first_states(self, src: Actor) -> list[tuple[str, int | None]]:
        start = self.topology.device(src.device)
        if src.inside:
            return [(start.id, src.vlan)]
        out = []
        for link in self.links[start.id]:
            other = self.topology.device(link.b if link.a == start.id else link.a)
            out.append((other.id, self._entry_vlan(link, other, None)))
        return out

    def paths(self, src: Actor, dsts: list[Actor]) -> dict[str, tuple[str, ...]]:
        """The shortest way a packet from `src` reaches each of `dsts` (device ids), for
        destinations every rule treats alike (`dsts[0]` stands for them all)."""
        first = self.first_states(src)
        wanted = {d.device: d.id for d in dsts}
        found: dict[str, tuple[str, ...]] = {}
        parent: dict[tuple[str, int | None], tuple[str, int | None] | None] = dict.fromkeys(first)
        queue = deque(first)
        while queue and len(found) < len(wanted):
            state = queue.popleft()
            if state[0] in wanted and wanted[state[0]] not in found:
                found[wanted[state[0]]] = self._trace(src, state, parent)
            device = self.devices[state[0]]
            for link, carried in self._out(device, state[1], src, dsts[0]):
                other = self.devices[link.b if link.a == device.id else link.a]
                if other.kind in ENDPOINTS and other.id not in wanted:
                    continue  # an endpoint forwards nothing: only a wanted one is worth a visit
                nxt = (other.id, self._entry_vlan(link, other, carried))
                if nxt not in parent:
                    parent[nxt] = state
                    queue.append(nxt)
        return found

    def path(self, src: Actor, dst: Actor) -> tuple[str, ...] | None:
        """The shortest way a packet from `src` reaches `dst` (device ids), or None."""
        return self.paths(src, [dst]).get(dst.id)

    def _trace(
        self,
        src: Actor,
        state: tuple[str, int | None],
        parent: dict[tuple[str, int | None], tuple[str, int | None] | None],
    ) -> tuple[str, ...]:
        nodes: list[str] = []
        at: tuple[str, int | None] | None = state
        while at is not None:
            if not nodes or nodes[-1] != at[0]:
                nodes.append(at[0])
            at = parent[at]
        nodes.append(src.id)
        return tuple(reversed(nodes))


def _classes(items: list[Actor], key: Callable[[Actor], object]) -> list[list[Actor]]:
    groups: dict[object, list[Actor]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.values())


def actor_classes(topology: Topology, walker: Walker, members: list[Actor]) -> list[list[Actor]]:
    """Actors that are cabled alike, named alike by every rule, of one kind and in the same
    segments: what one of them can send and receive, each can. A source stays on its own."""
    rules = [r for d in topology.devices for r in d.rules]
    terms = frozenset(r.src for r in rules) | frozenset(r.dst for r in rules)

    def key(a: Actor) -> object:
        device = topology.device(a.device)
        if a.pseudo or device.kind not in HOSTS:
            return a.id
        states = tuple(sorted(walker.first_states(a), key=str))
        return (states, a.names & terms, device.kind, device.segments)

    return _classes(members, key)


def attack_graph(topology: Topology, takeover: frozenset[str] = frozenset()) -> nx.DiGraph:
    """Actors joined by every passage, both ways; each edge carries its `path` of devices and
    `reply` when it is the answering direction of a passage opened the other way.

    Actors of one class (`actor_classes`: two terminals on one switch in one segment) are one
    node, named by the first of them (`members` lists them all): a passage from one is a
    passage from each, so walking each would add nothing but time.
    """
    walker = Walker(topology, takeover)
    dst_terms = frozenset(r.dst for d in topology.devices for r in d.rules) - {ANY}
    graph: nx.DiGraph = nx.DiGraph()
    reps = []
    for group in actor_classes(topology, walker, actors(topology)):
        graph.add_node(group[0].id, actor=group[0], members=tuple(a.id for a in group))
        reps.append(group[0])
    targets = [
        a for a in reps if not a.pseudo and topology.device(a.device).kind != DeviceKind.VENDOR_LINE
    ]
    dst_classes = _classes(targets, lambda a: a.names & dst_terms)
    for src in reps:
        for dsts in dst_classes:
            for dst_id, path in walker.paths(src, dsts).items():
                if dst_id != src.id:
                    _add_passage(graph, src.id, dst_id, path)
    return graph


def _add_passage(graph: nx.DiGraph, src: str, dst: str, path: tuple[str, ...]) -> None:
    graph.add_edge(src, dst, path=path, reply=False)
    if not graph.has_edge(dst, src) or graph.edges[dst, src]["reply"]:
        graph.add_edge(dst, src, path=tuple(reversed(path)), reply=True)
