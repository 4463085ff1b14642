"""Fixtures for certificate tests: a populated registry and a desk with standalone keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cert_population import CertEnv, cert_env


@pytest.fixture
def env(migrated_db_url: str, tmp_path: Path) -> Iterator[CertEnv]:
    """A fresh registry per test, on SQLite and on PostgreSQL."""
    e = cert_env(migrated_db_url, tmp_path)
    yield e
    e.engine.dispose()


@pytest.fixture(scope="module")
def shared_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertEnv]:
    """One SQLite registry per module, for tests that only read or add certificates."""
    tmp = tmp_path_factory.mktemp("certs")
    e = cert_env(f"sqlite:///{tmp}/registry.db", tmp)
    yield e
    e.engine.dispose()
