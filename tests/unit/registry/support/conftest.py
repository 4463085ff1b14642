"""支援措置 services on the fake unit of work, as the registry's other services."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.backends import FakeBackend, assert_projection_is_fold
from support.residents import seed


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    """A seeded registry on the fake. After each scenario, whatever it did: no unit of work
    was left open, and every record's row is the fold of its history (ADR 0001)."""
    fake = FakeBackend()
    seed(fake)
    yield fake
    assert not fake.db.open_transactions, "a unit of work was left open"
    assert_projection_is_fold(fake)
