"""The topology model: what-ifs make new networks and leave the original as it was."""

from __future__ import annotations

import dataclasses

from juki.governance.topology.loader import example_text, topology_from_text
from juki.governance.topology.model import Action


def test_a_what_if_leaves_the_original_network_unchanged() -> None:
    safe = topology_from_text(example_text("safe"))
    opened = safe.with_device(dataclasses.replace(safe.device("fw-internal"), default=Action.ALLOW))
    smaller = dataclasses.replace(safe, devices=safe.devices[:3])
    assert safe.device("fw-internal").default == Action.DENY
    assert opened.device("fw-internal").default == Action.ALLOW
    assert safe.has_device("cs") and not smaller.has_device("cs")
