"""Every SQLite connection juki opens is set up as the nodes' durability and speed need: WAL,
an fsync per commit (unless thrown away after the process), a 64 MiB page cache, and reads
through a memory map. SQLite clamps a memory map to what its build allows, silently, so the
value read back is the one this build applies (docs/scale.md measures what it saves)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from juki.storage.engine import MMAP_BYTES, make_engine


def _pragma(engine: sa.Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


@pytest.mark.parametrize(("durable", "synchronous"), [(True, 2), (False, 0)])
def test_sqlite_connection_pragmas_hold_for_durable_and_throwaway_databases(
    tmp_path: Path, durable: bool, synchronous: int
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}", durable=durable)
    try:
        assert _pragma(engine, "journal_mode") == "wal"
        assert _pragma(engine, "synchronous") == synchronous  # FULL, or OFF
        assert _pragma(engine, "cache_size") == -65536
        assert _pragma(engine, "mmap_size") == MMAP_BYTES
        assert _pragma(engine, "foreign_keys") == 1
    finally:
        engine.dispose()
