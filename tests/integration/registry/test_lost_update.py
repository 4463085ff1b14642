"""A change applies only to the version of the record it read (ADR 0001): the real race.

A clerk's change reads a record; before it writes, the CS assigns the resident's my_number in
another transaction and commits. On PostgreSQL (READ COMMITTED) nothing blocks the CS, so the
clerk's write must be refused as a concurrent change instead of silently putting back the old
my_number while the history says it was assigned. On SQLite the CS's transaction waits for the
clerk's write lock, so both changes apply one after the other. Either way no change is lost and
the stored row is the fold of the history.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.core.clock import JST, FixedClock
from juki.core.errors import ConcurrentChangeError
from juki.core.identifiers import MyNumber, ResidentCode
from juki.core.settings import Settings
from juki.nodes.apps import create_registry_app
from juki.registry import services as svc
from juki.registry.api.deps import new_uow
from juki.registry.commands import (
    AssignMyNumber,
    ChangeName,
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
)
from juki.registry.model import Municipality, ResidentRecord, Sex, fold
from juki.registry.store.municipality import add_allotment, save_municipality
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from juki.storage.engine import is_sqlite, make_engine
from juki.storage.migrate import upgrade

# These tests are about the changes themselves, applied as filed (the municipality setting
# `change_review` off); 仮登録 → 本登録 is tested in test_review_api.py and test_review_sql.py.
APPLIED_AT_ONCE = Settings(change_review=False)

CLERK = Actor("clerk-1", Role.COUNTER_CLERK, "T01")
CS = Actor.system("cs:132250")
NUMBER = MyNumber.complete("12345678901").value
# Generous: the interfering transaction only waits for a lock on a busy machine.
JOIN_LIMIT_S = 60.0


class _ReadHook:
    """Wraps a repository: after the first `get`, runs `after_read` once (the other operator)."""

    def __init__(self, inner: Any, after_read: Callable[[], None]) -> None:
        self._inner = inner
        self._after_read: Callable[[], None] | None = after_read

    def get(self, record_id: str) -> ResidentRecord:
        record: ResidentRecord = self._inner.get(record_id)
        hook, self._after_read = self._after_read, None
        if hook is not None:
            hook()
        return record

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class InterruptedUnitOfWork(SqlRegistryUnitOfWork):
    """The clerk's unit of work: someone else commits between its read and its write."""

    def __init__(self, engine: sa.Engine, clock: FixedClock, after_read: Callable[[], None]):
        super().__init__(engine, clock=clock)
        self._after_read = after_read

    def __enter__(self) -> Self:
        super().__enter__()
        self.registry = _ReadHook(self.registry, self._after_read)  # type: ignore[assignment]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        super().__exit__(exc_type, exc, tb)


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(migrated_db_url)
    upgrade(engine)
    with engine.begin() as conn:
        save_municipality(conn, Municipality("132250", "東京都", "稲城市"))
        add_allotment(conn, 1322500000, 1322599999, "test")
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 10, 0, tzinfo=JST))


def _resident(engine: sa.Engine, clock: FixedClock) -> ResidentRecord:
    return svc.record_move_in(
        SqlRegistryUnitOfWork(engine, clock=clock),
        CLERK,
        RecordMoveIn(
            person=PersonalItems("山田", "太郎", "ヤマダ", "タロウ", date(1980, 5, 5), Sex.MALE),
            origin=MoveInOrigin.CERTIFICATE,
            address="東京都稲城市東長沼1丁目1番1号",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="神奈川県藤沢市鵠沼海岸1丁目2番3号",
            placement=NewHousehold(),
            resident_code=ResidentCode.complete("2472705960").value,
            move_out_certificate_number="142051-0001",
            previous_lg_code="142051",
        ),
    )


def _name_change(record_id: str) -> ChangeName:
    return ChangeName(
        record_id=record_id,
        family_name="佐藤",
        given_name="太郎",
        family_name_kana="サトウ",
        given_name_kana="タロウ",
        effective_on=date(2025, 3, 30),
        notified_on=date(2025, 3, 31),
    )


def test_a_change_never_reverts_one_committed_after_its_read(
    engine: sa.Engine, clock: FixedClock
) -> None:
    record = _resident(engine, clock)
    assert record.my_number is None
    cs_errors: list[BaseException] = []

    def cs_assigns_my_number() -> None:
        try:
            svc.assign_my_number(
                SqlRegistryUnitOfWork(engine, clock=clock),
                CS,
                AssignMyNumber(record.record_id, NUMBER),
            )
        except BaseException as exc:  # reported by the main thread
            cs_errors.append(exc)

    cs = threading.Thread(target=cs_assigns_my_number)

    def other_transaction_commits() -> None:
        cs.start()
        if not is_sqlite(engine.url):
            # PostgreSQL: nothing of the clerk's blocks the CS; let it commit first.
            cs.join(JOIN_LIMIT_S)
            assert not cs.is_alive(), "the CS's transaction did not finish"
        # SQLite: the clerk holds the write lock (BEGIN IMMEDIATE); the CS waits for it.

    clerk_uow = InterruptedUnitOfWork(engine, clock, other_transaction_commits)
    refused = False
    try:
        svc.change_name(clerk_uow, CLERK, _name_change(record.record_id))
    except ConcurrentChangeError:
        refused = True
    cs.join(JOIN_LIMIT_S)
    assert not cs.is_alive() and not cs_errors, cs_errors

    current = svc.get_record(SqlRegistryUnitOfWork(engine, clock=clock), CLERK, record.record_id)
    history = svc.record_history(
        SqlRegistryUnitOfWork(engine, clock=clock), CLERK, record.record_id
    )
    assert current == fold(h.change for h in history), "the row is not the fold of its history"
    assert current.my_number == NUMBER, "the clerk's change reverted the assigned my_number"
    if is_sqlite(engine.url):
        assert not refused and current.family_name == "佐藤"
    else:
        # The clerk read the record before the CS's change: the clerk's change is refused
        # (409 concurrent_change at the API) and may be filed again on the current record.
        assert refused and current.family_name == "山田"
        svc.change_name(
            SqlRegistryUnitOfWork(engine, clock=clock), CLERK, _name_change(record.record_id)
        )
        again = svc.get_record(SqlRegistryUnitOfWork(engine, clock=clock), CLERK, record.record_id)
        assert (again.family_name, again.my_number) == ("佐藤", NUMBER)


@pytest.mark.postgres
def test_the_api_answers_a_lost_race_with_409(migrated_pg_url: str, clock: FixedClock) -> None:
    """The same race through the registry API: the clerk's request is a 409 the client may
    file again, and the operation log says it was rejected."""
    engine = make_engine(migrated_pg_url)
    upgrade(engine)
    with engine.begin() as conn:
        save_municipality(conn, Municipality("132250", "東京都", "稲城市"))
        add_allotment(conn, 1322500000, 1322599999, "test")
    try:
        record = _resident(engine, clock)
        admin = Actor("admin", Role.OPERATIONS_MANAGER, "console")
        token = create_operator(
            SqlUnitOfWork(engine, clock=clock), admin, "clerk.01", "窓口 一郎", Role.COUNTER_CLERK
        )

        def cs_commits_first() -> None:
            svc.assign_my_number(
                SqlRegistryUnitOfWork(engine, clock=clock),
                CS,
                AssignMyNumber(record.record_id, NUMBER),
            )

        app = create_registry_app(engine, clock=clock, settings=APPLIED_AT_ONCE)
        app.dependency_overrides[new_uow] = lambda: InterruptedUnitOfWork(
            engine, clock, cs_commits_first
        )
        change = _name_change(record.record_id)
        body = {
            "record_id": change.record_id,
            "family_name": change.family_name,
            "given_name": change.given_name,
            "family_name_kana": change.family_name_kana,
            "given_name_kana": change.given_name_kana,
            "effective_on": change.effective_on.isoformat(),
            "notified_on": change.notified_on.isoformat(),
        }
        with TestClient(app) as client:
            r = client.post(
                "/api/v1/events/name-change",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
        assert r.status_code == 409, r.text
        assert r.json()["type"] == "concurrent_change" and r.json()["msg_ja"]
        with engine.connect() as conn:
            outcomes = conn.execute(
                sa.select(oplog.c.outcome).where(oplog.c.action == "change_name")
            ).scalars()
            assert list(outcomes) == ["rejected"]
        current = svc.get_record(
            SqlRegistryUnitOfWork(engine, clock=clock), CLERK, record.record_id
        )
        assert (current.family_name, current.my_number) == ("山田", NUMBER)
    finally:
        engine.dispose()
