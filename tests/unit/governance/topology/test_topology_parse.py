"""Topology documents: each refusal names the place, the rule, and says it in English and
Japanese; no document, however shaped, gives a traceback."""

from __future__ import annotations

import copy
import functools
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.governance.topology.audit import audit
from juki.governance.topology.diagram import render_svg
from juki.governance.topology.loader import EXAMPLES, example_text, topology_from_text
from juki.governance.topology.parse import TopologyError, parse_topology


def _safe() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(example_text("safe"))
    return doc


def _device(doc: dict[str, Any], device_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in doc["devices"] if d["id"] == device_id)
    return found


def _refusal(doc: object) -> TopologyError:
    with pytest.raises(TopologyError) as caught:
        parse_topology(doc)
    assert caught.value.message_ja and caught.value.message_en
    return caught.value


def test_an_unknown_key_names_its_place_and_the_keys_allowed() -> None:
    doc = _safe()
    _device(doc, "fw-edge")["rules"][1]["port"] = 25
    error = _refusal(doc)
    assert (error.field, error.rule) == ("devices[fw-edge].rules[1].port", "unknown_key")
    assert "service" in error.message_en and "使えないキー" in error.message_ja


def test_a_rule_naming_nothing_known_is_refused() -> None:
    doc = _safe()
    _device(doc, "fw-internal")["rules"][0]["to"] = "cs-server"
    error = _refusal(doc)
    assert (error.field, error.rule) == ("devices[fw-internal].rules[0].to", "unknown_name")


def test_a_host_in_an_undeclared_segment_is_refused() -> None:
    doc = _safe()
    _device(doc, "cs")["segment"] = "jyuki"
    assert (_refusal(doc).field, _refusal(doc).rule) == ("devices[cs].segment", "unknown_segment")


def test_a_field_of_another_kind_is_refused() -> None:
    doc = _safe()
    _device(doc, "registry")["rules"] = []
    assert _refusal(doc).field == "devices[registry].rules"


def test_a_port_of_a_vlan_switch_needs_its_vlan() -> None:
    doc = yaml.safe_load(example_text("case1-vlan"))
    doc["links"][2] = ["sw-shared", "pc-info"]
    error = _refusal(doc)
    assert (error.field, error.rule) == ("links[2].vlan", "vlan_required")


def test_a_vlan_the_switch_does_not_have_is_refused() -> None:
    doc = yaml.safe_load(example_text("case1-vlan"))
    doc["links"][2]["vlan"] = 30
    assert (_refusal(doc).field, _refusal(doc).rule) == ("links[2].vlan", "unknown_vlan")


def test_a_trunk_needs_two_vlan_switches() -> None:
    doc = yaml.safe_load(example_text("case1-vlan"))
    doc["links"][2] = {"a": "sw-shared", "b": "pc-info", "trunk": True}
    assert _refusal(doc).rule == "trunk"


def test_the_protection_of_a_line_is_never_guessed() -> None:
    doc = yaml.safe_load(example_text("case4"))
    del _device(doc, "dial")["caller_id_check"]
    assert (_refusal(doc).field, _refusal(doc).rule) == (
        "devices[dial].caller_id_check",
        "required",
    )


def test_free_ports_need_the_segment_a_pc_lands_in() -> None:
    doc = _safe()
    doc["devices"].append({"id": "hub-x", "kind": "hub", "free_ports": 1})
    assert _refusal(doc).rule == "free_port_segment"


def test_a_name_used_twice_is_refused() -> None:
    doc = _safe()
    doc["devices"].append({"id": "core", "kind": "hub"})
    assert (_refusal(doc).rule, _refusal(doc).field) == (
        "duplicate",
        f"devices[{len(doc['devices']) - 1}].id",
    )


def test_a_link_to_itself_or_to_nothing_is_refused() -> None:
    doc = _safe()
    doc["links"].append(["cs", "cs"])
    assert _refusal(doc).rule == "self_link"
    doc["links"][-1] = ["cs", "printer"]
    assert (_refusal(doc).field, _refusal(doc).rule) == (
        f"links[{len(doc['links']) - 1}].b",
        "unknown_device",
    )


def test_a_yaml_syntax_error_names_the_file_line_and_column() -> None:
    with pytest.raises(TopologyError) as caught:
        topology_from_text("segments: [\n  - {id: core", "town.yaml")
    error = caught.value
    assert error.rule == "yaml" and error.field.startswith("line ")
    assert str(error).startswith("town.yaml: line ")
    assert error.in_japanese().startswith("town.yaml: ") and "行" in error.in_japanese()


def test_an_unquoted_comma_in_flow_style_is_caught_not_misread() -> None:
    text = example_text("safe").replace('service: "tcp/80,443"', "service: tcp/80,443", 1)
    with pytest.raises(TopologyError) as caught:
        topology_from_text(text, "safe.yaml")
    assert caught.value.field == "devices[fw-edge].rules[0].443"


# Hypothesis: any document, any damage to a valid one, any text.

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5000)
    | st.text(max_size=8)
    | st.sampled_from(
        ["core", "info", "juki", "cs", "any", "allow", "deny", "firewall", "hub", "internet", "10"]
    )
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | _scalars, inner, max_size=4)
    ),
    max_leaves=12,
)


def _refusal_or_none(doc: object) -> TopologyError | None:
    try:
        topology = parse_topology(doc)
    except TopologyError as error:
        return error
    svg = render_svg(topology, audit(topology))  # a document that parses is audited and drawn
    ElementTree.fromstring(svg)  # noqa: S314 - our own output, parsed to check it is XML
    return None


def _parse_or_refuse(doc: object) -> None:
    error = _refusal_or_none(doc)
    if error is not None:
        assert error.field and error.rule and error.message_en and error.message_ja


@settings(max_examples=40)
@given(_values)
def test_any_document_parses_or_is_refused(doc: object) -> None:
    _parse_or_refuse(doc)


def _places(node: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _places(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _places(v, (*path, i))
    return out


@functools.cache
def _loaded(name: str) -> Any:
    return yaml.safe_load(example_text(name))


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLES), st.data(), _values, st.booleans())
def test_a_damaged_example_parses_or_is_refused(
    name: str, data: st.DataObject, value: object, delete: bool
) -> None:
    doc = _loaded(name)
    places = _places(doc)[1:]
    place = data.draw(st.sampled_from(places))
    damaged = copy.deepcopy(doc)
    parent = damaged
    for key in place[:-1]:
        parent = parent[key]
    if delete:
        del parent[place[-1]]
    else:
        parent[place[-1]] = value
    _parse_or_refuse(damaged)


@given(st.text(max_size=200))
def test_any_text_parses_or_is_refused(text: str) -> None:
    refused: list[TopologyError] = []
    try:
        topology_from_text(text, "any.yaml")
    except TopologyError as error:
        refused.append(error)
    assert all(str(e).startswith("any.yaml: ") for e in refused)


def test_a_key_written_twice_is_refused_not_silently_replaced() -> None:
    text = example_text("safe").replace(
        "    default: deny\n", "    default: deny\n    default: allow\n", 1
    )
    with pytest.raises(TopologyError) as caught:
        topology_from_text(text, "safe.yaml")
    assert caught.value.rule == "yaml" and "duplicate key 'default'" in caught.value.message_en


def test_an_empty_network_is_audited_and_drawn() -> None:
    _parse_or_refuse({"segments": [], "devices": [], "links": []})
    assert _refusal_or_none({"segments": [], "devices": [], "links": []}) is None


def test_a_control_character_in_a_name_is_refused() -> None:
    doc = _safe()
    doc["municipality"] = "安全町\x1b[2J"
    assert (_refusal(doc).field, _refusal(doc).rule) == ("municipality", "text")


def test_a_missing_top_level_key_is_named_plainly() -> None:
    doc = _safe()
    del doc["links"]
    assert (_refusal(doc).field, _refusal(doc).rule) == ("links", "required")
