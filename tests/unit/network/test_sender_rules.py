"""Every message type has a rule naming who may send it, and docs/network.md states each."""

from __future__ import annotations

from pathlib import Path

from juki.network.authority import AUTHORITY, message_types_without_rule
from juki.network.messages import SCHEMAS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "network.md"


def test_every_message_type_has_a_sender_rule() -> None:
    assert message_types_without_rule() == set()
    assert set(AUTHORITY) == {name for name, _version in SCHEMAS}


def test_every_rule_is_in_the_operators_documentation() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Who may send what", 1)[1].split("\n## ", 1)[0]
    for name in AUTHORITY:
        assert f"`{name}`" in section, name


def test_every_rule_names_senders_and_receivers() -> None:
    for name, authority in AUTHORITY.items():
        assert authority.senders and authority.receivers, name
        assert authority.rule, name
