"""Seed 001 第11 on the structure: the juki network independent, no shared terminals.

Three things break it: a host in the juki segment and another segment at once (a shared
terminal, ⑵); a host of another segment that reaches a juki host without passing a firewall
(through a hub, a switch, a router: the juki network is not independent, ⑴ and seed 000 §2.4.1
①); and a VLAN or L3 switch carrying the juki VLAN beside another segment's (independent only
while nobody takes the switch over, §2.4.2).
"""

from __future__ import annotations

from juki.governance.topology.findings import Finding, Severity
from juki.governance.topology.model import HOSTS, VLAN_AWARE, DeviceKind, SegmentKind, Topology
from juki.governance.topology.reach import Walker, actor_classes, actors
from juki.governance.topology.remedies import REMEDIES, Text

RULE = "seed 001 第11"


def _finding(
    code: str,
    severity: Severity,
    path: tuple[str, ...],
    en: str,
    ja: str,
    source: str | None = None,
) -> Finding:
    summary = Text(f"{en} ({RULE})", f"{ja}（稲城市基準 第11）")
    return Finding(code, severity, None, path, summary, REMEDIES["independent"], source, path[-1])


def _shared_terminals(topology: Topology) -> list[Finding]:
    out = []
    for d in topology.devices:
        kinds = topology.segment_kinds_of(d.id)
        if d.kind in HOSTS and SegmentKind.JUKI in kinds and len(d.segments) > 1:
            others = ", ".join(
                s for s in d.segments if topology.segment_kind(s) != SegmentKind.JUKI
            )
            en = f"{d.id} is in the juki segment and in {others}: a shared terminal, ⑵"
            ja = f"{d.id} は住基セグメントと {others} の両方に属している: 端末の共用 ⑵"
            out.append(_finding("shared_terminal", Severity.HIGH, (d.id,), en, ja))
    return out


def _unfirewalled(topology: Topology, walker: Walker) -> list[Finding]:
    hosts = [a for a in actors(topology) if topology.device(a.device).kind in HOSTS]
    juki = [a for a in hosts if SegmentKind.JUKI in topology.segment_kinds_of(a.id)]
    outside = [a for a in hosts if SegmentKind.JUKI not in topology.segment_kinds_of(a.id)]
    others = [group[0] for group in actor_classes(topology, walker, outside)]
    out = []
    for j in juki:
        for x in others:
            path = walker.path(x, j)
            if path is None:
                continue
            if any(topology.device(d).kind == DeviceKind.FIREWALL for d in path[1:-1]):
                continue
            en = f"{x.id} reaches juki host {j.id} without passing a firewall, ⑴"
            ja = f"{x.id} から F/W を通らずに住基の {j.id} に到達できる ⑴"
            out.append(_finding("juki_not_independent", Severity.HIGH, path, en, ja, x.id))
            break
    return out


def _shared_switches(topology: Topology) -> list[Finding]:
    out = []
    for d in topology.devices:
        segments = sorted(set(d.vlan_map.values()))
        kinds = {topology.segment_kind(s) for s in segments}
        if d.kind in VLAN_AWARE and SegmentKind.JUKI in kinds and len(kinds) > 1:
            beside = ", ".join(segments)
            en = f"{d.id} carries the juki VLAN beside {beside}: apart until taken over, ⑴"
            ja = (
                f"{d.id} は住基の VLAN を {beside} と同じ機器で収容: 乗っ取られれば分離は失われる ⑴"
            )
            out.append(_finding("juki_shared_switch", Severity.MEDIUM, (d.id,), en, ja))
    return out


def independence_findings(topology: Topology, walker: Walker) -> list[Finding]:
    return (
        _shared_terminals(topology) + _unfirewalled(topology, walker) + _shared_switches(topology)
    )
