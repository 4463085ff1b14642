"""Reading a topology file: YAML text → the validated `Topology`, or one clear error.

The YAML is read with the safe loader (no Python objects); a syntax error becomes a
`TopologyError` naming the line and column, like every other problem in the document. The
examples of seed 000 §2.4 ship in `examples/` beside this module.
"""

from __future__ import annotations

from collections.abc import Hashable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from juki.governance.topology.model import Topology
from juki.governance.topology.parse import TopologyError, parse_topology

MAX_BYTES = 1_000_000
EXAMPLES = (
    "safe",
    "case1",
    "case1-vlan",
    "case2",
    "case3",
    "case4",
    "case5",
    "case6",
    "shared-terminal",
)


_SAFE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml if built


class _StrictLoader(_SAFE):  # type: ignore[valid-type,misc]
    """The safe loader, refusing a key written twice in one mapping (YAML would keep the last
    silently: a second `rules:` would replace the first without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the base class refuses it with its own message
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def topology_from_text(text: str, source: str = "") -> Topology:
    try:
        doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        ja = f"{mark.line + 1}行 {mark.column + 1}列" if mark else "(文書)"
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise TopologyError(
            where,
            "yaml",
            f"not valid YAML: {problem}",
            f"YAML として読めません（{ja}）: {problem}",
            source,
        ) from None
    try:
        return parse_topology(doc)
    except TopologyError as exc:
        exc.source = source
        raise


def load_topology(path: Path) -> Topology:
    """The topology in the file at `path`; any problem is a `TopologyError` naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TopologyError(
            "(file)",
            "unreadable",
            f"cannot read: {exc.strerror}",
            "ファイルを読めません",
            str(path),
        ) from None
    if len(data) > MAX_BYTES:
        raise TopologyError(
            "(file)",
            "too_large",
            f"larger than {MAX_BYTES} bytes",
            f"{MAX_BYTES} バイトを超えています",
            str(path),
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise TopologyError(
            "(file)", "encoding", "not UTF-8 text", "UTF-8 のテキストではありません", str(path)
        ) from None
    return topology_from_text(text, str(path))


def example_text(name: str) -> str:
    """The YAML of one shipped example (`safe`, `case1` … `case6`, …)."""
    if name not in EXAMPLES:
        raise KeyError(name)
    return (resources.files(__package__) / "examples" / f"{name}.yaml").read_text(encoding="utf-8")
