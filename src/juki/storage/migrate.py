"""Run the Alembic migrations programmatically: the schema is built the same way everywhere."""

from __future__ import annotations

import functools
import sqlite3
import threading
from pathlib import Path
from typing import cast

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from juki.core.files import ensure_private

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class _Template:
    """One SQLite database migrated in memory, copied (sqlite3's backup) into each new file."""

    def __init__(self) -> None:
        self.engine = sa.create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        upgrade(self.engine)
        self.lock = threading.Lock()

    def copy_to(self, path: Path) -> None:
        ensure_private(path)  # owner-only from the start: it will hold the registry
        target = sqlite3.connect(path)
        try:
            with self.lock, self.engine.connect() as conn:
                source = cast(sqlite3.Connection, conn.connection.driver_connection)
                source.backup(target)
        finally:
            target.close()


@functools.cache
def _template() -> _Template:
    return _Template()


def create_migrated(url: str) -> None:
    """Bring the database at `url` to the head revision. A new SQLite file is a copy of a
    template migrated once per process, so a simulation or a test that creates many databases
    runs the migrations once, not once for each (the copy holds the same schema and revision)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        path = Path(database)
        if not path.exists():
            _template().copy_to(path)
            return
    from juki.storage.engine import make_engine

    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
