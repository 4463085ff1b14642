"""Shared fixtures: SQLite and throwaway-PostgreSQL database URLs."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Make helper modules in tests/ (e.g. pgserver) importable without __init__.py files.
sys.path.insert(0, str(Path(__file__).parent))

from pgserver import PostgresServer

# Property tests check behaviour, never speed: no per-example deadline, so a busy CI machine
# (the cores may be shared) cannot fail them.
settings.register_profile("juki", deadline=None, print_blob=True)
settings.load_profile("juki")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the whole test session."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL of a brand-new, empty PostgreSQL database for this test."""
    return postgres_server.create_database(f"t_{uuid.uuid4().hex}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """SQLAlchemy URL of a SQLite database file in this test's tmp_path."""
    return f"sqlite:///{tmp_path}/juki.db"


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test once against SQLite and once against PostgreSQL.

    The PostgreSQL server is only started when the postgres variant is
    selected, so ``-m "not postgres"`` needs no PostgreSQL at all.
    """
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
    else:
        url = request.getfixturevalue("sqlite_url")
    return url
