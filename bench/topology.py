"""What the topology audit costs on a large municipality's network, next to one plain walk of it.

A network in the shape of the safe layout (seed 000 §2.4.1) is generated as YAML with N
terminals spread over intranet and core switches of 40 ports each, a free-port hub on the core
(so that there is a finding to trace), and firewall rules that name a few servers one by one.
Two variants: `alike`, where the rules name segments and a few servers (terminals fall into a
few classes and are walked once per class), and `named`, where a rule names every tenth
terminal (many classes: closer to the worst case). For each: the YAML load and validation, the
audit, the SVG diagram, and the raw limit measured in the same run — one breadth-first walk
of the cabling graph with networkx, the least any reachability analysis must do.
"""

from __future__ import annotations

import networkx as nx

from bench.common import table, timed
from juki.governance.topology.audit import audit
from juki.governance.topology.diagram import render_svg
from juki.governance.topology.loader import topology_from_text

PORTS = 40


def _switches(segment: str, count: int, uplink: str) -> tuple[list[str], list[str], list[str]]:
    devices, links, names = [], [], []
    for s in range(count // PORTS + 1):
        sw = f"sw-{segment}-{s}"
        devices.append(f"  - {{id: {sw}, kind: switch, segment: {segment}}}")
        links.append(f"  - [{uplink}, {sw}]")
        for t in range(s * PORTS, min(count, (s + 1) * PORTS)):
            pc = f"pc-{segment}-{t}"
            names.append(pc)
            devices.append(f"  - {{id: {pc}, kind: terminal, segment: {segment}}}")
            links.append(f"  - [{sw}, {pc}]")
    return devices, links, names


def network_yaml(terminals: int, named: bool) -> str:
    """A municipality of `terminals` terminals, half intranet, half core."""
    info_devices, info_links, info_pcs = _switches("info", terminals // 2, "fw-edge")
    core_devices, core_links, core_pcs = _switches(
        "core", terminals - terminals // 2, "fw-internal"
    )
    internal_rules = [
        "      - {from: registry, to: cs, action: allow}",
        "      - {from: cs, to: registry, action: allow}",
    ]
    if named:
        internal_rules += [
            f"      - {{from: {pc}, to: cs, action: deny}}" for pc in (info_pcs + core_pcs)[::10]
        ]
    lines = [
        "municipality: bench",
        "segments:",
        "  - {id: core, kind: core}",
        "  - {id: info, kind: info}",
        "  - {id: dmz, kind: public}",
        "  - {id: juki, kind: juki}",
        "devices:",
        "  - {id: internet, kind: internet}",
        "  - id: fw-edge",
        "    kind: firewall",
        "    rules:",
        "      - {from: internet, to: web, action: allow}",
        "      - {from: info, to: internet, action: allow}",
        "      - {from: info, to: web, action: allow}",
        "  - {id: web, kind: server, segment: dmz}",
        "  - id: fw-internal",
        "    kind: firewall",
        "    rules:",
        *internal_rules,
        "  - {id: registry, kind: server, segment: core}",
        "  - {id: hub-core, kind: hub, segment: core, free_ports: 2}",
        "  - {id: hub-juki, kind: hub, segment: juki}",
        "  - {id: cs, kind: cs, segment: juki}",
        *info_devices,
        *core_devices,
        "links:",
        "  - [internet, fw-edge]",
        "  - [fw-edge, web]",
        "  - [fw-internal, hub-core]",
        "  - [hub-core, registry]",
        "  - [fw-internal, hub-juki]",
        "  - [hub-juki, cs]",
        *info_links,
        *core_links,
    ]
    return "\n".join(lines) + "\n"


def _row(terminals: int, named: bool) -> list[object]:
    text = network_yaml(terminals, named)
    load_s, topology = timed(lambda: topology_from_text(text, "bench.yaml"))
    audit_s, result = timed(lambda: audit(topology))
    svg_s, _ = timed(lambda: render_svg(topology, result))
    cabling: nx.Graph = nx.Graph()
    cabling.add_edges_from((link.a, link.b) for link in topology.links)
    bfs_s, _ = timed(lambda: nx.single_source_shortest_path_length(cabling, "internet"))
    high = sum(f.severity == "high" for f in result.findings)
    return [
        "named" if named else "alike",
        terminals,
        len(topology.devices),
        load_s * 1000,
        audit_s * 1000,
        svg_s * 1000,
        bfs_s * 1000,
        audit_s / bfs_s,
        high,
    ]


def main(sizes: tuple[int, ...] = (100, 1_000, 4_000)) -> None:
    rows = [_row(n, named) for named in (False, True) for n in sizes]
    print("topology audit (python -m bench topology)")
    print(
        table(
            [
                "rules",
                "terminals",
                "devices",
                "load ms",
                "audit ms",
                "svg ms",
                "raw: 1 walk ms",
                "audit/walk",
                "high",
            ],
            rows,
        )
    )
