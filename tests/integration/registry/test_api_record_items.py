"""The record items over HTTP, on SQLite and PostgreSQL: a foreign resident's 通称 recorded and
deleted with its history (令第30条の26, 27), and the items the law refuses at entry answered as
422 naming the field and the rule, with nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.core.clock import JST, FixedClock
from juki.core.identifiers import ResidentCode
from juki.core.settings import Settings
from juki.nodes.apps import create_registry_app
from juki.registry.model import Municipality
from juki.registry.store.municipality import add_allotment, save_municipality
from juki.registry.tables import record_changes, resident_records
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from juki.storage.engine import make_engine

# These tests are about the changes themselves, applied as filed (the municipality setting
# `change_review` off); 仮登録 → 本登録 is tested in test_review_api.py and test_review_sql.py.
APPLIED_AT_ONCE = Settings(change_review=False)

API = "/api/v1"
ADMIN = Actor.console(Role.OPERATIONS_MANAGER)
HOME = "東京都稲城市東長沼1丁目1番1号"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 10, 0, tzinfo=JST))


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(migrated_db_url)
    with engine.begin() as conn:
        save_municipality(conn, Municipality("132250", "東京都", "稲城市"))
        add_allotment(conn, 1322500000, 1322599999, "test")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def client(engine: sa.Engine, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_registry_app(engine, clock=clock, settings=APPLIED_AT_ONCE)) as c:
        yield c


@pytest.fixture
def clerk(engine: sa.Engine, clock: FixedClock) -> dict[str, str]:
    token = create_operator(
        SqlUnitOfWork(engine, clock=clock), ADMIN, "clerk.01", "窓口 一郎", Role.COUNTER_CLERK
    )
    return {"Authorization": f"Bearer {token}", "X-Juki-Terminal": "T-01"}


def move_in(person: dict[str, Any], body: str = "0123456789") -> dict[str, Any]:
    from_abroad = "foreign" in person
    return {
        "person": person,
        "origin": "abroad" if from_abroad else "certificate",
        "address": HOME,
        "moved_on": "2025-03-25",
        "notified_on": "2025-04-01",
        "previous_address": "アメリカ合衆国" if from_abroad else "東京都府中市宮西町1丁目1番地",
        "placement": {"kind": "new_household"},
        "resident_code": ResidentCode.complete(body).value,
        **({} if from_abroad else {"move_out_certificate_number": "F-2025-001"}),
        **({} if from_abroad else {"previous_lg_code": "132063"}),
    }


def japanese(**extra: Any) -> dict[str, Any]:
    return {
        "family_name": "山田",
        "given_name": "花子",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "birth_date": "1980-01-02",
        "sex": "female",
        "honseki": "東京都稲城市東長沼1番地",
        "koseki_head": "山田　太郎",
        **extra,
    }


def foreign(**extra: Any) -> dict[str, Any]:
    return {
        "family_name": "SMITH",
        "given_name": "JOHN",
        "family_name_kana": "スミス",
        "given_name_kana": "ジョン",
        "birth_date": "1985-03-02",
        "sex": "male",
        "foreign": {
            "nationality": "アメリカ合衆国",
            "category": "mid_long_term",
            "alias_name": "山田　ジョン",
        },
        **extra,
    }


def rows(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(sa.select(sa.func.count()).select_from(resident_records)).scalar_one(),
            conn.execute(sa.select(sa.func.count()).select_from(record_changes)).scalar_one(),
        )


def one_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    [err] = response.json()["detail"]
    assert err["msg"] and err["msg_ja"]
    result: dict[str, Any] = err
    return result


def test_alias_recorded_and_deleted_with_its_history(
    client: TestClient, clerk: dict[str, str]
) -> None:
    r = client.post(f"{API}/events/move-in", json=move_in(foreign()), headers=clerk)
    assert r.status_code == 201, r.text
    smith = r.json()
    assert smith["alias_history"] == [
        {
            "alias_name": "山田　ジョン",
            "action": "entered",
            "on": "2025-04-01",
            "municipality": "東京都稲城市",
        }
    ]
    dates = {"effective_on": "2025-04-01", "notified_on": "2025-04-01"}
    gone = client.post(
        f"{API}/events/alias-deletion",
        json={"record_id": smith["record_id"], **dates},
        headers=clerk,
    )
    assert gone.status_code == 201, gone.text
    assert gone.json()["alias_name"] is None
    again = client.post(
        f"{API}/events/alias",
        json={"record_id": smith["record_id"], "alias_name": "山田　譲", **dates},
        headers=clerk,
    )
    assert again.status_code == 201, again.text
    history = [(e["alias_name"], e["action"]) for e in again.json()["alias_history"]]
    assert history == [
        ("山田　ジョン", "entered"),
        ("山田　ジョン", "deleted"),
        ("山田　譲", "entered"),
    ]
    stored = client.get(f"{API}/residents/{smith['record_id']}", headers=clerk).json()
    assert stored["alias_history"] == again.json()["alias_history"]
    twice = client.post(
        f"{API}/events/alias",
        json={"record_id": smith["record_id"], "alias_name": "別名", **dates},
        headers=clerk,
    )
    err = one_error(twice)
    assert (err["loc"][-1], err["type"]) == ("alias_name", "already_recorded")


@pytest.mark.parametrize(
    ("person", "field", "rule"),
    [
        (japanese(birth_date="1868-01-24"), "birth_date", "before_meiji"),
        (
            foreign(former_surname="金", former_surname_kana="キム"),
            "former_surname",
            "not_for_foreign_resident",
        ),
        (japanese(former_surname="佐藤"), "former_surname_kana", "pair_required"),
    ],
    ids=["before-meiji", "foreign-former-surname", "former-surname-without-reading"],
)
def test_items_the_law_refuses_at_entry(
    client: TestClient,
    engine: sa.Engine,
    clerk: dict[str, str],
    person: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    before = rows(engine)
    err = one_error(client.post(f"{API}/events/move-in", json=move_in(person), headers=clerk))
    assert err["loc"][-1] == field and err["type"] == rule
    assert rows(engine) == before


def test_foreign_items_refused_on_a_japanese_record_by_correction(
    client: TestClient, engine: sa.Engine, clock: FixedClock, clerk: dict[str, str]
) -> None:
    r = client.post(f"{API}/events/move-in", json=move_in(japanese()), headers=clerk)
    assert r.status_code == 201, r.text
    token = create_operator(
        SqlUnitOfWork(engine, clock=clock), ADMIN, "super-01", "管理 花子", Role.REGISTRY_SUPERVISOR
    )
    supervisor = {"Authorization": f"Bearer {token}", "X-Juki-Terminal": "T-02"}
    before = rows(engine)
    err = one_error(
        client.post(
            f"{API}/events/correction-by-authority",
            json={
                "record_id": r.json()["record_id"],
                "fields": {"residence_card_number": "AB12345678CD"},
                "effective_on": "2025-04-01",
                "note": "誤記載の修正",
            },
            headers=supervisor,
        )
    )
    assert err["loc"][-2:] == ["fields", "residence_card_number"]
    assert err["type"] == "not_for_japanese"
    assert "日本人住民" in err["msg_ja"]
    assert rows(engine) == before
