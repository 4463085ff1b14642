"""The directory verifies against the root and refuses what the root did not sign."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from juki.network import pki
from juki.network.directory import Directory, DirectoryEntry, DirectoryError, NodeKind, NodeStatus

NOW = datetime(2025, 4, 1, tzinfo=UTC)
ROOT_KEY, ROOT = pki.create_root(NOW)


def entry(
    node_id: str, kind: NodeKind, name: str, parent: str | None, root_key=ROOT_KEY, root=ROOT
) -> DirectoryEntry:  # type: ignore[no-untyped-def]
    key = pki.generate_key()
    cert = pki.issue_certificate(
        root_key, root, node_id=node_id, kind=kind.value, public_key=key.public_key(), now=NOW
    )
    return DirectoryEntry(
        node_id, kind, name, parent, f"https://127.0.0.1/{node_id}", pki.cert_to_pem(cert).decode()
    )


def directory() -> Directory:
    return Directory(
        serial=1,
        issued_at=NOW.isoformat(),
        entries=(
            entry("national", NodeKind.NATIONAL, "機構", None),
            entry("130001", NodeKind.PREFECTURE, "東京都", "national"),
            entry("132250", NodeKind.MUNICIPALITY, "東京都稲城市", "130001"),
            entry("132292", NodeKind.MUNICIPALITY, "東京都西東京市", "130001"),
        ),
    ).signed(ROOT_KEY)


def test_round_trip_and_queries() -> None:
    d = Directory.from_bytes(directory().to_bytes(), ROOT, NOW)
    assert [e.node_id for e in d.children("130001")] == ["132250", "132292"]
    assert d.municipality_at("東京都西東京市田無町1番地") is not None
    assert d.municipality_at("東京都西東京市田無町1番地").node_id == "132292"  # type: ignore[union-attr]
    assert d.municipality_at("大阪府大阪市") is None
    off = d.with_status("132250", NodeStatus.DISCONNECTED, NOW.isoformat())
    assert off.serial == 2
    assert not off.is_active("132250")


def test_forged_directory_is_refused() -> None:
    other_key, _ = pki.create_root(NOW)
    forged = dataclasses.replace(directory(), signature="").signed(other_key)
    with pytest.raises(DirectoryError, match="signature"):
        Directory.from_bytes(forged.to_bytes(), ROOT, NOW)


def test_entry_certified_by_another_root_is_refused() -> None:
    other_key, other_root = pki.create_root(NOW)
    rogue = entry("132250", NodeKind.MUNICIPALITY, "東京都稲城市", "130001", other_key, other_root)
    d = Directory(serial=1, issued_at=NOW.isoformat(), entries=(rogue,)).signed(ROOT_KEY)
    with pytest.raises(DirectoryError, match="not issued by the network root"):
        Directory.from_bytes(d.to_bytes(), ROOT, NOW)


def test_expired_certificate_is_refused() -> None:
    with pytest.raises(DirectoryError, match="validity"):
        Directory.from_bytes(directory().to_bytes(), ROOT, NOW + timedelta(days=900))
