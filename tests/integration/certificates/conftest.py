"""Fixtures for certificate tests: a populated registry and a desk with standalone keys.

The registry is populated once per backend and worker; each test gets a copy of its database
(a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL), so a test may change it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from juki.certificates.model import CertificateKind, CertificateRequest
from juki.certificates.services.issuing import IssuedCertificate
from support.cert_population import CLERK, CertEnv, cert_env, clone_env
from support.db_copies import postgres_copy, sqlite_copy
from support.pgserver import PostgresServer

_TEMPLATE_DB = "cert_env_template"
_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


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


@contextmanager
def _copy_of_template(
    request: pytest.FixtureRequest,
    tmp: Path,
    tmp_path_factory: pytest.TempPathFactory,
    templates: dict[str, CertEnv],
) -> Iterator[CertEnv]:
    """A copy of the backend's populated registry (`request.param`) in `tmp`."""
    server: PostgresServer | None = None
    pg_template: str | None = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        pg_template = request.getfixturevalue("pg_template")
    template = _template(request.param, templates, tmp_path_factory, server, pg_template)
    name = ""
    if server is None:
        url = sqlite_copy(template.tmp / "registry.db", tmp)
    else:
        name, url = postgres_copy(server, _TEMPLATE_DB, "cert")
    e = clone_env(template, url, tmp)
    yield e
    e.engine.dispose()
    if server is not None:
        server.drop_database(name)


@pytest.fixture(params=_BACKENDS, ids=["sqlite", "postgres"])
def env(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _cert_templates: dict[str, CertEnv],
) -> Iterator[CertEnv]:
    """A registry of its own per test, on SQLite and on PostgreSQL."""
    with _copy_of_template(request, tmp_path, tmp_path_factory, _cert_templates) as e:
        yield e


@pytest.fixture(scope="module", params=_BACKENDS, ids=["sqlite", "postgres"])
def read_env(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _cert_templates: dict[str, CertEnv],
) -> Iterator[CertEnv]:
    """One registry per module and backend, for tests that only read it (and may add what
    they then read back, never change what another test reads): a copy like `env`'s, made
    once instead of once per test."""
    tmp = tmp_path_factory.mktemp(f"cert-read-{request.param}")
    with _copy_of_template(request, tmp, tmp_path_factory, _cert_templates) as e:
        yield e


@pytest.fixture(scope="module")
def read_issued(read_env: CertEnv) -> IssuedCertificate:
    """A 住民票 of the head of household issued once in `read_env`, for tests that only read it."""
    request = CertificateRequest(CertificateKind.RESIDENCE, read_env.people.head.resident_code)
    return read_env.desk.issue(CLERK, request)


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
