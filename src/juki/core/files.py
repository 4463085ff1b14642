"""Files that hold keys, tokens or personal data: readable by their owner only, from the start."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(path: Path, data: bytes) -> None:
    """Create a new file only its owner can read, without a moment of wider permissions; an
    existing file is an error (a key is never overwritten by accident)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def ensure_private(path: Path) -> None:
    """Create an empty file only its owner can read, unless it exists: a SQLite database is
    created this way before SQLite opens it, and SQLite gives its -wal and -shm files the
    database file's permissions, so the records never sit in a world-readable file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def replace_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, atomically: readers see the old or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
