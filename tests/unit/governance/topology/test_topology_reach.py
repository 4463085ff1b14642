"""Packets walked through hubs, VLANs, trunks, L3 switches and firewalls."""

from __future__ import annotations

from juki.governance.topology.loader import topology_from_text
from juki.governance.topology.model import Topology
from juki.governance.topology.reach import Walker, actors, attack_graph

TWO_SWITCHES = """
segments:
  - {id: core, kind: core}
  - {id: info, kind: info}
devices:
  - {id: sw-a, kind: switch, vlans: {10: core, 20: info}}
  - {id: sw-b, kind: switch, vlans: {10: core, 20: info}}
  - {id: pc-info, kind: terminal, segment: info}
  - {id: pc-core, kind: terminal, segment: core}
  - {id: registry, kind: server, segment: core}
  - {id: intranet, kind: server, segment: info}
links:
  - {a: sw-a, b: sw-b, trunk: true}
  - {a: sw-a, b: pc-info, vlan: 20}
  - {a: sw-a, b: pc-core, vlan: 10}
  - {a: sw-b, b: registry, vlan: 10}
  - {a: sw-b, b: intranet, vlan: 20}
"""


def _walk(
    topology: Topology, src: str, dst: str, takeover: frozenset[str] = frozenset()
) -> tuple[str, ...] | None:
    by_id = {a.id: a for a in actors(topology)}
    return Walker(topology, takeover).path(by_id[src], by_id[dst])


def test_a_trunk_carries_each_vlan_to_its_own_vlan_and_no_other() -> None:
    topology = topology_from_text(TWO_SWITCHES)
    assert _walk(topology, "pc-core", "registry") == ("pc-core", "sw-a", "sw-b", "registry")
    assert _walk(topology, "pc-info", "intranet") == ("pc-info", "sw-a", "sw-b", "intranet")
    assert _walk(topology, "pc-info", "registry") is None
    assert _walk(topology, "pc-core", "intranet") is None


def test_a_switch_taken_over_relays_between_its_vlans() -> None:
    topology = topology_from_text(TWO_SWITCHES)
    assert _walk(topology, "pc-info", "registry", frozenset({"sw-a"})) == (
        "pc-info",
        "sw-a",
        "sw-b",
        "registry",
    )


def test_an_l3_switch_routes_only_what_its_acl_allows() -> None:
    text = TWO_SWITCHES.replace(
        "{id: sw-a, kind: switch, vlans: {10: core, 20: info}}",
        "{id: sw-a, kind: l3_switch, vlans: {10: core, 20: info}, "
        "acl: [{from: pc-info, to: pc-core, action: allow}], default: deny}",
    )
    topology = topology_from_text(text)
    assert _walk(topology, "pc-info", "pc-core") == ("pc-info", "sw-a", "pc-core")
    assert _walk(topology, "pc-info", "registry") is None


def test_a_hub_floods_and_a_host_forwards_nothing() -> None:
    text = """
segments: [{id: core, kind: core}, {id: info, kind: info}]
devices:
  - {id: hub, kind: hub}
  - {id: a, kind: terminal, segments: [core, info]}
  - {id: b, kind: terminal, segment: core}
  - {id: c, kind: terminal, segment: info}
links: [[hub, a], [hub, b], [a, c]]
"""
    topology = topology_from_text(text)
    assert _walk(topology, "b", "a") == ("b", "hub", "a")
    assert _walk(topology, "b", "c") is None  # a multi-homed host is no router


def test_terminals_cabled_and_named_alike_are_one_node_of_the_attack_graph() -> None:
    text = TWO_SWITCHES.replace(
        "  - {id: registry, kind: server, segment: core}",
        "  - {id: registry, kind: server, segment: core}\n"
        "  - {id: pc-core2, kind: terminal, segment: core}",
    ).replace(
        "  - {a: sw-b, b: registry, vlan: 10}",
        "  - {a: sw-b, b: registry, vlan: 10}\n  - {a: sw-a, b: pc-core2, vlan: 10}",
    )
    graph = attack_graph(topology_from_text(text))
    assert graph.nodes["pc-core"]["members"] == ("pc-core", "pc-core2")
    assert "pc-core2" not in graph
    assert graph.edges["pc-core", "registry"]["path"] == ("pc-core", "sw-a", "sw-b", "registry")
