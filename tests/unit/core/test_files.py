"""Key, token and personal-data files are their owner's alone from the first byte."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from juki.core.files import ensure_private, replace_private, write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_private_creates_an_owner_only_file_once(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    write_private(path, b"secret")
    assert path.read_bytes() == b"secret"
    assert _mode(path) == 0o600
    with pytest.raises(FileExistsError):
        write_private(path, b"other")
    assert path.read_bytes() == b"secret"


def test_replace_private_swaps_the_whole_file_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "print" / "certificate.pdf"
    replace_private(path, b"first")
    replace_private(path, b"second")
    assert path.read_bytes() == b"second"
    assert _mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["certificate.pdf"]


def test_ensure_private_creates_an_empty_owner_only_file_and_keeps_an_existing_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "var" / "juki.db"
    ensure_private(path)
    assert path.read_bytes() == b""
    assert _mode(path) == 0o600
    path.write_bytes(b"records")
    ensure_private(path)
    assert path.read_bytes() == b"records"
