"""Moves as the law reads them, on SQLite and PostgreSQL: a 転出届 leaves a 住民票 until its
planned date (the certificate snapshot reads it as of the day), 転出取消 and 異動取消 through
the API, and the move-in that presents a paper 転出証明書."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.certificates.content import build_content
from juki.certificates.model import ALL_MEMBERS, CertificateKind, CertificateRequest
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.core.clock import JST, FixedClock
from juki.core.identifiers import ResidentCode
from juki.core.settings import Settings
from juki.nodes.apps import create_registry_app
from juki.registry.model import Municipality
from juki.registry.store.municipality import add_allotment, save_municipality
from juki.registry.tables import record_changes
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from juki.storage.engine import make_engine

# These tests are about the changes themselves, applied as filed (the municipality setting
# `change_review` off); 仮登録 → 本登録 is tested in test_review_api.py and test_review_sql.py.
APPLIED_AT_ONCE = Settings(change_review=False)

API = "/api/v1"
INAGI = Municipality("132250", "東京都", "稲城市")
HOME = "東京都稲城市東長沼2111番地"
FUCHU = "東京都府中市宮西町1丁目1番地"
ADMIN = Actor("admin", Role.OPERATIONS_MANAGER, "console")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 10, 0, tzinfo=JST))


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(migrated_db_url)
    with engine.begin() as conn:
        save_municipality(conn, INAGI)
        add_allotment(conn, 1322500000, 1322599999, "test")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def headers(engine: sa.Engine, clock: FixedClock) -> dict[str, dict[str, str]]:
    def token(op_id: str, role: Role) -> dict[str, str]:
        t = create_operator(SqlUnitOfWork(engine, clock=clock), ADMIN, op_id, "職員", role)
        return {"Authorization": f"Bearer {t}", "X-Juki-Terminal": "T-01"}

    return {
        "clerk": token("clerk.01", Role.COUNTER_CLERK),
        "supervisor": token("super-01", Role.REGISTRY_SUPERVISOR),
    }


@pytest.fixture
def client(engine: sa.Engine, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_registry_app(engine, clock=clock, settings=APPLIED_AT_ONCE)) as c:
        yield c


def _person(given: str = "太郎", kana: str = "タロウ", birth: str = "1980-01-02") -> dict[str, Any]:
    return {
        "family_name": "山田",
        "given_name": given,
        "family_name_kana": "ヤマダ",
        "given_name_kana": kana,
        "birth_date": birth,
        "sex": "male",
    }


def _certificate(**overrides: Any) -> dict[str, Any]:
    return {
        "certificate_number": "F-2025-001",
        "lg_code": "132063",
        "resident_code": ResidentCode.complete("0123456789").value,
        "family_name": "山田",
        "given_name": "太郎",
        "birth_date": "1980-01-02",
        "sex": "male",
        "address": FUCHU,
        "destination_address": HOME,
        "planned_on": "2025-03-25",
        **overrides,
    }


def _move_in(client: TestClient, h: dict[str, str], **overrides: Any) -> Any:
    body = {
        "person": _person(),
        "origin": "certificate",
        "address": HOME,
        "moved_on": "2025-03-25",
        "notified_on": "2025-04-01",
        "previous_address": FUCHU,
        "placement": {"kind": "new_household"},
        "resident_code": ResidentCode.complete("0123456789").value,
        "previous_lg_code": "132063",
        "move_out_certificate": _certificate(),
        **overrides,
    }
    return client.post(f"{API}/events/move-in", json=body, headers=h)


def _family(client: TestClient, h: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    r = _move_in(client, h)
    assert r.status_code == 201, r.text
    head = r.json()
    r = client.post(
        f"{API}/events/birth",
        json={
            "person": _person("一郎", "イチロウ", "2025-03-28"),
            "household_id": head["household_id"],
            "relationship": "child",
            "notified_on": "2025-04-01",
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    return head, r.json()


def _move_out(client: TestClient, h: dict[str, str], ids: list[str]) -> None:
    body = {
        "record_ids": ids,
        "destination_address": "神奈川県藤沢市鵠沼石上1丁目1番1号",
        "planned_on": "2025-04-10",
        "notified_on": "2025-04-01",
    }
    r = client.post(f"{API}/events/move-out", json=body, headers=h)
    assert r.status_code == 201, r.text


def _reasons(engine: sa.Engine, record_id: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(record_changes.c.reason)
            .where(record_changes.c.record_id == record_id)
            .order_by(record_changes.c.seq)
        )
        return [r[0] for r in rows]


def _content(engine: sa.Engine, clock: FixedClock, code: str, removed: bool = False) -> Any:
    members = () if removed else ALL_MEMBERS  # a 除票 is the applicant's alone
    request = CertificateRequest(CertificateKind.RESIDENCE, code, members=members, removed=removed)
    with SqlCertificateUnitOfWork(engine, clock=clock) as uow:
        snap = uow.certificates.snapshot(
            code, removed=removed, with_seal=False, municipality=INAGI, read_at=clock.now()
        )
        return build_content(request, snap)


def test_a_filed_move_out_is_certified_as_planned_until_its_date_then_as_removed(
    client: TestClient, engine: sa.Engine, clock: FixedClock, headers: dict[str, dict[str, str]]
) -> None:
    head, child = _family(client, headers["clerk"])
    _move_out(client, headers["clerk"], [head["record_id"], child["record_id"]])
    content = _content(engine, clock, head["resident_code"])
    assert content.title == "住民票の写し" and content.scope == "世帯全員"
    assert len(content.persons) == 2
    planned = {line.key: line.value for line in content.persons[0].lines}["move_out_planned"]
    assert planned == "令和7年4月10日　神奈川県藤沢市鵠沼石上1丁目1番1号"
    clock.advance(timedelta(days=9))  # 2025-04-10, the planned date: a 除票 from today
    removed = _content(engine, clock, head["resident_code"], removed=True)
    assert removed.title == "住民票の除票の写し"
    lines = {line.key: line.value for line in removed.persons[0].lines}
    assert (lines["removal_reason"], lines["removed_on"]) == ("転出予定", "令和7年4月10日")


def test_withdrawal_and_cancellation_through_the_api(
    client: TestClient, engine: sa.Engine, headers: dict[str, dict[str, str]]
) -> None:
    head, child = _family(client, headers["clerk"])
    ids = [head["record_id"], child["record_id"]]
    _move_out(client, headers["clerk"], ids)
    body = {"record_ids": ids, "reason": "転勤の取りやめ", "notified_on": "2025-04-01"}
    r = client.post(f"{API}/events/move-out-withdrawal", json=body, headers=headers["clerk"])
    assert r.status_code == 201, r.text
    assert [x["status"] for x in r.json()] == ["active", "active"]
    assert r.json()[0]["move_out_planned_on"] is None
    assert _reasons(engine, head["record_id"])[-2:] == ["move_out_planned", "move_out_withdrawn"]
    again = client.post(f"{API}/events/move-out-withdrawal", json=body, headers=headers["clerk"])
    assert again.status_code == 422
    assert again.json()["detail"][0]["type"] == "no_pending_move_out"

    cancel = {"record_ids": ids, "reason": "転出取消の誤り"}
    r = client.post(f"{API}/events/change-cancellation", json=cancel, headers=headers["clerk"])
    assert r.status_code == 403
    r = client.post(f"{API}/events/change-cancellation", json=cancel, headers=headers["supervisor"])
    assert r.status_code == 201, r.text
    assert [x["status"] for x in r.json()] == ["removed", "removed"]
    assert _reasons(engine, head["record_id"])[-1] == "change_cancelled"
    with engine.connect() as conn:
        actions = [a for (a,) in conn.execute(sa.select(oplog.c.action).order_by(oplog.c.entry_id))]
    assert {"withdraw_move_out", "cancel_change"} <= set(actions)


def test_the_move_in_refuses_a_move_out_certificate_that_disagrees(
    client: TestClient, engine: sa.Engine, headers: dict[str, dict[str, str]]
) -> None:
    r = _move_in(client, headers["clerk"], move_out_certificate=_certificate(given_name="次郎"))
    assert r.status_code == 422
    (err,) = r.json()["detail"]
    assert err["type"] == "certificate_mismatch"
    assert err["loc"][-2:] == ["move_out_certificate", "given_name"]
    assert "転出証明書" in err["msg_ja"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(record_changes)).scalar() == 0


def test_openapi_lists_the_new_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "post" in paths[f"{API}/events/move-out-withdrawal"]
    assert "post" in paths[f"{API}/events/change-cancellation"]
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "move_out_certificate" in schemas["MoveInIn"]["properties"]


def test_a_record_read_as_of_a_day_follows_the_planned_date(
    client: TestClient, clock: FixedClock, headers: dict[str, dict[str, str]]
) -> None:
    head, _child = _family(client, headers["clerk"])
    _move_out(client, headers["clerk"], [head["record_id"], _child["record_id"]])
    url = f"{API}/residents/{head['record_id']}/as-of"
    today = client.get(url, headers=headers["clerk"]).json()
    assert (today["status"], today["move_out_planned_on"]) == ("active", "2025-04-10")
    assert today["removed_on"] is None
    eve = client.get(url, params={"on": "2025-04-09"}, headers=headers["clerk"]).json()
    assert eve["status"] == "active"
    day = client.get(url, params={"on": "2025-04-10"}, headers=headers["clerk"]).json()
    assert (day["status"], day["removed_on"]) == ("removed", "2025-04-10")
    clock.advance(timedelta(days=9))
    assert client.get(url, headers=headers["clerk"]).json()["status"] == "removed"
    bad = client.get(url, params={"on": "2025-02-30"}, headers=headers["clerk"])
    assert bad.status_code == 422
    assert client.get(f"{API}/residents/nobody/as-of", headers=headers["clerk"]).status_code == 404


def test_a_foreign_residents_move_in_continues_the_alias_history_its_certificate_shows(
    client: TestClient, engine: sa.Engine, headers: dict[str, dict[str, str]]
) -> None:
    """令30条の27: the 通称 and its history, as the paper 転出証明書 shows them, are the move-in's
    input; a history that does not read in order is refused naming the entry."""
    history = [
        {
            "alias_name": "金田",
            "action": "entered",
            "on": "2015-04-01",
            "municipality": "大阪府大阪市",
        },
        {
            "alias_name": "金田",
            "action": "deleted",
            "on": "2019-06-01",
            "municipality": "大阪府大阪市",
        },
        {
            "alias_name": "金山",
            "action": "entered",
            "on": "2020-01-10",
            "municipality": "東京都府中市",
        },
    ]
    lee = {"family_name": "李", "given_name": "ミンジュン"}
    person = _person() | lee | {"family_name_kana": "イ", "given_name_kana": "ミンジュン"}
    person["foreign"] = {"nationality": "韓国", "category": "special_permanent"}

    def move_in(shown: list[dict[str, str]]) -> Any:
        certificate = _certificate(**lee, alias_history=shown)
        return _move_in(client, headers["clerk"], person=person, move_out_certificate=certificate)

    r = move_in([history[1], history[0]])
    assert r.status_code == 422
    (err,) = r.json()["detail"]
    assert err["type"] == "not_in_force" and "通称履歴の1行目" in err["msg_ja"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(record_changes)).scalar() == 0
    r = move_in(history)
    assert r.status_code == 201, r.text
    record = client.get(f"{API}/residents/{r.json()['record_id']}", headers=headers["clerk"]).json()
    assert record["alias_name"] == "金山"
    assert record["alias_history"] == history
