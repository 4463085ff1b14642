"""The topology drawn as SVG, with the findings' paths in red.

The layout is the project's own, in layers: the places an attack comes from (the Internet,
vendor lines, dial-up callers, PCs at free ports) on the left, every other device in the
column of its distance from them, ordered within a column by segment (public, info, core,
juki) and id, so the same file always gives the same picture. A high-severity path is drawn
solid red, a medium one dashed orange; the nodes of a high path get a red border.
"""

from __future__ import annotations

from html import escape

import networkx as nx

from juki.governance.topology.findings import AuditResult, Severity
from juki.governance.topology.model import (
    DEVICE_NAMES_JA,
    HOSTS,
    SEGMENT_NAMES_JA,
    DeviceKind,
    SegmentKind,
    Topology,
)
from juki.governance.topology.reach import actors

COL, ROW, BOX_W, BOX_H, MARGIN, TOP, LEGEND_X = 190, 64, 150, 46, 30, 70, 440
FILL = {
    SegmentKind.PUBLIC: "#e3f4e1",
    SegmentKind.INFO: "#deebfa",
    SegmentKind.CORE: "#fdebd3",
    SegmentKind.JUKI: "#ece1f7",
}
OUTSIDE_FILL, DEVICE_FILL = "#fff6bf", "#f2f2f2"
ORDER = {SegmentKind.PUBLIC: 0, SegmentKind.INFO: 1, SegmentKind.CORE: 2, SegmentKind.JUKI: 3}
RED, ORANGE, GREY = "#c8102e", "#e07000", "#8a8a8a"


def _graph(topology: Topology) -> tuple[nx.Graph, list[str]]:
    graph: nx.Graph = nx.Graph()
    graph.add_nodes_from(d.id for d in topology.devices)
    graph.add_edges_from((link.a, link.b) for link in topology.links)
    roots = [
        d.id for d in topology.devices if d.kind in (DeviceKind.INTERNET, DeviceKind.VENDOR_LINE)
    ]
    for actor in actors(topology):
        if actor.pseudo:
            graph.add_edge(actor.id, actor.device)
            roots.append(actor.id)
    return graph, roots


def _layers(graph: nx.Graph, roots: list[str]) -> dict[str, int]:
    """Each node's column: its distance from the nearest root; a part of the network no
    root reaches starts one column further right, from its smallest id."""
    layer: dict[str, int] = {}
    if roots:
        layer.update(nx.multi_source_dijkstra_path_length(graph, set(roots)))
    while len(layer) < graph.number_of_nodes():
        start = min(n for n in graph if n not in layer)
        base = max(layer.values(), default=-1) + 1
        for node, d in nx.single_source_shortest_path_length(graph, start).items():
            layer.setdefault(node, base + d)
    return layer


def _sort_key(topology: Topology, node: str) -> tuple[int, int, str]:
    """Within a column: what carries traffic on top (fewer crossings), then hosts by segment."""
    if not topology.has_device(node):
        return (0, -1, node)
    kinds = topology.segment_kinds_of(node)
    host = topology.device(node).kind in HOSTS
    return (int(host), min((ORDER[k] for k in kinds), default=4), node)


def layout(topology: Topology) -> dict[str, tuple[int, int]]:
    """Node id → the centre of its box, in SVG units."""
    graph, roots = _graph(topology)
    layer = _layers(graph, roots)
    columns: dict[int, list[str]] = {}
    for node, col in layer.items():
        columns.setdefault(col, []).append(node)
    out = {}
    for col, nodes in columns.items():
        for row, node in enumerate(sorted(nodes, key=lambda n: _sort_key(topology, n))):
            out[node] = (MARGIN + BOX_W // 2 + col * COL, TOP + BOX_H // 2 + row * ROW)
    return out


def _label(topology: Topology, node: str) -> tuple[str, str, str]:
    """(second line, fill, dash) of a node; pseudo nodes are the caller and the brought-in PC."""
    if not topology.has_device(node):
        what = "着信者" if node.startswith("caller@") else "持込みPC"
        return what, OUTSIDE_FILL, "6 3"
    device = topology.device(node)
    what = DEVICE_NAMES_JA[device.kind]
    if device.kind in HOSTS:
        kinds = sorted(topology.segment_kinds_of(node), key=lambda k: ORDER[k])
        what += "・" + "/".join(SEGMENT_NAMES_JA[k] for k in kinds)
        return what, FILL[kinds[0]] if kinds else DEVICE_FILL, ""
    if device.kind in (DeviceKind.INTERNET, DeviceKind.VENDOR_LINE, DeviceKind.DIALUP_ROUTER):
        return what, OUTSIDE_FILL, ""
    return what, DEVICE_FILL, ""


def _edge_styles(result: AuditResult) -> tuple[dict[frozenset[str], str], set[str]]:
    styles: dict[frozenset[str], str] = {}
    hot: set[str] = set()
    for finding in reversed(result.findings):  # the most severe is drawn last, so it wins
        if finding.severity == Severity.LOW:
            continue
        high = finding.severity == Severity.HIGH
        style = (
            f'stroke="{RED}" stroke-width="4"'
            if high
            else f'stroke="{ORANGE}" stroke-width="3" stroke-dasharray="8 4"'
        )
        for a, b in zip(finding.path, finding.path[1:], strict=False):
            styles[frozenset((a, b))] = style
        if high:
            hot.update(finding.path)
    return styles, hot


def _edge(p: tuple[int, int], q: tuple[int, int], style: str) -> str:
    """A straight line between columns; within one column, an arc out to the right."""
    (x1, y1), (x2, y2) = p, q
    if x1 != x2:
        return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" {style}/>'
    side, bow = x1 + BOX_W // 2, x1 + BOX_W // 2 + 18 + abs(y2 - y1) // 6
    return f'<path d="M {side} {y1} C {bow} {y1}, {bow} {y2}, {side} {y2}" fill="none" {style}/>'


def _legend() -> list[str]:
    """The colour of each kind of box, to the right of the line colours."""
    keys = [("外部", OUTSIDE_FILL)]
    keys += [(SEGMENT_NAMES_JA[k], FILL[k]) for k in sorted(FILL, key=lambda k: ORDER[k])]
    keys.append(("中継機器", DEVICE_FILL))
    out = []
    for i, (label, fill) in enumerate(keys):
        x = LEGEND_X + i * 72
        out.append(f'<rect x="{x}" y="38" width="12" height="12" fill="{fill}" stroke="#555"/>')
        out.append(f'<text x="{x + 16}" y="48" font-size="11">{label}</text>')
    return out


def render_svg(topology: Topology, result: AuditResult) -> str:
    """The SVG document for `topology` with the paths of `result`."""
    graph, _ = _graph(topology)
    pos = layout(topology)
    styles, hot = _edge_styles(result)
    right = max((x for x, _ in pos.values()), default=0) + BOX_W // 2 + MARGIN
    width = max(right, LEGEND_X + 6 * 72 + MARGIN)
    height = max(max((y for _, y in pos.values()), default=0) + BOX_H // 2 + MARGIN, TOP + 2 * ROW)
    title = escape(topology.municipality or "network")
    highs = sum(f.severity == Severity.HIGH for f in result.findings)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="IPAexGothic, IPAGothic, sans-serif">',
        f"<title>{title}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{MARGIN}" y="28" font-size="16">{title} — ネットワーク構成の監査 '
        f"(high: {highs}, findings: {len(result.findings)})</text>",
        f'<text x="{MARGIN}" y="48" font-size="11" fill="{RED}">赤の実線: 危険な経路 (high)'
        f'<tspan fill="{ORANGE}">　橙の破線: 乗っ取り等で開く経路 (medium)</tspan></text>',
        *_legend(),
    ]
    for a, b in sorted(graph.edges, key=sorted):
        style = styles.get(frozenset((a, b)), f'stroke="{GREY}" stroke-width="1.5"')
        parts.append(_edge(pos[a], pos[b], style))
    for node in sorted(pos):
        x, y = pos[node]
        what, fill, dash = _label(topology, node)
        stroke = f'stroke="{RED}" stroke-width="3"' if node in hot else 'stroke="#555"'
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<g id="node-{escape(node)}"><rect x="{x - BOX_W // 2}" y="{y - BOX_H // 2}" '
            f'width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" {stroke}{dashes}/>'
            f'<text x="{x}" y="{y - 4}" font-size="12" text-anchor="middle">{escape(node)}</text>'
            f'<text x="{x}" y="{y + 13}" font-size="10" text-anchor="middle" fill="#333">'
            f"{escape(what)}</text></g>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
