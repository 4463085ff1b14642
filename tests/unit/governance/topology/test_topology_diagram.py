"""The SVG diagram: well-formed, the same for the same file, every device drawn."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from juki.governance.topology.audit import audit
from juki.governance.topology.diagram import layout, render_svg
from juki.governance.topology.loader import EXAMPLES, example_text, topology_from_text


def test_the_diagram_is_deterministic_and_draws_every_device_once() -> None:
    topology = topology_from_text(example_text("case2"))
    result = audit(topology)
    svg = render_svg(topology, result)
    assert svg == render_svg(topology, result)
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output, parsed to check it
    ids = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert ids == {f"node-{d.id}" for d in topology.devices}


def test_no_two_boxes_share_a_place_and_pseudo_sources_are_drawn() -> None:
    topology = topology_from_text(example_text("case6"))
    pos = layout(topology)
    assert len(set(pos.values())) == len(pos)
    assert "laptop@sw-core" in pos
    assert pos["laptop@sw-core"][0] < pos["registry"][0]  # the way in is drawn on the left


def test_text_from_the_file_is_escaped() -> None:
    text = example_text("safe").replace("安全町 (example)", "<script>&")
    svg = render_svg(topology_from_text(text), audit(topology_from_text(text)))
    assert "<script>" not in svg and "&lt;script&gt;&amp;" in svg


DOCS = Path(__file__).resolve().parents[4] / "docs"


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_diagrams_in_docs_are_the_commands_own_output(name: str) -> None:
    topology = topology_from_text(example_text(name))
    drawn = render_svg(topology, audit(topology))
    committed = (DOCS / "topology" / f"{name}.svg").read_text(encoding="utf-8")
    assert committed == drawn, (
        f"regenerate: juki audit network … --diagram docs/topology/{name}.svg"
    )
    assert f"](topology/{name}.svg)" in (DOCS / "topology.md").read_text(encoding="utf-8")
