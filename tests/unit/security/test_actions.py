"""`perform`: every attempt reaches the oplog, including one that fails on the database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role
from support.fakes import FakeDatabase, FakeRegistryUnitOfWork

CLERK = Actor("clerk-1", Role.COUNTER_CLERK, "T-1")


def _broken(_: FakeRegistryUnitOfWork) -> None:
    raise sa.exc.OperationalError("UPDATE resident_records …", {"name": "山田太郎"}, Exception("x"))


def test_a_database_error_is_logged_as_failed_by_its_type_alone() -> None:
    db = FakeDatabase()
    with pytest.raises(sa.exc.OperationalError):
        perform(FakeRegistryUnitOfWork(db), CLERK, Permission.RECORD_BIRTH, "r-1", _broken)
    [entry] = db.rows("oplog")
    assert (entry["outcome"], entry["detail"], entry["target"]) == (
        "failed",
        "OperationalError",
        "r-1",
    )
    assert "山田" not in str(entry)  # a driver's message may quote the row: not logged
