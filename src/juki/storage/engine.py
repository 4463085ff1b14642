"""Database engines: SQLite (WAL, FULL sync) by default, PostgreSQL in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from juki.core.files import ensure_private


def is_sqlite(url: str | sa.URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False, durable: bool = True) -> sa.Engine:
    """Build an engine; for SQLite create the directory and take the write lock up front.

    SQLite's deferred transactions fail with "database is locked" when a reader upgrades to a
    writer under contention; BEGIN IMMEDIATE makes writers queue on busy_timeout instead.
    Records of legal effect use synchronous=FULL (STACK-NOTES: NORMAL can lose commits).
    `durable=False` (synchronous=OFF) is only for databases thrown away after the process:
    the simulator's nodes and in-process test networks, whose crashes are simulated above the
    database, where an fsync per commit costs half the run and proves nothing.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            ensure_private(Path(database))  # owner-only, before SQLite creates it (and -wal, -shm)
        engine = sa.create_engine(
            parsed, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(parsed, echo=echo, pool_pre_ping=True)


def open_existing(url: str) -> sa.Engine:
    """An engine for a database that must already exist at the current schema: never create an
    empty SQLite file, and say what to run when it is missing or behind."""
    from juki.core.console import ConsoleError
    from juki.core.settings import masked_url

    parsed = make_url(url)
    database = parsed.database or ""
    is_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_file and not Path(database).exists():
        raise ConsoleError(
            f"db: {masked_url(url)} does not exist; run `juki seed` or `juki db upgrade` first"
        )
    engine = make_engine(url)
    try:
        require_schema(engine, url)
    except ConsoleError:
        engine.dispose()
        raise
    return engine


def require_schema(engine: sa.Engine, url: str) -> None:
    from juki.core.console import ConsoleError
    from juki.core.settings import masked_url
    from juki.storage.migrate import current_revision, head_revision

    current = current_revision(engine)
    if current != head_revision():
        raise ConsoleError(
            f"db: {masked_url(url)} is not a juki registry at the current schema "
            f"(revision {current or 'none'}); run `juki seed` or `juki db upgrade` first"
        )
