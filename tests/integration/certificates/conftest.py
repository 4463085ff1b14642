"""Fixtures for certificate tests: a populated registry and a desk with standalone keys.

The registry is populated once per backend and worker; each test gets a copy of its database
(a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL), so a test may change it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cert_population import CertEnv, cert_env, clone_env
from support.db_copies import postgres_copy, sqlite_copy
from support.pgserver import PostgresServer

_TEMPLATE_DB = "cert_env_template"


@pytest.fixture(scope="session")
def _cert_templates() -> dict[str, CertEnv]:
    return {}


def _template(
    backend: str,
    templates: dict[str, CertEnv],
    tmp_path_factory: pytest.TempPathFactory,
    server: PostgresServer | None,
    pg_template: str | None,
) -> CertEnv:
    if backend not in templates:
        tmp = tmp_path_factory.mktemp(f"cert-template-{backend}")
        if server is None:
            url = f"sqlite:///{tmp}/registry.db"
        else:
            url = server.create_database(_TEMPLATE_DB, template=pg_template)
        built = cert_env(url, tmp)
        built.engine.dispose()
        templates[backend] = built
    return templates[backend]


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def env(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _cert_templates: dict[str, CertEnv],
) -> Iterator[CertEnv]:
    """A registry of its own per test, on SQLite and on PostgreSQL."""
    server: PostgresServer | None = None
    pg_template: str | None = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        pg_template = request.getfixturevalue("pg_template")
    template = _template(request.param, _cert_templates, tmp_path_factory, server, pg_template)
    name = ""
    if server is None:
        url = sqlite_copy(template.tmp / "registry.db", tmp_path)
    else:
        name, url = postgres_copy(server, _TEMPLATE_DB, "cert")
    e = clone_env(template, url, tmp_path)
    yield e
    e.engine.dispose()
    if server is not None:
        server.drop_database(name)


@pytest.fixture(scope="module")
def shared_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertEnv]:
    """One SQLite registry per module, for tests that only read or add certificates."""
    tmp = tmp_path_factory.mktemp("certs")
    e = cert_env(f"sqlite:///{tmp}/registry.db", tmp)
    yield e
    e.engine.dispose()


@pytest.fixture(scope="module")
def module_env(
    tmp_path_factory: pytest.TempPathFactory, _cert_templates: dict[str, CertEnv]
) -> Iterator[CertEnv]:
    """One SQLite registry per module, copied from the session's populated template (building
    one costs seconds; copying it, milliseconds), for a module whose tests change records."""
    template = _template("sqlite", _cert_templates, tmp_path_factory, None, None)
    tmp = tmp_path_factory.mktemp("module-env")
    e = clone_env(template, sqlite_copy(template.tmp / "registry.db", tmp), tmp)
    yield e
    e.engine.dispose()
