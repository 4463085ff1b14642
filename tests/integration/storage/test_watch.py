"""The database watch wakes a node when another connection commits work, and only then: on
PostgreSQL a NOTIFY sent when the announcing transaction commits (none if it rolls back); on
SQLite a change of `data_version`, which a committed write makes and a read does not."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from juki.storage.engine import make_engine
from juki.storage.watch import DatabaseWatch, announce


class Wakes:
    def __init__(self) -> None:
        self.count = 0
        self.event = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()


def _watching(engine: sa.Engine, wakes: Wakes) -> DatabaseWatch:
    watch = DatabaseWatch(engine, wakes, poll=0.01)
    watch.start()
    assert watch.ready.wait(30)
    return watch


@pytest.mark.postgres
def test_an_announced_commit_wakes_the_listener_once_and_a_rollback_not_at_all(
    pg_url: str,
) -> None:
    engine = make_engine(pg_url)
    wakes = Wakes()
    watch = _watching(engine, wakes)
    try:
        with engine.connect() as conn:
            with conn.begin() as tx:
                announce(conn)
                tx.rollback()
            with conn.begin():
                announce(conn)
                announce(conn)  # one NOTIFY per transaction
        assert wakes.event.wait(30)
        # Notifications arrive in commit order: the rolled-back one would have come first.
        assert wakes.count == 1
    finally:
        watch.join(timeout=30)
        engine.dispose()
    assert not watch.thread.is_alive()


def test_a_commit_by_another_connection_wakes_the_sqlite_watch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'node.db'}"
    engine, other = make_engine(url), make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    wakes = Wakes()
    watch = _watching(engine, wakes)
    try:
        assert wakes.count == 0
        with other.begin() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        assert wakes.event.wait(30)
    finally:
        watch.join(timeout=30)
        engine.dispose()
        other.dispose()
    assert not watch.thread.is_alive()


def test_sqlite_data_version_moves_on_a_committed_write_not_on_a_read(tmp_path: Path) -> None:
    """Why the watch costs a busy node nothing extra on reads: every transaction, reads too,
    begins IMMEDIATE (storage.engine), yet only a write changes the version it reads."""
    url = f"sqlite:///{tmp_path / 'node.db'}"
    engine, other = make_engine(url), make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    watcher = sqlite3.connect(tmp_path / "node.db", isolation_level=None)  # as the watch reads

    def version() -> int:
        return int(watcher.execute("PRAGMA data_version").fetchone()[0])

    try:
        before = version()
        with other.begin() as conn:
            conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one()
        assert version() == before
        with other.begin() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        assert version() != before
    finally:
        watcher.close()
        engine.dispose()
        other.dispose()


def test_an_in_memory_database_has_nothing_to_watch() -> None:
    assert not DatabaseWatch.supported(make_engine("sqlite://"))
    assert DatabaseWatch.supported(make_engine("postgresql://juki@localhost/juki"))


def test_announce_does_nothing_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    with engine.begin() as conn:
        announce(conn)
        assert "juki_announced" not in conn.info
    engine.dispose()


@pytest.mark.postgres
def test_messages_queued_as_a_batch_wake_the_node_as_one_queued_alone(
    migrated_pg_url: str,
) -> None:
    """`Node.send_many` (the batch store) announces its queued messages like `Node.send`."""
    from datetime import UTC, datetime

    from juki.network import batch_store

    engine = make_engine(migrated_pg_url)
    wakes = Wakes()
    watch = _watching(engine, wakes)
    try:
        with engine.begin() as conn:
            batch_store.enqueue(
                conn,
                "130001",
                [("link_skip", 1, {"seq": 1}, "01890000-0000-7000-8000-000000000001")],
                datetime(2025, 4, 1, tzinfo=UTC),
            )
        assert wakes.event.wait(30)
    finally:
        watch.join(timeout=30)
        engine.dispose()
