"""A run of identity_info applied at once writes exactly what applying each in order would."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from tests.support.identity_rows import rows

from juki.core.clock import JST
from juki.network.messages import IdentityInfoBody
from juki.nodes.identity import apply_identities, apply_identity
from juki.nodes.tables import identity_changes, identity_copies
from juki.population.national import PersonHistory, lg_codes_of, national_population
from juki.storage.engine import make_engine

NOW = datetime(2025, 4, 1, 10, 0, tzinfo=JST)


@pytest.fixture(scope="module")
def people() -> list[PersonHistory]:
    codes = lg_codes_of(("13225", "14205"))
    return list(national_population(60, seed=9, today=NOW.date(), lg_codes=codes, pool_size=40))


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def test_a_run_writes_what_one_by_one_writes(
    engine: sa.Engine, people: list[PersonHistory]
) -> None:
    """Every version of every person, shuffled between people but each person's in order, so a
    run holds several changes of one person (the last one wins the copy, all stay in history)."""
    rng = random.Random(3)
    queues = [list(p.versions) for p in people]
    run: list[tuple[IdentityInfoBody, str]] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        run.append((queue.pop(0), f"m-{len(run):04d}"))
    assert len({info.resident_code for info, _ in run}) < len(run)  # repeats in the run
    with engine.begin() as conn:
        apply_identities(conn, run[:7], now=NOW)  # rows already held, then replaced
        apply_identities(conn, run[7:], now=NOW)
        at_once = rows(conn)
        conn.execute(identity_changes.delete())
        conn.execute(identity_copies.delete())
        for info, message_id in run:
            apply_identity(conn, info, message_id=message_id, now=NOW)
        one_by_one = rows(conn)
        conn.rollback()
    assert at_once == one_by_one
    assert len(at_once[1]) == len(run)
