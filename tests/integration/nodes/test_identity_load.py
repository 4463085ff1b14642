"""The initial load by COPY writes what applying each change would, or nothing at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from tests.support.identity_rows import rows

from juki.core.clock import JST
from juki.network.messages import IdentitySnapshot
from juki.nodes.identity import apply_identity, apply_snapshot
from juki.nodes.identity_load import (
    IdentityLoadError,
    IndexDefinition,
    identity_load,
    index_definitions,
)
from juki.nodes.tables import identity_changes, identity_copies
from juki.population.national import (
    PersonHistory,
    lg_codes_of,
    national_pool,
    national_population,
)
from juki.population.national_rows import copy_chunks
from juki.storage.engine import make_engine

NOW = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
N = 240
LG_CODES = lg_codes_of(("13225", "14205"))


@pytest.fixture(scope="module")
def people() -> list[PersonHistory]:
    return list(national_population(N, seed=5, today=NOW.date(), lg_codes=LG_CODES, pool_size=80))


@pytest.fixture
def engine(migrated_pg_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(migrated_pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def restructured_engine(restructured_pg_url: str) -> Iterator[sa.Engine]:
    """For a test that partitions the tables: its database does not go back to the pool."""
    engine = make_engine(restructured_pg_url)
    yield engine
    engine.dispose()


def indexes(engine: sa.Engine) -> list[IndexDefinition]:
    raw = engine.raw_connection()
    try:
        conn: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
        return index_definitions(conn)
    finally:
        raw.close()


@pytest.mark.postgres
def test_load_writes_the_rows_applying_each_change_would_and_rebuilds_the_indexes(
    engine: sa.Engine, people: list[PersonHistory]
) -> None:
    before = indexes(engine)
    assert {i.name for i in before} >= {"pk_identity_copies", "pk_identity_changes"}
    with identity_load(engine, now=NOW) as load:
        load.write(people[:100])
        load.write(people[100:])
        message_id = load.message_id
    assert (load.persons, load.changes) == (N, sum(len(p.versions) for p in people))
    assert indexes(engine) == before
    with engine.begin() as conn:
        loaded = rows(conn)
        # The same people applied one change at a time, as messages would, in the same tables.
        conn.execute(identity_changes.delete())
        conn.execute(identity_copies.delete())
        for person in people:
            for version in person.versions:
                apply_identity(conn, version, message_id=message_id, now=NOW)
        applied = rows(conn)
        conn.rollback()
    assert loaded == applied
    assert len(loaded[0]) == N
    with engine.connect() as conn:  # the planner knows the table's size: ANALYZE ran
        estimate = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE relname = 'identity_copies'"
        ).scalar_one()
    assert estimate == N


@pytest.mark.postgres
def test_a_load_of_copy_text_writes_the_rows_applying_the_same_people_would(
    engine: sa.Engine, people: list[PersonHistory]
) -> None:
    pool = national_pool(N, seed=5, today=NOW.date(), lg_codes=LG_CODES, pool_size=80)
    with identity_load(engine, now=NOW) as load:
        for chunk in copy_chunks(pool, N, seed=5, today=NOW.date()):
            load.write_text(chunk)
        message_id = load.message_id
    assert (load.persons, load.changes) == (N, sum(len(p.versions) for p in people))
    assert set(load.index_seconds) == {i.name for i in indexes(engine)}
    with engine.begin() as conn:
        loaded = rows(conn)
        conn.execute(identity_changes.delete())
        conn.execute(identity_copies.delete())
        for person in people:
            for version in person.versions:
                apply_identity(conn, version, message_id=message_id, now=NOW)
        applied = rows(conn)
        conn.rollback()
    assert loaded == applied
    with engine.connect() as conn:  # the load's defaults were for the load only
        defaults = conn.exec_driver_sql(
            "SELECT count(*) FROM information_schema.columns WHERE column_name IN "
            "('updated_at', 'message_id', 'received_at') AND column_default IS NOT NULL "
            "AND table_name IN ('identity_copies', 'identity_changes')"
        ).scalar_one()
    assert defaults == 0


HASH_PARTITIONED = (
    "CREATE TABLE identity_copies_h (LIKE identity_copies INCLUDING ALL) "
    "PARTITION BY HASH (resident_code)",
    "DROP TABLE identity_copies",
    "ALTER TABLE identity_copies_h RENAME TO identity_copies",
    "CREATE TABLE identity_copies_0 PARTITION OF identity_copies "
    "FOR VALUES WITH (MODULUS 2, REMAINDER 0)",
    "CREATE TABLE identity_copies_1 PARTITION OF identity_copies "
    "FOR VALUES WITH (MODULUS 2, REMAINDER 1)",
)


@pytest.mark.postgres
def test_a_load_into_a_partitioned_table_indexes_every_partition(
    restructured_engine: sa.Engine, people: list[PersonHistory]
) -> None:
    engine = restructured_engine
    with engine.begin() as conn:
        for statement in HASH_PARTITIONED:
            conn.exec_driver_sql(statement)
    with identity_load(engine, now=NOW) as load:
        load.write(people)
    with engine.connect() as conn:
        counts = conn.exec_driver_sql(
            "SELECT t.relname, count(*), bool_and(x.indisvalid) FROM pg_index AS x "
            "JOIN pg_class AS t ON t.oid = x.indrelid WHERE t.relname LIKE 'identity_copies%%' "
            "GROUP BY t.relname ORDER BY t.relname"
        ).all()
    assert [tuple(c) for c in counts] == [
        ("identity_copies", 4, True),
        ("identity_copies_0", 4, True),
        ("identity_copies_1", 4, True),
    ]


@pytest.mark.postgres
def test_a_failed_load_leaves_the_tables_empty_and_indexed(
    engine: sa.Engine, people: list[PersonHistory]
) -> None:
    before = indexes(engine)

    def fail_after_a_chunk() -> None:
        with identity_load(engine, now=NOW) as load:
            load.write(people[:50])
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        fail_after_a_chunk()
    assert indexes(engine) == before
    with engine.connect() as conn:
        assert rows(conn) == ([], [])


@pytest.mark.postgres
def test_a_load_into_a_national_index_that_holds_anyone_is_refused(
    engine: sa.Engine, people: list[PersonHistory]
) -> None:
    with engine.begin() as conn:
        apply_identity(conn, people[0].current, message_id="m-1", now=NOW)
    with (
        pytest.raises(IdentityLoadError, match="identity_copies already holds identity_info"),
        identity_load(engine, now=NOW),
    ):
        pytest.fail("the load must not start")
    with engine.connect() as conn:
        copies, changes = rows(conn)
    assert len(copies) == len(changes) == 1


def test_a_load_into_sqlite_is_refused_with_the_reason() -> None:
    engine = make_engine("sqlite://")
    try:
        with (
            pytest.raises(IdentityLoadError, match=r"PostgreSQL's COPY; .* is sqlite"),
            identity_load(engine, now=NOW),
        ):
            pytest.fail("the load must not start")
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_snapshot_streamed_by_copy_writes_what_applying_it_entry_by_entry_would(
    engine: sa.Engine, people: list[PersonHistory]
) -> None:
    """On PostgreSQL a repair snapshot's part goes in by COPY (a staging table and one upsert
    for the copies): the rows are those `apply_identity` writes, over copies already held, and
    two parts in one transaction (a batch) each land whole."""
    lg = people[0].current.lg_code
    entries = [p.current for p in people if p.current.lg_code == lg]
    half = len(entries) // 2
    with engine.begin() as conn:
        for person in people[:30]:  # copies already held, some of them replaced
            apply_identity(conn, person.versions[0], message_id=str(uuid.uuid4()), now=NOW)
    with engine.begin() as conn:
        for part, chunk in enumerate((entries[:half], entries[half:]), start=1):
            snapshot = IdentitySnapshot(
                lg_code=lg, snapshot_id="snap-1", part=part, parts=2, entries=chunk
            )
            apply_snapshot(conn, snapshot, message_id=f"m-{part}", now=NOW)
        copied = rows(conn)
        conn.rollback()
    with engine.begin() as conn:
        for person in people[:30]:
            apply_identity(conn, person.versions[0], message_id=str(uuid.uuid4()), now=NOW)
    with engine.begin() as conn:
        for part, chunk in enumerate((entries[:half], entries[half:]), start=1):
            for entry in chunk:
                apply_identity(conn, entry, message_id=f"m-{part}", now=NOW, snapshot_id="snap-1")
        conn.execute(  # what the last part drops: copies the snapshot did not carry
            identity_copies.delete().where(
                (identity_copies.c.lg_code == lg) & identity_copies.c.snapshot_id.is_(None)
            )
        )
        applied = rows(conn)
    assert copied[0] == applied[0]
    assert copied[1][-len(entries) :] == applied[1][-len(entries) :]
    assert len([c for c in copied[0] if c[0] == lg]) == len(entries)
