"""The migrations build exactly the schema the code describes, on both backends."""

from __future__ import annotations

import re

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from juki.storage.engine import make_engine
from juki.storage.migrate import MIGRATIONS, current_revision, head_revision, upgrade
from support.schema import all_tables


def test_migrations_build_the_declared_schema(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), all_tables())
        assert diff == []
        upgrade(engine)  # a second run is a no-op
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_revision_files_are_numbered() -> None:
    names = sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py"))
    assert names
    for index, name in enumerate(names, start=1):
        assert re.fullmatch(rf"{index:04d}_[a-z0-9_]+\.py", name), name
