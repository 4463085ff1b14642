"""SQLite transactions begin with BEGIN IMMEDIATE, reads too, issued on the DBAPI connection
(not through SQLAlchemy's statement path, which cost every transaction a whole execution): a
reader holds the write lock, and a lock that cannot be had is still SQLAlchemy's
OperationalError "database is locked", which the web maps to 503 and the receiver retries.
An engine's own threads wait for one another in the process, and a connection opened for
`SNAPSHOT_READ` reads without the lock."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from juki.storage.engine import SNAPSHOT_READ, make_engine
from juki.web.errors import is_transient


def _impatient(engine: sa.Engine) -> sa.Engine:
    """busy_timeout 0: a held lock fails at once instead of after 30 s."""

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    sa.event.listen(engine, "connect", on_connect)
    return engine


def test_a_reading_transaction_holds_the_write_lock_and_a_second_one_is_refused_as_locked(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    first, second = make_engine(url), _impatient(make_engine(url))
    try:
        with first.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        with first.connect() as reader:
            assert reader.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 0
            with pytest.raises(sa.exc.OperationalError) as info, second.begin():
                pass
            assert "database is locked" in str(info.value.orig)
            assert info.value.statement == "BEGIN IMMEDIATE"
            assert is_transient(info.value)  # the web answers 503, not 500
        with second.begin() as conn:  # released with the reader's transaction
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    finally:
        first.dispose()
        second.dispose()


def test_a_snapshot_read_neither_takes_nor_waits_for_the_write_lock(tmp_path: Path) -> None:
    """The delivery worker reads its next batch on a snapshot while the receiver's transaction
    holds the write lock: it sees what was committed before, and a writer is not held up."""
    engine = make_engine(f"sqlite:///{tmp_path / 'snap.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        with engine.connect() as writer:
            writer.execute(sa.text("INSERT INTO t VALUES (2)"))  # holds the write lock
            reader = engine.execution_options(**SNAPSHOT_READ)
            with reader.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1
                writer.commit()  # the snapshot does not hold the writer up either
            with reader.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 2
    finally:
        engine.dispose()


def _in_thread(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_a_writer_waits_in_the_process_and_goes_when_the_lock_is_let_go(tmp_path: Path) -> None:
    """Two threads of one engine: the second waits for the first's transaction (in the
    engine's queue, not SQLite's sleeping busy handler) and goes once it has committed."""
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        began = threading.Event()
        seen: list[int] = []

        def second() -> None:
            began.set()
            with engine.begin() as conn:
                seen.append(conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one())

        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            thread = _in_thread(second)
            assert began.wait(30)
            thread.join(0.2)
            assert thread.is_alive() and seen == []  # still waiting for this transaction
        thread.join(30)
        assert seen == [1]
    finally:
        engine.dispose()


def test_the_lock_is_let_go_however_a_transaction_ends(tmp_path: Path) -> None:
    """Rolled back, failed, left open on a connection closed or on one dropped: the engine's
    next transaction begins (it would otherwise wait out the busy timeout, then fail)."""
    url = f"sqlite:///{tmp_path / 'ends.db'}"
    engine, other = _impatient(make_engine(url)), make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))

        def fails() -> None:
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO t VALUES (1)"))
                raise ZeroDivisionError  # rolled back

        with pytest.raises(ZeroDivisionError):
            fails()
        left_open = engine.connect()
        left_open.execute(sa.text("INSERT INTO t VALUES (2)"))
        left_open.close()  # returned to the pool with its transaction open
        dropped = engine.connect()
        dropped.execute(sa.text("INSERT INTO t VALUES (2)"))
        del dropped  # never closed: the pool takes it back when it is collected
        gc.collect()
        with other.connect() as holder:  # another engine holds SQLite's lock: BEGIN fails
            holder.execute(sa.text("INSERT INTO t VALUES (3)"))
            with pytest.raises(sa.exc.OperationalError), engine.begin():
                pass
            holder.rollback()
        done: list[int] = []

        def count() -> None:
            with engine.begin() as conn:
                done.append(conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one())

        _in_thread(count).join(30)
        assert done == [0]
    finally:
        engine.dispose()
        other.dispose()


def test_a_thread_that_holds_the_lock_is_refused_a_second_transaction_at_once(
    tmp_path: Path,
) -> None:
    """A second transaction of the same engine in the thread that holds the first could only
    wait on itself: "database is locked" at once, not after the busy timeout."""
    engine = make_engine(f"sqlite:///{tmp_path / 'self.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        outcome: list[str] = []

        def nested() -> None:
            with engine.begin() as first:
                first.execute(sa.text("INSERT INTO t VALUES (1)"))
                try:
                    with engine.begin():
                        outcome.append("began")
                except sa.exc.OperationalError as exc:
                    outcome.append(str(exc.orig))

        thread = _in_thread(nested)
        thread.join(10)  # far less than the 30 s a wait would take
        assert outcome == ["database is locked"]
        with engine.begin() as conn:  # the first committed and let go
            assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1
    finally:
        engine.dispose()
