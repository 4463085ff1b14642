"""The topology audit on the examples of seed 000 §2.4, and what-ifs on them."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from juki.governance.topology.audit import audit
from juki.governance.topology.findings import AuditResult, Finding, Severity
from juki.governance.topology.loader import EXAMPLES, example_text, topology_from_text
from juki.governance.topology.model import Action, DeviceKind, Rule, Topology


def _example(name: str) -> Topology:
    return topology_from_text(example_text(name), f"{name}.yaml")


def _worst(result: AuditResult) -> Finding:
    assert result.findings, "expected at least one finding"
    return result.findings[0]


def _assert_path_is_walkable(topology: Topology, finding: Finding) -> None:
    """Every step of a path is a cable of the file (or a pseudo source beside its device)."""
    cables = {frozenset((link.a, link.b)) for link in topology.links}
    for a, b in zip(finding.path, finding.path[1:], strict=False):
        if "@" in a:
            assert a.split("@", 1)[1] == b
        else:
            assert frozenset((a, b)) in cables, (a, b)


@pytest.mark.parametrize(
    ("name", "case", "severity", "source"),
    [
        ("case1", 1, Severity.HIGH, "internet"),
        ("case1-vlan", 1, Severity.MEDIUM, "internet"),
        ("case2", 2, Severity.HIGH, "internet"),
        ("case3", 3, Severity.HIGH, "internet"),
        ("case4", 4, Severity.HIGH, "caller@dial"),
        ("case5", 5, Severity.HIGH, "vendor"),
        ("case6", 6, Severity.HIGH, "laptop@sw-core"),
    ],
)
def test_each_case_example_is_reported_with_its_case_and_a_path_to_the_cs(
    name: str, case: int, severity: Severity, source: str
) -> None:
    topology = _example(name)
    result = audit(topology)
    worst = _worst(result)
    assert (worst.case, worst.severity, worst.source) == (case, severity, source)
    assert worst.path[0] == source and worst.path[-1] == "cs" and worst.target == "cs"
    _assert_path_is_walkable(topology, worst)
    assert result.has_high == (severity == Severity.HIGH)
    assert worst.remedy.en and worst.remedy.ja


def test_the_safe_layout_has_no_high_finding_only_the_note_on_its_internal_firewall() -> None:
    result = audit(_example("safe"))
    assert not result.has_high
    assert [(f.code, f.severity, f.case, f.path) for f in result.findings] == [
        ("info_core_joined", Severity.LOW, 1, ("fw-internal",))
    ]


def _with_rule_first(topology: Topology, device_id: str, rule: Rule) -> Topology:
    device = topology.device(device_id)
    return topology.with_device(dataclasses.replace(device, rules=(rule, *device.rules)))


def test_a_rule_opening_the_intranet_to_the_core_turns_the_safe_layout_into_a_finding() -> None:
    safe = _example("safe")
    opened = _with_rule_first(safe, "fw-internal", Rule("info", "core", Action.ALLOW, "tcp/445"))
    result = audit(opened)
    worst = _worst(result)
    assert (worst.severity, worst.case, worst.source, worst.target) == (
        Severity.HIGH,
        1,
        "internet",
        "cs",
    )
    assert "fw-internal" in worst.path and "registry" in worst.path
    _assert_path_is_walkable(opened, worst)


def test_a_rule_letting_the_core_out_to_the_intranet_is_a_passage_too() -> None:
    # §2.4.2: the core PCs may reach the intranet; the answer is the way in.
    safe = _example("safe")
    opened = _with_rule_first(safe, "fw-internal", Rule("pc-core", "intranet", Action.ALLOW))
    worst = _worst(audit(opened))
    assert (worst.severity, worst.case, worst.target) == (Severity.HIGH, 1, "cs")


def test_a_deny_rule_before_the_allow_rule_wins() -> None:
    safe = _example("safe")
    opened = _with_rule_first(safe, "fw-internal", Rule("info", "core", Action.ALLOW))
    closed = _with_rule_first(opened, "fw-internal", Rule("any", "any", Action.DENY))
    assert not audit(closed).has_high


def test_a_firewall_that_allows_everything_by_default_is_evaluated_as_such() -> None:
    safe = _example("safe")
    device = safe.device("fw-internal")
    loose = safe.with_device(dataclasses.replace(device, rules=(), default=Action.ALLOW))
    assert audit(loose).has_high


def test_dial_up_with_caller_id_check_is_low_not_high() -> None:
    topology = _example("case4")
    dial = dataclasses.replace(topology.device("dial"), caller_id_check=True)
    findings = [f for f in audit(topology.with_device(dial)).findings if f.case == 4]
    assert [(f.severity, f.path[-1]) for f in findings] == [(Severity.LOW, "cs")]


def test_a_vendor_line_restricted_and_off_until_permitted_is_low() -> None:
    topology = _example("case5")
    vendor = topology.device("vendor")
    for always_on, restricted, expected in [
        (True, True, Severity.HIGH),
        (False, False, Severity.HIGH),
        (False, True, Severity.LOW),
    ]:
        changed = dataclasses.replace(vendor, always_on=always_on, restricted=restricted)
        findings = [f for f in audit(topology.with_device(changed)).findings if f.case == 5]
        assert [f.severity for f in findings] == [expected]


def test_a_hub_without_free_ports_is_no_case_six() -> None:
    topology = _example("case6")
    hub = dataclasses.replace(topology.device("sw-core"), free_ports=0)
    assert not audit(topology.with_device(hub)).has_high


def test_vlans_separate_until_the_switch_is_taken_over() -> None:
    result = audit(_example("case1-vlan"))
    assert not result.has_high
    worst = _worst(result)
    assert worst.code == "reach_takeover"
    assert "sw-shared" in worst.path


def test_an_l3_switch_whose_acl_denies_the_intranet_is_medium_only_on_takeover() -> None:
    topology = _example("case3")
    l3 = topology.device("l3")
    strict = dataclasses.replace(l3, rules=(Rule("any", "core", Action.DENY), *l3.rules))
    result = audit(topology.with_device(strict))
    assert not result.has_high
    assert (_worst(result).code, _worst(result).case) == ("reach_takeover", 3)


def test_a_shared_terminal_breaks_seed_001_article_11() -> None:
    result = audit(_example("shared-terminal"))
    codes = {(f.code, f.severity) for f in result.findings}
    assert ("shared_terminal", Severity.HIGH) in codes
    assert ("juki_not_independent", Severity.HIGH) in codes


def test_a_router_instead_of_a_firewall_before_the_juki_segment_is_not_independent() -> None:
    safe = _example("safe")
    fw = safe.device("fw-internal")
    router = dataclasses.replace(fw, kind=DeviceKind.ROUTER, rules=(), default=Action.ALLOW)
    result = audit(safe.with_device(router))
    assert any(f.code == "juki_not_independent" for f in result.findings)


def test_a_switch_carrying_the_juki_vlan_beside_the_core_is_noted() -> None:
    text = example_text("case1-vlan").replace(
        "vlans: {10: core, 20: info}", "vlans: {10: core, 20: info, 30: juki}"
    )
    codes = [f.code for f in audit(topology_from_text(text)).findings]
    assert "juki_shared_switch" in codes


def test_every_example_parses_and_audits() -> None:
    for name in EXAMPLES:
        assert audit(_example(name)).municipality.endswith("(example)")


def test_a_free_port_on_the_intranet_is_classified_by_its_path_not_as_case_six() -> None:
    safe = _example("safe")
    opened = _with_rule_first(safe, "fw-internal", Rule("info", "core", Action.ALLOW))
    switch = dataclasses.replace(opened.device("sw-info"), free_ports=3)
    result = audit(opened.with_device(switch))
    laptop = next(f for f in result.findings if f.source == "laptop@sw-info")
    assert (laptop.severity, laptop.case, laptop.target) == (Severity.HIGH, 1, "cs")


def _high_sources(topology: Topology) -> set[str | None]:
    return {
        f.source for f in audit(topology).findings if f.code == "reach" and f.severity == "high"
    }


@settings(max_examples=20)
@given(st.sampled_from(EXAMPLES), st.data())
def test_cutting_cables_or_closing_a_firewall_never_opens_a_way_in(
    name: str, data: st.DataObject
) -> None:
    topology = _example(name)
    before = _high_sources(topology)
    kept = data.draw(st.lists(st.sampled_from(topology.links), unique=True))
    cut = Topology(topology.municipality, topology.segments, topology.devices, tuple(kept))
    assert _high_sources(cut) <= before
    firewalls = [d for d in topology.devices if d.kind == DeviceKind.FIREWALL]
    if firewalls:
        fw = data.draw(st.sampled_from(firewalls))
        closed = _with_rule_first(topology, fw.id, Rule("any", "any", Action.DENY))
        assert _high_sources(closed) <= before
