"""Database engines: SQLite (WAL, FULL sync) by default, PostgreSQL in production."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from juki.core.console import ConsoleError
from juki.core.files import ensure_private


class DatabaseUrlError(ConsoleError):
    """A database URL juki cannot use; the message is the one line a command prints."""


# The spellings of PostgreSQL a person types (and libpq, psql and Heroku print): juki's driver is
# psycopg 3, which SQLAlchemy would otherwise only use for `postgresql+psycopg://`.
_POSTGRES_SPELLINGS: Final = frozenset({"postgresql", "postgres"})
_SUPPORTED: Final = "sqlite:///PATH or postgresql://USER@HOST/DB"
BUSY_TIMEOUT_S: Final = 30
MMAP_BYTES: Final = 1 << 30  # how much of a SQLite file is read through a memory map
_HOLDS_WRITE_LOCK: Final = "juki.sqlite.write_lock"
_SNAPSHOT_READ: Final = "juki_snapshot_read"
SNAPSHOT_READ: Final = {_SNAPSHOT_READ: True}
"""Execution options for a connection that only reads (`conn.execution_options(**SNAPSHOT_READ)`,
before its first statement): on SQLite its transaction begins deferred, a WAL snapshot that
neither takes nor waits for the write lock, so a reader does not queue behind a writer's long
transaction. Writing on such a connection is a programming error. PostgreSQL ignores it."""


def database_url(url: str | sa.URL) -> sa.URL:
    """The URL juki connects to: parsed, `postgresql://` (or `postgres://`) mapped to the
    psycopg driver, and anything but SQLite or PostgreSQL refused with a one-line reason
    (`DatabaseUrlError`, which the commands print without a traceback)."""
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        # Not echoed: a mistyped URL may still hold a password.
        raise DatabaseUrlError(f"db: not a database URL; use {_SUPPORTED}") from None
    if parsed.drivername in _POSTGRES_SPELLINGS:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise DatabaseUrlError(
            f"db: juki runs on SQLite or PostgreSQL (psycopg), not {parsed.drivername!r}; "
            f"use {_SUPPORTED}"
        )
    return parsed


def is_sqlite(url: str | sa.URL) -> bool:
    return database_url(url).get_backend_name() == "sqlite"


def unreachable(exc: BaseException, url: str | None) -> str | None:
    """The one line a command prints when the database cannot be opened or reached (wrong
    host, port, password, or a directory SQLite cannot write), or None for other errors."""
    # Connecting is the only step that fails without a statement.
    if not isinstance(exc, sa.exc.OperationalError) or exc.statement is not None:
        return None
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
    where = f" {_masked(url)}" if url else ""
    return f"db: cannot open the database{where}: {reason}"


def _masked(url: str) -> str:
    try:
        return database_url(url).render_as_string(hide_password=True)
    except DatabaseUrlError:
        return "(not a URL)"


def make_engine(url: str, *, echo: bool = False, durable: bool = True) -> sa.Engine:
    """Build an engine; for SQLite create the directory and take the write lock up front.

    SQLite's deferred transactions fail with "database is locked" when a reader upgrades to a
    writer under contention; BEGIN IMMEDIATE makes writers queue instead (`_WriterQueue`), and
    only a connection opened with `SNAPSHOT_READ` begins deferred.
    Records of legal effect use synchronous=FULL (STACK-NOTES: NORMAL can lose commits).
    `durable=False` (synchronous=OFF) is only for databases thrown away after the process:
    the simulator's nodes and in-process test networks, whose crashes are simulated above the
    database, where an fsync per commit costs half the run and proves nothing.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                ensure_private(Path(database))  # owner-only before SQLite creates it, -wal, -shm
            except OSError as exc:
                raise DatabaseUrlError(
                    f"db: cannot create the SQLite database {database}: {exc.strerror}"
                ) from None
        engine = sa.create_engine(
            parsed,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
        )
        writers = _WriterQueue()

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
            # 64 MiB of page cache (the default is 2 MiB), taken only as pages are read: a
            # national-size backlog writes random-keyed indexes (resident codes) that miss a
            # small cache on every row (40,000 drained 1.4× faster with it: docs/network.md)
            cur.execute("PRAGMA cache_size=-65536")
            # Reads through a memory map of the file's first GiB: each connection's cache is
            # emptied when another commits, and its pages were then read back one read() each
            # (the levels' CPU draining 100 k fell about 10 %: docs/scale.md). Writes still go
            # through the WAL, fsynced as before.
            cur.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            if conn.get_execution_options().get(_SNAPSHOT_READ):
                _begin(conn, "BEGIN DEFERRED")
                return
            writers.enter(conn)
            try:
                _begin(conn, "BEGIN IMMEDIATE")
            except BaseException:
                writers.leave(conn.info)
                raise

        @sa.event.listens_for(engine, "commit")
        @sa.event.listens_for(engine, "rollback")
        def _on_end(conn: sa.Connection) -> None:
            writers.leave(conn.info)

        @sa.event.listens_for(engine, "checkin")
        def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
            writers.leave(record.info)  # a connection gone back with its transaction open

        return engine
    return sa.create_engine(parsed, echo=echo, pool_pre_ping=True)


class _WriterQueue:
    """An engine's transactions wait for SQLite's write lock here, in the process, rather than
    in SQLite's busy handler, which sleeps between tries (up to 100 ms at a time): a thread
    that wants the lock back-to-back (a receiver applying batch after batch) took it again
    while another (the delivery worker) slept, so a node's threads took turns at a fraction of
    the database's pace. A waiter here wakes when the lock is let go. Other processes and other
    engines on the same file still meet in SQLite's busy handler, and a wait here ends as
    SQLite's would, "database is locked" after the busy timeout — at once for a thread that
    already holds the lock, which could only wait on itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None

    def enter(self, conn: sa.Connection) -> None:
        me = threading.get_ident()
        if self._holder == me or not self._lock.acquire(timeout=BUSY_TIMEOUT_S):
            raise sa.exc.OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            )
        self._holder = me
        conn.info[_HOLDS_WRITE_LOCK] = True

    def leave(self, info: dict[Any, Any]) -> None:
        """Let the lock go, once, however the transaction ended (commit, rollback, or its
        connection returned to the pool)."""
        if info.pop(_HOLDS_WRITE_LOCK, False):
            self._holder = None
            self._lock.release()


def _begin(conn: sa.Connection, statement: str) -> None:
    """BEGIN on the DBAPI connection itself: every transaction, reads included, starts here,
    and `exec_driver_sql` cost each one SQLAlchemy's whole statement path (an execution
    context, events, a result) — about a tenth of a node's CPU per message. A failure is wrapped
    as SQLAlchemy would (`sa.exc.OperationalError` for "database is locked"), so callers that
    map or retry it see the same exception."""
    try:
        conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(
            statement, None, exc, sqlite3.Error, dialect=conn.dialect
        ) from exc


def open_existing(url: str) -> sa.Engine:
    """An engine for a database that must already exist at the current schema: never create an
    empty SQLite file, and say what to run when it is missing or behind."""
    from juki.core.settings import masked_url

    parsed = database_url(url)
    database = parsed.database or ""
    is_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_file and not Path(database).exists():
        raise ConsoleError(
            f"db: {masked_url(url)} does not exist; run `juki seed` or `juki db upgrade` first"
        )
    engine = make_engine(url)
    try:
        require_schema(engine, url)
    except BaseException:
        engine.dispose()
        raise
    return engine


def require_schema(engine: sa.Engine, url: str) -> None:
    from juki.core.settings import masked_url
    from juki.storage.migrate import current_revision, head_revision

    current = current_revision(engine)
    if current != head_revision():
        raise ConsoleError(
            f"db: {masked_url(url)} is not a juki registry at the current schema "
            f"(revision {current or 'none'}); run `juki seed` or `juki db upgrade` first"
        )
