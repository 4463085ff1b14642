"""A SQLite registry, its -wal and -shm files, are readable by their owner only (issue 10 §4),
whichever way the database comes to exist: opened by an engine, or copied from the migrated
template. Run under the common umask 022, which would otherwise leave them world-readable."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from juki.storage.engine import make_engine
from juki.storage.migrate import create_migrated


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(database: Path) -> dict[str, int]:
    return {
        p.name: stat.S_IMODE(p.stat().st_mode)
        for p in database.parent.iterdir()
        if p.name.startswith(database.name)
    }


def test_a_new_database_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "new" / "juki.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x TEXT)"))
            conn.execute(sa.text("INSERT INTO t VALUES ('山田')"))
        with engine.connect() as conn:  # WAL mode: the -wal and -shm files exist while open
            modes = _modes(database)
            assert conn.execute(sa.text("SELECT x FROM t")).scalar_one() == "山田"
    finally:
        engine.dispose()
    assert {"juki.db", "juki.db-wal", "juki.db-shm"} <= set(modes)
    assert set(modes.values()) == {0o600}


def test_a_database_copied_from_the_migrated_template_is_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "juki.db"
    create_migrated(f"sqlite:///{database}")
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT count(*) FROM operators")).scalar_one()
            modes = _modes(database)
    finally:
        engine.dispose()
    assert modes["juki.db"] == 0o600
    assert set(modes.values()) == {0o600}
