"""The audit: every way from outside into the core, the juki segment and the CS, as findings.

Sources are the Internet, vendor lines, dial-up callers and PCs plugged into free ports. From
each, the attack graph (`reach`) is searched for the CS first, then any juki host, then any
core host (§2.4.1: "少なくともインターネットからのアクセスが基幹系ネットに及ばない"). A path that
exists as the network is configured is high severity (low when the line is protected as the
report asks, since a checked dial-up caller or a call-back vendor is still a way in whose logs
must be read); a path that needs a VLAN or L3 switch to be taken over first is medium. Seed
001 第11 is checked on the structure: a host in the juki segment and another is a shared
terminal, and the juki segment must share no hub, plain switch or switch with another segment.
"""

from __future__ import annotations

import itertools

import networkx as nx

from juki.governance.topology.findings import AuditResult, Finding, Severity
from juki.governance.topology.model import (
    FILTERING,
    HOSTS,
    VLAN_AWARE,
    DeviceKind,
    SegmentKind,
    Topology,
)
from juki.governance.topology.reach import Actor, Walker, attack_graph
from juki.governance.topology.remedies import REMEDIES, Text
from juki.governance.topology.structure import independence_findings

PROTECTED = frozenset({SegmentKind.CORE, SegmentKind.JUKI})
OUTSIDE = frozenset({SegmentKind.INFO, SegmentKind.PUBLIC})


def _source_label(topology: Topology, actor: Actor) -> Text:
    device = topology.device(actor.device)
    if device.kind == DeviceKind.INTERNET:
        return Text(f"the Internet ({device.id})", f"インターネット（{device.id}）")
    if device.kind == DeviceKind.VENDOR_LINE:
        return Text(f"vendor line {device.id}", f"委託業者回線 {device.id}")
    if device.kind == DeviceKind.DIALUP_ROUTER:
        return Text(
            f"a caller on dial-up router {device.id}", f"ダイアルアップルータ {device.id} への着信"
        )
    return Text(
        f"a PC plugged into a free port of {device.id}",
        f"{device.id} の空きポートに接続したパソコン",
    )


def _source_case_and_protected(topology: Topology, actor: Actor) -> tuple[int | None, bool]:
    """The case a source itself makes (4, 5, 6, or None: classify the path) and whether it is
    protected as the report asks (caller-id check; a vendor line restricted and not always on).
    A free port is case 6 when it is on the core or juki network (§2.4.7); a free port on the
    intranet is one more way into the intranet, and the path decides the case."""
    device = topology.device(actor.device)
    if device.kind == DeviceKind.DIALUP_ROUTER:
        return 4, device.caller_id_check
    if device.kind == DeviceKind.VENDOR_LINE:
        return 5, device.restricted and not device.always_on
    if device.kind == DeviceKind.INTERNET:
        return None, False
    lands = {topology.segment_kind(s) for s in actor.names}
    return (6 if lands & PROTECTED else None), False


def _is_source(topology: Topology, actor: Actor) -> bool:
    return actor.pseudo or topology.device(actor.device).kind in (
        DeviceKind.INTERNET,
        DeviceKind.VENDOR_LINE,
    )


def _host_path(topology: Topology, graph: nx.DiGraph, source: str) -> list[str] | None:
    """The host-level path from `source` to the CS, else a juki host, else a core host."""
    hosts = [n for n in graph if topology.has_device(n) and topology.device(n).kind in HOSTS]
    sub = graph.subgraph([source, *hosts])
    reached: dict[str, list[str]] = nx.single_source_shortest_path(sub, source)
    tiers = (
        [h for h in hosts if topology.device(h).kind == DeviceKind.CS],
        [h for h in hosts if SegmentKind.JUKI in topology.segment_kinds_of(h)],
        [h for h in hosts if SegmentKind.CORE in topology.segment_kinds_of(h)],
    )
    for tier in tiers:
        found = [reached[h] for h in tier if h in reached]
        if found:
            return min(found, key=lambda p: (len(p), p))
    return None


def _device_path(graph: nx.DiGraph, hosts: list[str]) -> tuple[str, ...]:
    nodes: list[str] = [hosts[0]]
    for a, b in itertools.pairwise(hosts):
        nodes.extend(graph.edges[a, b]["path"][1:])
    return tuple(nodes)


def classify(topology: Topology, graph: nx.DiGraph, hosts: list[str]) -> int | None:
    """The case of §2.4.2–§2.4.4 an Internet path matches, from the hop by which it first
    enters the core or the juki segment."""
    for i in range(1, len(hosts)):
        if topology.segment_kinds_of(hosts[i]) & PROTECTED:
            prev, edge = hosts[i - 1], graph.edges[hosts[i - 1], hosts[i]]
            break
    else:
        return None
    interior = [topology.device(d) for d in edge["path"][1:-1]]
    kinds = {d.kind for d in interior}
    if DeviceKind.L3_SWITCH in kinds:
        return 3
    actor: Actor = graph.nodes[prev]["actor"]
    before = {topology.segment_kind(s) for s in actor.names}
    if topology.device(actor.device).kind == DeviceKind.INTERNET:
        return 2 if edge["reply"] else None
    if before & OUTSIDE and not kinds & FILTERING and not any(d.has_vlans for d in interior):
        return 2
    if before & OUTSIDE:
        return 1
    return None


def _reach_finding(
    topology: Topology, actor: Actor, graphs: tuple[nx.DiGraph, nx.DiGraph]
) -> Finding | None:
    source_case, protected = _source_case_and_protected(topology, actor)
    for graph, taken_over in ((graphs[0], False), (graphs[1], True)):
        hosts = _host_path(topology, graph, actor.id)
        if hosts is None:
            continue
        case = source_case if source_case is not None else classify(topology, graph, hosts)
        severity = Severity.LOW if protected else Severity.MEDIUM if taken_over else Severity.HIGH
        label, target = _source_label(topology, actor), hosts[-1]
        how = (
            Text(
                " once a VLAN or L3 switch on the way is taken over",
                "（途中の VLAN/L3 スイッチが乗っ取られた場合）",
            )
            if taken_over
            else Text("", "")
        )
        return Finding(
            code="reach_takeover" if taken_over else "reach",
            severity=severity,
            case=case,
            path=_device_path(graph, hosts),
            summary=Text(
                f"{label.en} reaches {target}{how.en}",
                f"{label.ja}から {target} に到達できる{how.ja}",
            ),
            remedy=REMEDIES[case if case is not None else "boundary"],
            source=actor.id,
            target=target,
        )
    return None


def _takeover_set(topology: Topology) -> frozenset[str]:
    return frozenset(
        d.id for d in topology.devices if d.kind in VLAN_AWARE and len(set(d.vlan_map.values())) > 1
    )


def _neighbour_kinds(topology: Topology, walker: Walker, device: str) -> frozenset[SegmentKind]:
    """The segments of the hosts a filtering device is cabled to, through hubs and switches."""
    seen, todo, kinds = {device}, [device], set[SegmentKind]()
    while todo:
        for link in walker.links[todo.pop()]:
            for nxt in (link.a, link.b):
                other = topology.device(nxt)
                if nxt in seen:
                    continue
                seen.add(nxt)
                if other.kind in HOSTS:
                    kinds |= topology.segment_kinds_of(nxt)
                elif other.kind not in FILTERING:
                    todo.append(nxt)
    return frozenset(kinds)


def _passage(topology: Topology, graph: nx.DiGraph) -> tuple[str, str, tuple[str, ...]] | None:
    """The first passage (not an answer) between an intranet host and a core or juki host."""
    for a, b, data in sorted(graph.edges(data=True)):
        if data["reply"] or not (topology.has_device(a) and topology.has_device(b)):
            continue
        ka, kb = topology.segment_kinds_of(a), topology.segment_kinds_of(b)
        if ka & PROTECTED and kb & PROTECTED:
            continue
        if (SegmentKind.INFO in ka and kb & PROTECTED) or (
            SegmentKind.INFO in kb and ka & PROTECTED
        ):
            return a, b, tuple(data["path"])
    return None


def _intranet_core(topology: Topology, graph: nx.DiGraph, seen: set[int | None]) -> list[Finding]:
    """Case 1 on its own: a passage between the intranet and the core even when no source
    outside reaches it today (medium); or the two cabled to one firewall or router with no
    passage at all, one rule away from one (low: §2.4.1 ⑥ asks for physical separation)."""
    if seen & {1, 2, 3}:
        return []  # a path of case 1, 2 or 3 already shows the passage
    passage = _passage(topology, graph)
    if passage is not None:
        a, b, path = passage
        summary = Text(
            f"a passage between the intranet and the core: {a} → {b}",
            f"情報系と基幹系の間に通路がある: {a} → {b}",
        )
        return [Finding("info_core_passage", Severity.MEDIUM, 1, path, summary, REMEDIES[1], a, b)]
    walker = Walker(topology)
    for d in topology.devices:
        kinds = _neighbour_kinds(topology, walker, d.id) if d.kind in FILTERING else frozenset()
        if {SegmentKind.INFO, SegmentKind.CORE} <= kinds:
            summary = Text(
                f"{d.id} joins the intranet and the core; it passes nothing between them today, "
                "but one rule or a takeover opens a passage",
                f"{d.id} が情報系と基幹系を接続している。現在は両者の間を何も通さないが、規則の"
                "変更や"
                "乗っ取りで通路が開く",
            )
            return [Finding("info_core_joined", Severity.LOW, 1, (d.id,), summary, REMEDIES[1])]
    return []


def audit(topology: Topology) -> AuditResult:
    """Every finding for `topology`, most severe first."""
    plain = attack_graph(topology)
    taken = attack_graph(topology, _takeover_set(topology))
    findings: list[Finding] = []
    for node in sorted(plain):
        actor: Actor = plain.nodes[node]["actor"]
        if _is_source(topology, actor):
            finding = _reach_finding(topology, actor, (plain, taken))
            if finding is not None:
                findings.append(finding)
    findings += _intranet_core(topology, plain, {f.case for f in findings})
    findings += independence_findings(topology, Walker(topology))
    return AuditResult.of(topology.municipality, findings)
