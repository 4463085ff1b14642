"""Seeding through the bulk loader, on SQLite and PostgreSQL: counts, history, outbox, reseeding."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.core.errors import DomainRuleError, PermissionDeniedError, ValidationError
from juki.core.identifiers import MyNumber, ResidentCode
from juki.network.messages import IDENTITY_INFO_CHANGED, body_of
from juki.population.seeding import SeedResult, reserve_resident_codes, seed_registry
from juki.registry import services as svc
from juki.registry import tables as registry_tables
from juki.registry.commands import RecordRelocation
from juki.registry.events import identity_info_changed
from juki.registry.model import fold
from juki.registry.ports import SearchQuery
from juki.registry.store.codes import NATIONAL, STANDALONE, receive_pool, release_reserved
from juki.registry.store.records import SqlRegistry
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security import tables as security_tables
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade

CLOCK = FixedClock(datetime(2025, 4, 1, 10, 0, tzinfo=JST))
LOADER = Actor("ops-1", Role.OPERATIONS_MANAGER, "T09")
CLERK = Actor("clerk-1", Role.COUNTER_CLERK, "T01")
N = 600  # three chunks of 250: enough for the chunking, the fold of every record and 2-digit spread


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def count(engine: sa.Engine, table: sa.Table, where: sa.ColumnElement[bool] | None = None) -> int:
    stmt = sa.select(sa.func.count()).select_from(table)
    if where is not None:
        stmt = stmt.where(where)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def seed(engine: sa.Engine, residents: int = N, seed: int = 11) -> SeedResult:
    return seed_registry(
        engine, lg_code="132250", residents=residents, seed=seed, by=LOADER, clock=CLOCK
    )


def test_seed_writes_what_the_services_would(engine: sa.Engine) -> None:
    progress: list[int] = []
    result = seed_registry(
        engine,
        lg_code="132250",
        residents=N,
        seed=11,
        by=LOADER,
        clock=CLOCK,
        progress=progress.append,
        chunk=250,
    )
    assert (result.residents, result.municipality.name) == (N, "稲城市")
    assert sum(progress) == N and len(progress) >= 3
    assert count(engine, registry_tables.resident_records) == N
    assert count(engine, registry_tables.record_changes) == N
    assert count(engine, registry_tables.households) == result.households
    assert count(engine, registry_tables.outbox) == N
    foreign = count(
        engine, registry_tables.resident_records, registry_tables.resident_records.c.is_foreign
    )
    assert foreign == result.foreign_residents > 0

    stats = svc.registry_stats(SqlRegistryUnitOfWork(engine, clock=CLOCK), CLERK)
    assert stats["residents"] == N and stats["households"] == result.households
    assert stats["without_my_number"] == 0

    # Every projection is the fold of its history, read back through the repository.
    with engine.connect() as conn:
        registry = SqlRegistry(conn, CLOCK.now)
        ids = conn.execute(sa.select(registry_tables.resident_records.c.record_id)).scalars().all()
        for record_id in ids:
            record = registry.get(record_id)
            history = registry.history(record_id)
            assert [h.seq for h in history] == [1]
            assert history[0].actor_id == LOADER.actor_id
            assert fold(h.change for h in history) == record
        # The outbox carries exactly identity_info of each record.
        messages = conn.execute(sa.select(registry_tables.outbox)).mappings().all()
        assert {m["message_type"] for m in messages} == {IDENTITY_INFO_CHANGED}
        assert len({m["message_id"] for m in messages}) == N
        by_code = {m["key"]: json.loads(m["payload"]) for m in messages}
        for record_id in ids[:200]:
            record = registry.get(record_id)
            change = registry.history(record_id)[0].change
            assert by_code[record.resident_code] == body_of(identity_info_changed(record, change))
        # Households are searchable and consistent through the repository as well.
        some = registry.get(ids[0])
        assert registry.search(SearchQuery(name_kana=some.family_name_kana))
        assert some in registry.members(some.household_id)
        oplog = conn.execute(sa.select(security_tables.oplog)).mappings().all()
    assert [(e["action"], e["target"], e["outcome"], e["detail"]) for e in oplog][:1] == [
        ("seed_population", "lg_code:132250", "ok", f"{N} residents, seed 11")
    ]


def test_seeding_again_adds_more_with_distinct_random_codes(engine: sa.Engine) -> None:
    """A standalone registry draws its own codes (ADR 0006): unique, in no order, not from a
    block of the municipality's; the reservations are gone once the load is done."""
    seed(engine)
    seed(engine)  # the same seed again
    assert count(engine, registry_tables.resident_records) == 2 * N
    assert count(engine, registry_tables.outbox) == 2 * N
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                registry_tables.resident_records.c.resident_code,
                registry_tables.resident_records.c.my_number,
            )
            .order_by(registry_tables.record_changes.c.change_id)
            .join(
                registry_tables.record_changes,
                registry_tables.record_changes.c.record_id
                == registry_tables.resident_records.c.record_id,
            )
        ).all()
    codes = [r[0] for r in rows]
    numbers = [r[1] for r in rows]
    assert len(set(codes)) == len(codes) and len(set(numbers)) == len(numbers)
    for code, number in rows:
        ResidentCode.parse(code)
        MyNumber.parse(number)
    # in the order they were registered the codes are not sorted, nor confined to a block
    assert codes != sorted(codes)
    assert len({c[:2] for c in codes}) > 50
    assert not any(c.startswith("13225") for c in codes[:50])
    assert count(engine, registry_tables.code_pool) == 0
    with SqlRegistryUnitOfWork(engine, clock=CLOCK) as uow:
        assert uow.registry.allot_resident_code() not in set(codes)


def test_reservations_come_from_the_national_pool_or_are_drawn_standalone(
    engine: sa.Engine,
) -> None:
    upgrade(engine)
    rng = random.Random(3)
    with engine.begin() as conn:
        drawn = reserve_resident_codes(conn, 25, rng=rng, run_id="run-a", now="t")
    assert len(set(drawn)) == 25
    pool = registry_tables.code_pool.c
    batches = registry_tables.code_pool_batches.c
    with engine.begin() as conn:
        assert set(conn.execute(sa.select(pool.resident_code)).scalars()) == set(drawn)
        assert conn.execute(sa.select(batches.source)).scalars().all() == [STANDALONE]
        # a counter never takes a reserved code
        with SqlRegistryUnitOfWork(engine, clock=CLOCK, connection=conn, rng=rng) as uow:
            assert uow.registry.allot_resident_code() not in drawn
        assert release_reserved(conn, "run-a") == 25
    national = sorted(
        ResidentCode.complete(f"{4000000000 + i * 7919:010d}").value for i in range(30)
    )
    with engine.begin() as conn:
        receive_pool(conn, national, source=NATIONAL, allotted_by="national", now="t")
        taken = reserve_resident_codes(conn, 25, rng=rng, run_id="run-b", now="t")
    assert set(taken) <= set(national) and taken != sorted(taken)
    with pytest.raises(ValidationError) as err, engine.begin() as conn:
        reserve_resident_codes(conn, 6, rng=rng, run_id="run-c", now="t")
    assert (err.value.field, err.value.rule) == ("residents", "codes_exhausted")


def test_life_events_work_on_seeded_records(engine: sa.Engine) -> None:
    seed(engine, residents=50)
    with engine.connect() as conn:
        hid = conn.execute(
            sa.select(registry_tables.households.c.household_id).limit(1)
        ).scalar_one()
    uow = SqlRegistryUnitOfWork(engine, clock=CLOCK)
    _, members = svc.household_view(uow, CLERK, hid)
    moved = svc.record_relocation(
        SqlRegistryUnitOfWork(engine, clock=CLOCK),
        CLERK,
        RecordRelocation(
            record_ids=tuple(m.record_id for m in members),
            new_address="東京都稲城市東長沼1丁目1番1号",
            moved_on=CLOCK.today(),
            notified_on=CLOCK.today(),
        ),
    )
    assert {m.address for m in moved} == {"東京都稲城市東長沼1丁目1番1号"}


def test_refusals_are_logged_and_change_nothing(engine: sa.Engine) -> None:
    with pytest.raises(PermissionDeniedError):
        seed_registry(engine, lg_code="132250", residents=10, seed=1, by=CLERK, clock=CLOCK)
    assert not sa.inspect(engine).has_table("resident_records")  # not even migrated
    seed(engine, residents=10)
    with pytest.raises(PermissionDeniedError):
        seed_registry(engine, lg_code="132250", residents=10, seed=1, by=CLERK, clock=CLOCK)
    with pytest.raises(ValidationError) as err:
        seed(engine, residents=0)
    assert err.value.field == "residents"
    with pytest.raises(ValidationError) as err:
        seed(engine, residents=2_000_001)
    assert err.value.field == "residents"
    with pytest.raises(ValidationError) as err:
        seed_registry(engine, lg_code="132251", residents=10, seed=1, by=LOADER, clock=CLOCK)
    assert err.value.field == "lg_code"
    with pytest.raises(DomainRuleError):  # the database belongs to 稲城市
        seed_registry(engine, lg_code="352063", residents=10, seed=1, by=LOADER, clock=CLOCK)
    assert count(engine, registry_tables.resident_records) == 10
    with engine.connect() as conn:
        outcomes = (
            conn.execute(
                sa.select(security_tables.oplog.c.outcome).order_by(
                    security_tables.oplog.c.entry_id
                )
            )
            .scalars()
            .all()
        )
    assert outcomes == ["ok", "denied", "rejected", "rejected", "rejected", "rejected"]
