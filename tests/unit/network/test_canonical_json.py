"""Canonical JSON: orjson writes it, byte for byte as the standard library did, and what orjson
refuses is written or refused as before."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import juki.nodes.municipality
import juki.nodes.national
import juki.nodes.prefecture  # noqa: F401  (every message type registers its schema)
from juki.network.envelope import canonical_json
from juki.network.messages import SCHEMAS


def standard(value: Any) -> bytes:
    """Canonical JSON as juki wrote it before orjson: the standard library's."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


TEXT = st.text(st.characters(blacklist_categories=("Cs",)))  # every code point a str can encode
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | TEXT,
    lambda inner: st.lists(inner) | st.dictionaries(TEXT, inner),
    max_leaves=40,
)


@settings(max_examples=200)
@given(VALUES)
def test_canonical_json_is_the_standard_librarys_bytes(value: Any) -> None:
    assert canonical_json(value) == standard(value)


def test_every_escape_is_the_standard_librarys() -> None:
    every_control = "".join(chr(i) for i in range(0x80)) + "\u2028\u2029\ufeff\U0001f600"
    assert canonical_json({"s": every_control, "\n": "\\"}) == standard(
        {"s": every_control, "\n": "\\"}
    )


@pytest.mark.parametrize(
    "value",
    [2**64, -(2**63) - 1, {"n": [2**70]}, {1: "a", 2: "b"}],
    ids=["past-u64", "past-i64", "nested", "int-keys"],
)
def test_what_orjson_refuses_the_standard_library_writes(value: Any) -> None:
    assert canonical_json(value) == standard(value)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("\ud800", UnicodeEncodeError),  # a lone surrogate cannot be encoded, so never signed
        ({"at": datetime(2026, 4, 1, tzinfo=UTC)}, TypeError),
        ({"on": date(2026, 4, 1)}, TypeError),
    ],
    ids=["surrogate", "datetime", "date"],
)
def test_what_neither_writes_is_refused_as_before(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        standard(value)
    with pytest.raises(error):
        canonical_json(value)


def _numbers(schema: Any, where: str) -> list[str]:
    """Paths in a JSON schema that may hold a float ("type": "number")."""
    if isinstance(schema, dict):
        found = [where] if schema.get("type") == "number" else []
        return found + [p for k, v in schema.items() for p in _numbers(v, f"{where}.{k}")]
    if isinstance(schema, list):
        return [p for i, v in enumerate(schema) for p in _numbers(v, f"{where}[{i}]")]
    return []


def test_no_message_holds_a_float() -> None:
    """orjson writes floats unlike the standard library (1e+16 as 1e16, NaN as null): a message
    with a float would be signed in a form older nodes do not write."""
    floats = [
        path
        for (name, version), schema in SCHEMAS.items()
        for path in _numbers(schema.model_json_schema(), f"{name} v{version}")
    ]
    assert floats == []
    assert len(SCHEMAS) > 20  # every node's messages were registered
