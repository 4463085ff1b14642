"""Shared fixtures: SQLite and throwaway-PostgreSQL database URLs, empty or migrated.

A migrated SQLite database is a copy of a template migrated once per process (see
`juki.storage.migrate.create_migrated`); a migrated PostgreSQL database comes from a pool of
copies of a template migrated once per session, emptied between tests (`DatabasePool`). Tests
neither run the migrations nor create databases each.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Make the shared helpers (tests/support) importable as `support` without __init__.py files.
sys.path.insert(0, str(Path(__file__).parent))

from juki.storage.engine import make_engine
from juki.storage.migrate import create_migrated, upgrade
from support.db_copies import is_municipality
from support.memory_tmp import remove_memory_tmp, use_memory_tmp
from support.pgserver import DatabasePool, PostgresServer
from support.scheduling import SharedPackageScheduling

# Property tests check behaviour, never speed: no per-example deadline, so a busy CI machine
# (the cores may be shared) cannot fail them.
settings.register_profile("juki", deadline=None, print_blob=True)
settings.load_profile("juki")


def pytest_configure(config: pytest.Config) -> None:
    use_memory_tmp(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    remove_memory_tmp(config)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadscope`, except that a package whose modules share a package-scoped fixture
    (SHARED_PACKAGES) goes to one worker as a whole, its modules one after the other."""
    if config.getoption("dist") != "loadscope":
        return None
    return SharedPackageScheduling(config, log)


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


PG_TEMPLATE = "juki_migrated_template"


@pytest.fixture(scope="session")
def pg_template(postgres_server: PostgresServer) -> str:
    """A PostgreSQL database at the head revision, copied by `migrated_pg_url`."""
    url = postgres_server.create_database(PG_TEMPLATE)
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return PG_TEMPLATE


@pytest.fixture(scope="session")
def pg_pool(postgres_server: PostgresServer, pg_template: str) -> DatabasePool:
    return DatabasePool(postgres_server, pg_template)


@pytest.fixture
def migrated_pg_url(pg_pool: DatabasePool) -> Iterator[str]:
    """An empty PostgreSQL database at the head revision, for this test alone."""
    url = pg_pool.take()
    yield url
    pg_pool.give_back(url)


@pytest.fixture
def restructured_pg_url(pg_pool: DatabasePool) -> Iterator[str]:
    """The same, for a test that changes the schema itself (partitions a table, …): the
    database is dropped afterwards instead of going back to the pool."""
    url = pg_pool.take()
    yield url
    pg_pool.discard(url)


@pytest.fixture
def migrated_sqlite_url(sqlite_url: str) -> str:
    """A new SQLite database at the head revision."""
    create_migrated(sqlite_url)
    return sqlite_url


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def migrated_db_url(request: pytest.FixtureRequest) -> str:
    """`db_url`, at the head revision already."""
    fixture = "migrated_pg_url" if request.param == "postgres" else "migrated_sqlite_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def node_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """For an in-process network: each node's database URL. In the postgres variant the
    municipalities' databases (the registries and CSs such tests are about) are on PostgreSQL,
    from the pool and given back after the test; the prefectures' and the national node's stay
    on SQLite, as nodes of one network may run on different databases."""

    def sqlite(node_id: str) -> str:
        return f"sqlite:///{tmp_path}/{node_id}.db"

    if request.param == "sqlite":
        yield sqlite
        return
    pool: DatabasePool = request.getfixturevalue("pg_pool")
    taken: list[str] = []

    def mixed(node_id: str) -> str:
        if not is_municipality(node_id):
            return sqlite(node_id)
        taken.append(pool.take())
        return taken[-1]

    yield mixed
    for url in taken:
        pool.give_back(url)


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SoftHSM2 with a token directory of this run's own; the PKCS#11 module's path. Cards are
    made with `support.softhsm.new_card` under labels unique to each test."""
    from support.softhsm import configure, softhsm_module

    configure(tmp_path_factory.mktemp("softhsm"))
    return softhsm_module()
