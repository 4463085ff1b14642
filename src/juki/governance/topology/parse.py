"""A topology document (the YAML, already loaded into plain values) → `Topology`, or an error.

Every refusal names the place in the document (`devices[fw-edge].rules[2].to`), a stable rule
code and the problem in English and Japanese, so that a municipality's IT staff can correct
their own file. Nothing here trusts the document's shape: any value of any type gives either a
`Topology` or a `TopologyError`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, TypeVar

from juki.core.errors import ValidationError
from juki.core.text import is_noncharacter
from juki.governance.topology.model import (
    ANY,
    HOSTS,
    VLAN_AWARE,
    Action,
    Device,
    DeviceKind,
    Link,
    Rule,
    Segment,
    SegmentKind,
    Topology,
)

E = TypeVar("E", SegmentKind, DeviceKind, Action)
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
MAX_FREE_PORTS = 1024
DOCUMENT = "(document)"

COMMON = {"id", "kind", "name"}
FIELDS: dict[DeviceKind, set[str]] = {
    DeviceKind.SERVER: {"segment", "segments"},
    DeviceKind.CS: {"segment", "segments"},
    DeviceKind.TERMINAL: {"segment", "segments"},
    DeviceKind.HUB: {"segment", "free_ports"},
    DeviceKind.SWITCH: {"segment", "vlans", "free_ports", "free_port_vlan"},
    DeviceKind.L3_SWITCH: {"vlans", "acl", "default", "free_ports", "free_port_vlan"},
    DeviceKind.ROUTER: {"acl", "default"},
    DeviceKind.FIREWALL: {"rules", "default"},
    DeviceKind.DIALUP_ROUTER: {"segment", "caller_id_check"},
    DeviceKind.VENDOR_LINE: {"always_on", "restricted"},
    DeviceKind.INTERNET: set(),
}

ALL_FIELDS = set().union(*FIELDS.values())


class TopologyError(ValidationError):
    """A topology document the audit cannot read; `field` is the path in the document and
    `source` the file it came from (set by the loader)."""

    def __init__(
        self, path: str, rule: str, message_en: str, message_ja: str, source: str = ""
    ) -> None:
        super().__init__(path, rule, message_en, message_ja)
        self.source = source

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.field}: {self.message_en} [{self.rule}]"

    def in_japanese(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.field}: {self.message_ja} [{self.rule}]"


def _type_name(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _place(path: str, key: object) -> str:
    """`path.key`; a key that is not a plain word (empty, a number, null) shown as in Python."""
    shown = key if isinstance(key, str) and ID_PATTERN.fullmatch(key) else repr(key)
    return str(shown) if path == DOCUMENT else f"{path}.{shown}"


def _mapping(value: object, path: str, keys: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TopologyError(
            path,
            "type",
            f"must be a mapping (key: value), not {_type_name(value)}",
            f"キーと値の組（マッピング）で書いてください（{_type_name(value)} になっています）",
        )
    for key in value:
        if not isinstance(key, str) or key not in keys:
            raise TopologyError(
                _place(path, key),
                "unknown_key",
                f"unknown key; allowed here: {', '.join(sorted(keys))}",
                f"使えないキーです。ここで使えるキー: {', '.join(sorted(keys))}",
            )
    for key in sorted(required - set(value)):
        raise TopologyError(_place(path, key), "required", "is required", "必須の項目です")
    return dict(value)


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise TopologyError(
            path,
            "type",
            f"must be a list, not {_type_name(value)}",
            f"リストで書いてください（{_type_name(value)} になっています）",
        )
    return value


def _identifier(value: object, path: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value) or value == ANY:
        raise TopologyError(
            path,
            "identifier",
            "must be an identifier: 1–63 letters, digits, '_', '.' or '-', starting with a "
            "letter or digit, and not 'any'",
            "識別子は英数字・'_'・'.'・'-' の1〜63文字"
            "（英数字で始まる、'any' 以外）で書いてください",
        )
    return value


def _text(value: object, path: str) -> str:
    """A name or note: at most 200 characters, none a control character, a surrogate or a
    noncharacter (it is printed on the console and drawn in the SVG)."""
    bad = (unicodedata.category(c) in ("Cc", "Cs") or is_noncharacter(c) for c in str(value))
    if isinstance(value, str) and len(value) <= 200 and not any(bad):
        return value
    en = "must be a text of at most 200 characters, without control characters"
    raise TopologyError(path, "text", en, "制御文字を含まない200文字以内の文字列で書いてください")


def _flag(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise TopologyError(
            path, "boolean", "must be true or false", "true または false で書いてください"
        )
    return value


def _integer(value: object, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TopologyError(
            path,
            "range",
            f"must be a whole number from {low} to {high}",
            f"{low}〜{high} の整数で書いてください",
        )
    return value


def _choice(value: object, path: str, enum: type[E]) -> E:
    allowed = [e.value for e in enum]
    if not isinstance(value, str) or value not in allowed:
        raise TopologyError(
            path,
            "choice",
            f"must be one of: {', '.join(allowed)}",
            f"次のいずれかで書いてください: {', '.join(allowed)}",
        )
    return enum(value)


def _segment_ref(value: object, path: str, segments: Mapping[str, Segment]) -> str:
    name = _identifier(value, path)
    if name not in segments:
        raise TopologyError(
            path,
            "unknown_segment",
            f"no segment '{name}' is declared under segments",
            f"segments に '{name}' というセグメントがありません",
        )
    return name


def _segments(doc: dict[str, Any]) -> dict[str, Segment]:
    out: dict[str, Segment] = {}
    for i, raw in enumerate(_list(doc["segments"], "segments")):
        path = f"segments[{i}]"
        item = _mapping(raw, path, {"id", "kind", "name"}, {"id", "kind"})
        sid = _identifier(item["id"], f"{path}.id")
        if sid in out:
            raise TopologyError(
                f"{path}.id",
                "duplicate",
                f"segment '{sid}' is declared twice",
                f"セグメント '{sid}' が二度宣言されています",
            )
        kind = _choice(item["kind"], f"{path}.kind", SegmentKind)
        out[sid] = Segment(sid, kind, _text(item.get("name", ""), f"{path}.name"))
    return out


def _rules(value: object, path: str, names: set[str]) -> tuple[Rule, ...]:
    rules = []
    for i, raw in enumerate(_list(value, path)):
        at = f"{path}[{i}]"
        item = _mapping(raw, at, {"from", "to", "action", "service"}, {"from", "to", "action"})
        ends = []
        for key in ("from", "to"):
            ref = item[key]
            if ref != ANY:
                ref = _identifier(ref, f"{at}.{key}")
                if ref not in names:
                    raise TopologyError(
                        f"{at}.{key}",
                        "unknown_name",
                        f"'{ref}' is neither 'any', a segment nor a device",
                        f"'{ref}' は 'any'・セグメント・機器のいずれでもありません",
                    )
            ends.append(ref)
        action = _choice(item["action"], f"{at}.action", Action)
        service = _text(item.get("service", ""), f"{at}.service")
        rules.append(Rule(ends[0], ends[1], action, service))
    return tuple(rules)


def _vlans(
    value: object, path: str, segments: Mapping[str, Segment]
) -> tuple[tuple[int, str], ...]:
    if not isinstance(value, Mapping) or not value:
        raise TopologyError(
            path,
            "vlans",
            "must map each VLAN id to a segment (10: core)",
            "VLAN番号とセグメントの対応（10: core）で書いてください",
        )
    out = []
    for vid, seg in value.items():
        at = f"{path}.{vid}"
        out.append((_integer(vid, at, 1, 4094), _segment_ref(seg, at, segments)))
    return tuple(sorted(out))


def _host_segments(
    item: dict[str, Any], path: str, segments: Mapping[str, Segment]
) -> tuple[str, ...]:
    if ("segment" in item) == ("segments" in item):
        raise TopologyError(
            f"{path}.segment",
            "required",
            "a host needs exactly one of segment or segments",
            "ホストには segment か segments のどちらか一方が必要です",
        )
    if "segment" in item:
        return (_segment_ref(item["segment"], f"{path}.segment", segments),)
    raw = _list(item["segments"], f"{path}.segments")
    refs = tuple(_segment_ref(s, f"{path}.segments[{i}]", segments) for i, s in enumerate(raw))
    if not refs or len(set(refs)) != len(refs):
        raise TopologyError(
            f"{path}.segments",
            "segments",
            "must list one or more different segments",
            "一つ以上の異なるセグメントを並べてください",
        )
    return refs


def _device(raw: object, i: int, segments: Mapping[str, Segment], names: set[str]) -> Device:
    item = _mapping(raw, f"devices[{i}]", COMMON | ALL_FIELDS, {"id", "kind"})
    did = _identifier(item["id"], f"devices[{i}].id")
    path = f"devices[{did}]"
    kind = _choice(item["kind"], f"{path}.kind", DeviceKind)
    _mapping(item, path, COMMON | FIELDS[kind], {"id", "kind"})
    fields: dict[str, Any] = {"name": _text(item.get("name", ""), f"{path}.name")}
    if kind in HOSTS:
        fields["segments"] = _host_segments(item, path, segments)
    elif "segment" in item:
        fields["segments"] = (_segment_ref(item["segment"], f"{path}.segment", segments),)
    if "vlans" in item:
        fields["vlans"] = _vlans(item["vlans"], f"{path}.vlans", segments)
    for key in ("rules", "acl"):
        if key in item:
            fields["rules"] = _rules(item[key], f"{path}.{key}", names)
    if kind in (DeviceKind.ROUTER, DeviceKind.L3_SWITCH):
        fields["default"] = Action.ALLOW  # a router routes unless its ACL says otherwise
    if "default" in item:
        fields["default"] = _choice(item["default"], f"{path}.default", Action)
    if "free_ports" in item:
        fields["free_ports"] = _integer(item["free_ports"], f"{path}.free_ports", 0, MAX_FREE_PORTS)
    if "free_port_vlan" in item:
        fields["free_port_vlan"] = _integer(
            item["free_port_vlan"], f"{path}.free_port_vlan", 1, 4094
        )
    for key in ("caller_id_check", "always_on", "restricted"):
        if key in item:
            fields[key] = _flag(item[key], f"{path}.{key}")
    device = Device(did, kind, **fields)
    _check_device(device, item, path)
    return device


def _check_device(device: Device, item: dict[str, Any], path: str) -> None:
    kind = device.kind
    needed = {
        DeviceKind.L3_SWITCH: "vlans",
        DeviceKind.DIALUP_ROUTER: "segment",
    }.get(kind)
    if needed is not None and needed not in item:
        raise TopologyError(f"{path}.{needed}", "required", "is required", "必須の項目です")
    for key in {
        DeviceKind.DIALUP_ROUTER: ("caller_id_check",),
        DeviceKind.VENDOR_LINE: ("always_on", "restricted"),
    }.get(kind, ()):
        if key not in item:
            raise TopologyError(
                f"{path}.{key}",
                "required",
                "is required: the audit does not guess how a line is protected",
                "必須の項目です（回線の保護方法を推測では判断しません）",
            )
    if kind == DeviceKind.SWITCH and "segment" in item and "vlans" in item:
        raise TopologyError(
            f"{path}.segment",
            "segment_or_vlans",
            "a switch has either one segment or VLANs, not both",
            "スイッチには segment か vlans のどちらか一方を書いてください",
        )
    if device.free_ports and not device.segments and device.free_port_vlan is None:
        raise TopologyError(
            f"{path}.free_ports",
            "free_port_segment",
            "free ports need the segment a plugged-in PC lands in "
            "(segment, or free_port_vlan on a VLAN switch)",
            "空きポートには、接続したパソコンが入るセグメント"
            "（segment、VLANスイッチでは free_port_vlan）が必要です",
        )
    if device.free_port_vlan is not None and device.free_port_vlan not in device.vlan_map:
        raise TopologyError(
            f"{path}.free_port_vlan",
            "unknown_vlan",
            f"VLAN {device.free_port_vlan} is not among this switch's vlans",
            f"VLAN {device.free_port_vlan} はこのスイッチの vlans にありません",
        )


def _devices(doc: dict[str, Any], segments: Mapping[str, Segment]) -> dict[str, Device]:
    raw = _list(doc["devices"], "devices")
    ids: list[str] = []
    for i, item in enumerate(raw):
        if isinstance(item, Mapping) and "id" in item:
            ids.append(_identifier(item["id"], f"devices[{i}].id"))
    names = set(segments) | set(ids)
    out: dict[str, Device] = {}
    for i, item in enumerate(raw):
        device = _device(item, i, segments, names)
        if device.id in out or device.id in segments:
            raise TopologyError(
                f"devices[{i}].id",
                "duplicate",
                f"'{device.id}' is already the name of a device or a segment",
                f"'{device.id}' は既に機器またはセグメントの名前です",
            )
        out[device.id] = device
    return out


def _link(raw: object, path: str, devices: Mapping[str, Device]) -> Link:
    if isinstance(raw, list):
        if len(raw) != 2:
            raise TopologyError(
                path,
                "link",
                "a link lists exactly two devices",
                "リンクには機器を二つ書いてください",
            )
        raw = {"a": raw[0], "b": raw[1]}
    item = _mapping(raw, path, {"a", "b", "vlan", "trunk"}, {"a", "b"})
    ends = []
    for key in ("a", "b"):
        ref = _identifier(item[key], f"{path}.{key}")
        if ref not in devices:
            raise TopologyError(
                f"{path}.{key}",
                "unknown_device",
                f"no device '{ref}'",
                f"機器 '{ref}' がありません",
            )
        ends.append(devices[ref])
    a, b = ends
    if a.id == b.id:
        raise TopologyError(
            path,
            "self_link",
            "a device cannot be linked to itself",
            "機器を自分自身に接続することはできません",
        )
    vlan = _integer(item["vlan"], f"{path}.vlan", 1, 4094) if "vlan" in item else None
    trunk = _flag(item.get("trunk", False), f"{path}.trunk")
    _check_link_vlan(a, b, vlan, trunk, path)
    return Link(a.id, b.id, vlan, trunk)


def _check_link_vlan(a: Device, b: Device, vlan: int | None, trunk: bool, path: str) -> None:
    aware = [d for d in (a, b) if d.kind in VLAN_AWARE and d.has_vlans]
    if trunk:
        if len(aware) != 2 or vlan is not None:
            raise TopologyError(
                f"{path}.trunk",
                "trunk",
                "a trunk joins two VLAN switches and has no single vlan",
                "トランクは VLAN スイッチ同士をつなぐもので、vlan は書きません",
            )
        return
    if aware and vlan is None:
        raise TopologyError(
            f"{path}.vlan",
            "vlan_required",
            f"a port of VLAN switch '{aware[0].id}' needs its vlan (or trunk: true)",
            f"VLAN スイッチ '{aware[0].id}' のポートには vlan（または trunk: true）が必要です",
        )
    if vlan is not None and (not aware or any(vlan not in d.vlan_map for d in aware)):
        raise TopologyError(
            f"{path}.vlan",
            "unknown_vlan",
            f"VLAN {vlan} is not a VLAN of the switch at either end",
            f"VLAN {vlan} は両端のスイッチの VLAN にありません",
        )


def parse_topology(doc: object) -> Topology:
    """Validate a loaded document; raise `TopologyError` at the first problem."""
    top = _mapping(
        doc,
        DOCUMENT,
        {"municipality", "segments", "devices", "links"},
        {"segments", "devices", "links"},
    )
    municipality = _text(top.get("municipality", ""), "municipality")
    segments = _segments(top)
    devices = _devices(top, segments)
    links = tuple(
        _link(raw, f"links[{i}]", devices) for i, raw in enumerate(_list(top["links"], "links"))
    )
    return Topology(municipality, tuple(segments.values()), tuple(devices.values()), links)
