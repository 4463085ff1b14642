"""A municipality's network as the audit sees it: segments, devices, links and rules.

The four segments are those of seed 000 §2.4: 基幹系 (core), 情報系 (info), 公開系 (public, the
DMZ) and 住基 (juki). Devices are hosts (servers, the CS, terminals), the devices that carry
traffic (hubs, switches with or without VLANs, L3 switches, routers, firewalls, dial-up
routers) and the places traffic can come from (the Internet, a vendor's remote line). A
firewall's rules are kept as written so that the audit evaluates them, first match wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SegmentKind(StrEnum):
    CORE = "core"  # 基幹系
    INFO = "info"  # 情報系
    PUBLIC = "public"  # 公開系 (DMZ)
    JUKI = "juki"  # 住基


SEGMENT_NAMES_JA = {
    SegmentKind.CORE: "基幹系",
    SegmentKind.INFO: "情報系",
    SegmentKind.PUBLIC: "公開系",
    SegmentKind.JUKI: "住基",
}


class DeviceKind(StrEnum):
    SERVER = "server"
    CS = "cs"  # 住基CSサーバ
    TERMINAL = "terminal"
    HUB = "hub"
    SWITCH = "switch"
    L3_SWITCH = "l3_switch"
    ROUTER = "router"
    FIREWALL = "firewall"
    DIALUP_ROUTER = "dialup_router"
    VENDOR_LINE = "vendor_line"
    INTERNET = "internet"


DEVICE_NAMES_JA = {
    DeviceKind.SERVER: "サーバ",
    DeviceKind.CS: "住基CSサーバ",
    DeviceKind.TERMINAL: "端末",
    DeviceKind.HUB: "HUB",
    DeviceKind.SWITCH: "スイッチ",
    DeviceKind.L3_SWITCH: "レイヤ3スイッチ",
    DeviceKind.ROUTER: "ルータ",
    DeviceKind.FIREWALL: "ファイアウォール",
    DeviceKind.DIALUP_ROUTER: "ダイアルアップルータ",
    DeviceKind.VENDOR_LINE: "委託業者回線",
    DeviceKind.INTERNET: "インターネット",
}

HOSTS = frozenset({DeviceKind.SERVER, DeviceKind.CS, DeviceKind.TERMINAL})
# Where traffic comes from: they send, and (the Internet) answer, but never forward.
ENDPOINTS = HOSTS | {DeviceKind.INTERNET, DeviceKind.VENDOR_LINE}
VLAN_AWARE = frozenset({DeviceKind.SWITCH, DeviceKind.L3_SWITCH})
# Devices that decide, packet by packet, whether to pass traffic between their ports.
FILTERING = frozenset({DeviceKind.FIREWALL, DeviceKind.ROUTER, DeviceKind.L3_SWITCH})
ANY = "any"


class Action(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True)
class Rule:
    """One firewall (or router / L3 switch ACL) rule: `src` may send to `dst`, or not.

    `src` and `dst` are "any", a segment id or a device id; `service` is the operator's note of
    the ports ("tcp/443"): the audit treats any open service as a passage (seed 000 §2.4.8).
    """

    src: str
    dst: str
    action: Action
    service: str = ""


@dataclass(frozen=True)
class Segment:
    id: str
    kind: SegmentKind
    name: str = ""


@dataclass(frozen=True)
class Device:
    """A device; the fields that do not apply to its kind keep their defaults (the parser
    refuses them in the document)."""

    id: str
    kind: DeviceKind
    name: str = ""
    segments: tuple[str, ...] = ()  # a host's segments (more than one: multi-homed)
    vlans: tuple[tuple[int, str], ...] = ()  # a VLAN-aware switch: VLAN id → segment id
    rules: tuple[Rule, ...] = ()  # firewall rules, router and L3 switch ACLs
    default: Action = Action.DENY
    free_ports: int = 0
    free_port_vlan: int | None = None
    caller_id_check: bool = False  # dial-up router: 発信者番号チェック
    always_on: bool = True  # vendor line: connectable at any time
    restricted: bool = False  # vendor line: caller id or call-back limits it to the vendor

    @property
    def vlan_map(self) -> dict[int, str]:
        return dict(self.vlans)

    @property
    def has_vlans(self) -> bool:
        return bool(self.vlans)


@dataclass(frozen=True)
class Link:
    """A cable (or line) between two devices. `vlan` is the access VLAN of the port on the
    VLAN-aware end; `trunk` carries every VLAN between two VLAN-aware devices."""

    a: str
    b: str
    vlan: int | None = None
    trunk: bool = False


@dataclass(frozen=True)
class Topology:
    municipality: str
    segments: tuple[Segment, ...]
    devices: tuple[Device, ...]
    links: tuple[Link, ...]
    _by_id: dict[str, Device] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({d.id: d for d in self.devices})

    def device(self, device_id: str) -> Device:
        return self._by_id[device_id]

    def has_device(self, device_id: str) -> bool:
        return device_id in self._by_id

    def segment_kind(self, segment_id: str) -> SegmentKind | None:
        for s in self.segments:
            if s.id == segment_id:
                return s.kind
        return None

    def segment_kinds_of(self, device_id: str) -> frozenset[SegmentKind]:
        kinds = {s.id: s.kind for s in self.segments}
        return frozenset(kinds[s] for s in self.device(device_id).segments if s in kinds)

    def with_device(self, device: Device) -> Topology:
        """The same network with `device` in place of the device of that id (what-if)."""
        devices = tuple(device if d.id == device.id else d for d in self.devices)
        return Topology(self.municipality, self.segments, devices, self.links)
