"""Copies of a database built once, for tests that each need their own: a file copy on SQLite
(with its -wal and -shm), CREATE DATABASE … TEMPLATE on PostgreSQL. Which nodes of a network
go on PostgreSQL in its postgres variant: the municipalities (`is_municipality`)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from support.pgserver import PostgresServer


def is_municipality(node_id: str) -> bool:
    """A prefecture's 団体コード is its two digits, 000 and the check digit (130001)."""
    return node_id != "national" and node_id[2:5] != "000"


def sqlite_copy(source: Path, directory: Path) -> str:
    """The URL of a copy of the SQLite database file `source` in `directory`."""
    for f in source.parent.glob(f"{source.name}*"):
        shutil.copy(f, directory / f.name)
    return f"sqlite:///{directory / source.name}"


def postgres_copy(server: PostgresServer, template: str, prefix: str) -> tuple[str, str]:
    """A new database copied from `template`: its name (to drop) and its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    return name, server.create_database(name, template=template)
