"""The directory the national node publishes: every node, its endpoint, certificate and status.

Like X-Road's global configuration, it is one signed document; nodes refresh it and refuse
messages from nodes that are not in it or are marked disconnected in it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from juki.network import pki
from juki.network.envelope import canonical_json

NATIONAL_ID = "national"


class NodeKind(StrEnum):
    MUNICIPALITY = "municipality"
    PREFECTURE = "prefecture"
    NATIONAL = "national"


class NodeStatus(StrEnum):
    ACTIVE = "active"
    DISCONNECTED = "disconnected"  # 離脱: its traffic waits in the outboxes


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    node_id: str  # lg_code for municipalities and prefectures, "national" for J-LIS
    kind: NodeKind
    name: str  # 東京都稲城市 / 東京都 / 地方公共団体情報システム機構
    parent: str | None  # a municipality's prefecture; a prefecture's national node
    endpoint: str
    certificate_pem: str
    status: NodeStatus = NodeStatus.ACTIVE

    def as_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "kind": self.kind.value,
            "name": self.name,
            "parent": self.parent,
            "endpoint": self.endpoint,
            "certificate_pem": self.certificate_pem,
            "status": self.status.value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DirectoryEntry:
        return cls(
            node_id=str(data["node_id"]),
            kind=NodeKind(data["kind"]),
            name=str(data["name"]),
            parent=data["parent"],
            endpoint=str(data["endpoint"]),
            certificate_pem=str(data["certificate_pem"]),
            status=NodeStatus(data["status"]),
        )


class DirectoryError(Exception):
    pass


@dataclass(frozen=True)
class Directory:
    serial: int
    issued_at: str
    entries: tuple[DirectoryEntry, ...]
    signature: str = ""
    # Looked up for every message received (its sender's kind and parent): a plain dict, not a
    # cached_property, whose lock in Python 3.11 cost more than the lookup.
    _by_id: dict[str, DirectoryEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {e.node_id: e for e in self.entries})

    def _unsigned(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "issued_at": self.issued_at,
            "entries": [e.as_json() for e in sorted(self.entries, key=lambda e: e.node_id)],
        }

    def signed(self, root_key: pki.PrivateKey) -> Directory:
        sig = pki.sign(root_key, canonical_json(self._unsigned()))
        return replace(self, signature=base64.b64encode(sig).decode("ascii"))

    def to_bytes(self) -> bytes:
        data = self._unsigned()
        data["signature"] = self.signature
        return canonical_json(data)

    @classmethod
    def from_bytes(cls, raw: bytes, root: x509.Certificate, at: datetime) -> Directory:
        """Parse and verify: the root signed it, and the root certified every node's key."""
        try:
            data = json.loads(raw)
            directory = cls(
                serial=int(data["serial"]),
                issued_at=str(data["issued_at"]),
                entries=tuple(DirectoryEntry.from_json(e) for e in data["entries"]),
                signature=str(data["signature"]),
            )
            sig = base64.b64decode(directory.signature, validate=True)
        except (ValueError, KeyError, TypeError) as exc:
            raise DirectoryError(f"malformed directory: {exc}") from exc
        if not pki.verify(pki.public_key_of(root), sig, canonical_json(directory._unsigned())):
            raise DirectoryError("directory signature does not verify against the network root")
        for entry in directory.entries:
            try:
                named = pki.check_issued_by(directory.certificate(entry.node_id), root, at)
            except ValueError as exc:
                raise DirectoryError(f"{entry.node_id}: {exc}") from exc
            if named.node_id != entry.node_id or named.kind != entry.kind.value:
                raise DirectoryError(f"{entry.node_id}: certificate names {named.node_id}")
        return directory

    @cached_property
    def _certs(self) -> dict[str, x509.Certificate]:
        return {e.node_id: pki.cert_from_pem(e.certificate_pem) for e in self.entries}

    def get(self, node_id: str) -> DirectoryEntry | None:
        return self._by_id.get(node_id)

    def require(self, node_id: str) -> DirectoryEntry:
        entry = self.get(node_id)
        if entry is None:
            raise DirectoryError(f"{node_id} is not in the directory")
        return entry

    def certificate(self, node_id: str) -> x509.Certificate:
        return self._certs[node_id]

    def public_key(self, node_id: str) -> ec.EllipticCurvePublicKey:
        return pki.public_key_of(self.certificate(node_id))

    def is_active(self, node_id: str) -> bool:
        entry = self.get(node_id)
        return entry is not None and entry.status is NodeStatus.ACTIVE

    def of_kind(self, kind: NodeKind) -> list[DirectoryEntry]:
        return sorted((e for e in self.entries if e.kind is kind), key=lambda e: e.node_id)

    def children(self, node_id: str) -> list[DirectoryEntry]:
        return sorted((e for e in self.entries if e.parent == node_id), key=lambda e: e.node_id)

    def municipality_at(self, address: str) -> DirectoryEntry | None:
        """The municipality whose name an address (住所 or 本籍) begins with, longest first."""
        best: DirectoryEntry | None = None
        for e in self.of_kind(NodeKind.MUNICIPALITY):
            if address.startswith(e.name) and (best is None or len(e.name) > len(best.name)):
                best = e
        return best

    def with_status(self, node_id: str, status: NodeStatus, issued_at: str) -> Directory:
        self.require(node_id)
        entries = tuple(
            replace(e, status=status) if e.node_id == node_id else e for e in self.entries
        )
        return Directory(serial=self.serial + 1, issued_at=issued_at, entries=entries)
