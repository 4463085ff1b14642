"""The smallest request an OpenAPI document accepts for a route: its path values and a body with
every required field, each the plainest value its schema allows (the first enum member, a
date, a string matching its pattern and lengths, the minimum number, the fewest items).

It passes the request's validation and nothing more: the generated permission matrix
(tests/integration/security/test_permission_matrix.py) sends it as each role without the
route's permission, which the service refuses before it reads any value. Built from the schema,
so a route or field added later is covered without a hand-written body that could drift.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

# Strings tried, in order, against a pattern and length limits.
CANDIDATES: Final = (
    "24727059608",
    "132250",
    "123456789012",
    "0" * 64,
    "00000000-0000-4000-8000-000000000000",
    "1",
    "T-W",
    "カサイ",
    "権限確認",
)


class NoValue(Exception):
    """The schema asks for something this builder cannot make: extend it."""


def _resolve(doc: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _string(schema: Mapping[str, Any]) -> str:
    if schema.get("format") == "date":
        return "2025-04-01"
    if schema.get("contentEncoding") == "base64":
        return "AAAA"
    if schema.get("format") == "date-time":
        return "2025-04-01T09:00:00+09:00"
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10_000)
    pattern = schema.get("pattern")
    for value in CANDIDATES:
        if low <= len(value) <= high and (pattern is None or re.search(pattern, value)):
            return value
    raise NoValue(f"no candidate string for {dict(schema)}")


def value_for(doc: Mapping[str, Any], schema: Mapping[str, Any]) -> Any:
    """The plainest value `schema` accepts (references resolved against `doc`)."""
    schema = _resolve(doc, schema)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(doc, s).get("type") != "null"]
            return value_for(doc, options[0])
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        out = {name: value_for(doc, props[name]) for name in schema.get("required", [])}
        if schema.get("minProperties", 0) > len(out):  # a mapping that may not be empty
            key = _string({"type": "string", **schema.get("propertyNames", {})})
            out[key] = value_for(doc, schema.get("additionalProperties", {"type": "string"}))
        return out
    if kind == "array":
        return [value_for(doc, schema["items"]) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1)
    if kind == "boolean":
        return False
    raise NoValue(f"no value for {dict(schema)}")


def minimal_request(doc: Mapping[str, Any], method: str, template: str) -> tuple[str, Any]:
    """The path with every path parameter filled, and the JSON body (None when none)."""
    operation = doc["paths"][template][method.lower()]
    path = template
    for param in operation.get("parameters", []):
        if param["in"] == "path":
            value = value_for(doc, param["schema"])
            path = path.replace("{" + param["name"] + "}", str(value))
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return path, (value_for(doc, body["schema"]) if body else None)
