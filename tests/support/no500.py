"""Strategies the no-500 properties share (issue 10 §4): the strings and numbers that have broken
parsers and databases before, any JSON value leaning on them, and values shaped by a JSON schema
(an OpenAPI document's or a pydantic model's) any part of which may be replaced by any JSON.

Used by the registry API's property (tests/integration/registry/test_api_no_server_error.py),
the network door's, the counter terminal's and the public verification listener's.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "山\x00田",
    "\ufffe",
    "\uffff",
    "\ufdd0",
    "\ufdef",
    "\ud800",
    "田\udfff",
    "\U0010ffff",
    "葛\U000e0102",
    "\U000e0102",
    "\u202e",
    "x" * 300,
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "+10000-01-01",
    "-0001-01-01",
    "99999-01-01",
    "1868-01-24",
    "1868-01-25",
    "2025-02-30",
    "2025-13-01",
    "1969-12-31T23:59:60",
    "NaN",
    "1e400",
    "00000000000",
    "13225000000",
    "000000000000",
    "132250",
    "-1",
]
ODD_NUMBERS = [0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**40, 0.5, -0.0, 1e308]


def json_values(pool: list[str]) -> st.SearchStrategy[Any]:
    """Any JSON value, leaning on the strings that have broken parsers and databases before."""
    strings = st.one_of(
        st.sampled_from(ODD_STRINGS),
        st.sampled_from(pool),
        st.text(max_size=40),
        st.dates().map(str),
    )
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(ODD_NUMBERS),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        strings,
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(strings, inner, max_size=4)
        ),
        max_leaves=12,
    )


class Shapes:
    """Values shaped by an OpenAPI schema, any part of which may be replaced by any JSON."""

    def __init__(self, spec: dict[str, Any], pool: list[str]) -> None:
        self.components = spec.get("components", {}).get("schemas", {})
        self.pool = pool
        self.anything = json_values(pool)

    def of(self, schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
        if depth > 6:
            return self.anything
        return st.one_of(self._shaped(schema, depth), self.anything) | self._shaped(schema, depth)

    def _shaped(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        if "$ref" in schema:
            return self.of(self.components[schema["$ref"].rsplit("/", 1)[-1]], depth + 1)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                return st.one_of([self.of(s, depth + 1) for s in schema[key]])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if "const" in schema:
            return st.just(schema["const"])
        kind = schema.get("type")
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return st.lists(self.of(schema.get("items", {}), depth + 1), max_size=4)
        if kind == "string" and schema.get("format") == "date":
            return st.one_of(st.dates().map(str), st.sampled_from(ODD_STRINGS))
        if kind == "string":
            return st.one_of(st.sampled_from(self.pool), st.sampled_from(ODD_STRINGS))
        if kind in ("integer", "number"):
            return st.one_of(st.integers(min_value=-5, max_value=600), st.sampled_from(ODD_NUMBERS))
        if kind == "boolean":
            return st.booleans()
        return self.anything

    def _object(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        properties: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        if not properties:
            values = self.of(extra, depth + 1) if isinstance(extra, dict) else self.anything
            return st.dictionaries(st.sampled_from(self.pool), values, max_size=4)
        required = set(schema.get("required", ()))
        fields = {name: self.of(sub, depth + 1) for name, sub in properties.items()}
        return st.fixed_dictionaries(
            {name: s for name, s in fields.items() if name in required},
            optional={name: s for name, s in fields.items() if name not in required},
        )
