"""What the fake unit of work does where one thread cannot do what SQL does.

Everything a single connection can show is in the contract tests, run on the fake and on SQL
(`tests/integration/registry/test_repository_contract.py`). These are the cases where SQL
would make a writer wait for another transaction, or where SQLite and PostgreSQL part ways;
the fake picks the stricter answer, and says so here.
"""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from juki.core.errors import ConcurrentChangeError
from juki.registry.model import ChangeReason, RecordChange
from support.backends import FakeBackend
from support.residents import TODAY, move_in, seed


@pytest.fixture
def fake() -> FakeBackend:
    backend = FakeBackend()
    seed(backend)
    return backend


def test_a_unit_of_work_is_used_inside_with_only(fake: FakeBackend) -> None:
    uow = fake.uow()
    with pytest.raises(RuntimeError):
        _ = uow.registry
    with uow:
        registry = uow.registry
    with pytest.raises(RuntimeError):
        registry.get("x")  # the block's connection is closed
    assert not fake.db.open_transactions


def test_a_row_another_transaction_is_writing_is_refused_not_waited_for(
    fake: FakeBackend,
) -> None:
    """PostgreSQL would block the second writer until the first ends; one thread cannot wait,
    so the fake refuses it as the concurrent change it would most often turn out to be."""
    record = move_in(fake)
    renamed = dataclasses.replace(record, given_name="太朗")
    change = RecordChange(ChangeReason.NAME_CHANGE, TODAY, TODAY, {"given_name": "太朗"})
    with fake.uow() as first:
        first.registry.get(record.record_id)
        first.registry.append_change(renamed, change, "clerk-1")
        with fake.uow() as second:
            second.registry.get(record.record_id)
            with pytest.raises(ConcurrentChangeError):
                second.registry.append_change(renamed, change, "clerk-2")
    with fake.uow() as third:  # the first rolled back: its locks went with it
        third.registry.get(record.record_id)
        assert third.registry.append_change(renamed, change, "clerk-2") == 2
    assert not fake.db.locks


def test_two_open_transactions_do_not_draw_the_same_resident_code(fake: FakeBackend) -> None:
    """PostgreSQL's FOR UPDATE makes the second wait for the first's code; the fake refuses
    it rather than hand out the same code twice."""
    with fake.uow() as first, fake.uow() as second:
        code = first.registry.allot_resident_code()
        with pytest.raises(ConcurrentChangeError):
            second.registry.allot_resident_code()
        first.commit()
    with fake.uow() as third:
        assert third.registry.allot_resident_code() != code


def test_after_a_constraint_fails_the_transaction_refuses_everything(fake: FakeBackend) -> None:
    """PostgreSQL aborts a transaction whose statement failed; SQLite carries on. Code that
    swallows an IntegrityError and goes on works on one and not the other: the fake fails."""
    record = move_in(fake)
    with fake.uow() as uow:
        with pytest.raises(sa.exc.IntegrityError):
            uow.registry.add_household(uow.registry.get_household(record.household_id))
        with pytest.raises(sa.exc.InternalError):
            uow.registry.get(record.record_id)


def test_a_column_the_table_lacks_is_refused(fake: FakeBackend) -> None:
    with fake.db.begin() as tx, pytest.raises(sa.exc.CompileError):
        tx.insert("households", {"household_id": "h", "colour": "red"})


def test_committed_rows_are_what_another_connection_sees(fake: FakeBackend) -> None:
    with fake.uow() as uow:
        uow.registry.allot_resident_code()
        assert [a["next_body"] for a in fake.rows("code_allotments")] == [1322500000]
        uow.commit()
    assert [a["next_body"] for a in fake.rows("code_allotments")] == [1322500001]
