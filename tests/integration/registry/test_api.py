"""The registry JSON API end to end: HTTP in, services, a migrated database (SQLite and PostgreSQL).

Refused requests are checked to change nothing: the counts of every personal table and of the
outbox are compared before and after.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from juki.core.clock import JST, FixedClock
from juki.core.errors import DomainRuleError, PermissionDeniedError, ValidationError
from juki.core.identifiers import ResidentCode
from juki.core.settings import Settings
from juki.nodes.apps import create_registry_app
from juki.registry.model import Municipality
from juki.registry.store.municipality import add_allotment, save_municipality
from juki.registry.tables import (
    households,
    outbox,
    record_changes,
    resident_records,
    seal_registrations,
)
from juki.security.actors import Actor
from juki.security.operators import authenticate, create_operator, deactivate_operator
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade

# These tests are about the changes themselves, applied as filed (the municipality setting
# `change_review` off); 仮登録 → 本登録 is tested in test_review_api.py and test_review_sql.py.
APPLIED_AT_ONCE = Settings(change_review=False)

ADMIN = Actor("admin", Role.OPERATIONS_MANAGER, "console")
TODAY = date(2025, 4, 1)
HOME = "東京都稲城市東長沼2111番地"
NEW_HOME = "東京都稲城市百村1612番地"
API = "/api/v1"


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 10, 0, tzinfo=JST))


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(migrated_db_url)
    upgrade(engine)
    with engine.begin() as conn:
        save_municipality(conn, Municipality("132250", "東京都", "稲城市"))
        add_allotment(conn, 1322500000, 1322599999, "test")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def tokens(engine: sa.Engine, clock: FixedClock) -> dict[str, str]:
    return {
        "clerk": create_operator(
            SqlUnitOfWork(engine, clock=clock), ADMIN, "clerk.01", "窓口 一郎", Role.COUNTER_CLERK
        ),
        "supervisor": create_operator(
            SqlUnitOfWork(engine, clock=clock),
            ADMIN,
            "super-01",
            "管理 花子",
            Role.REGISTRY_SUPERVISOR,
        ),
    }


@pytest.fixture
def client(engine: sa.Engine, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_registry_app(engine, clock=clock, settings=APPLIED_AT_ONCE)) as c:
        yield c


def auth(token: str, terminal: str = "T-01") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Juki-Terminal": terminal}


@pytest.fixture
def clerk(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["clerk"])


@pytest.fixture
def supervisor(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["supervisor"])


# -- helpers --------------------------------------------------------------------------------


def code(body: str) -> str:
    return ResidentCode.complete(body).value


def bad_check_digit(body: str) -> str:
    good = code(body)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def person(
    given: str = "太郎",
    given_kana: str = "タロウ",
    birth: str = "1980-01-02",
    sex: str = "male",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "family_name": "山田",
        "given_name": given,
        "family_name_kana": "ヤマダ",
        "given_name_kana": given_kana,
        "birth_date": birth,
        "sex": sex,
        "honseki": "東京都稲城市東長沼1番地",
        "koseki_head": "山田　太郎",
        **extra,
    }


def move_in_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person": person(),
        "origin": "certificate",
        "address": HOME,
        "moved_on": "2025-03-25",
        "notified_on": "2025-04-01",
        "previous_address": "東京都府中市宮西町1丁目1番地",
        "placement": {"kind": "new_household"},
        "resident_code": code("0123456789"),
        "move_out_certificate_number": "F-2025-001",
        "previous_lg_code": "132063",
    }
    body.update(overrides)
    return body


def seal_png(side: int = 64) -> bytes:
    img = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(img)
    draw.ellipse((2, 2, side - 3, side - 3), outline=0, width=3)
    draw.text((side // 4, side // 3), "YA", fill=0)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def counts(engine: sa.Engine) -> dict[str, int]:
    tables = (resident_records, record_changes, households, outbox, seal_registrations)
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in tables
        }


def oplog_rows(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(oplog).order_by(oplog.c.entry_id)).mappings()
        return [dict(r) for r in rows]


class Unchanged:
    """Asserts that the block leaves the registry exactly as it found it."""

    def __init__(self, engine: sa.Engine, client: TestClient, headers: dict[str, str]) -> None:
        self.engine, self.client, self.headers = engine, client, headers

    def _state(self) -> tuple[dict[str, int], Any]:
        stats = self.client.get(f"{API}/stats", headers=self.headers)
        assert stats.status_code == 200
        return counts(self.engine), stats.json()

    def __enter__(self) -> Unchanged:
        self.before = self._state()
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert self._state() == self.before


@pytest.fixture
def unchanged(engine: sa.Engine, client: TestClient, clerk: dict[str, str]) -> Unchanged:
    return Unchanged(engine, client, clerk)


def one_error(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert len(detail) == 1, detail
    err: dict[str, Any] = detail[0]
    assert set(err) == {"loc", "type", "msg", "msg_ja"}
    assert err["msg"] and err["msg_ja"]
    return err


@pytest.fixture
def householder(client: TestClient, clerk: dict[str, str]) -> dict[str, Any]:
    r = client.post(f"{API}/events/move-in", json=move_in_body(), headers=clerk)
    assert r.status_code == 201, r.text
    record: dict[str, Any] = r.json()
    return record


# -- the happy path -------------------------------------------------------------------------


def test_health_is_public_and_names_the_municipality(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "lg_code": "132250"}


def test_life_events_from_move_in_to_death(
    client: TestClient, engine: sa.Engine, clerk: dict[str, str]
) -> None:
    # 転入: a new household.
    r = client.post(f"{API}/events/move-in", json=move_in_body(), headers=clerk)
    assert r.status_code == 201, r.text
    parent = r.json()
    assert parent["relationship"] == "householder"
    assert parent["resident_code"] == code("0123456789")
    assert parent["address"] == HOME
    household_id = parent["household_id"]

    # 出生: into that household.
    r = client.post(
        f"{API}/events/birth",
        json={
            "person": person("花子", "ハナコ", "2025-03-28", "female"),
            "household_id": household_id,
            "relationship": "child",
            "notified_on": "2025-04-01",
        },
        headers=clerk,
    )
    assert r.status_code == 201, r.text
    child = r.json()
    assert child["household_id"] == household_id
    assert child["resident_code"] == code("1322500000")  # the first of the allotment

    # A hiragana query finds the katakana readings.
    r = client.get(f"{API}/residents", params={"name_kana": "やまだ"}, headers=clerk)
    assert r.status_code == 200
    assert {h["record_id"] for h in r.json()} == {parent["record_id"], child["record_id"]}
    assert "my_number" not in r.json()[0]  # search hits carry no 個人番号
    r = client.get(f"{API}/residents", params={"name_kana": "やまだ　はなこ"}, headers=clerk)
    assert [h["record_id"] for h in r.json()] == [child["record_id"]]

    # One change each so far.
    for rec, reason in ((parent, "move_in"), (child, "birth")):
        r = client.get(f"{API}/residents/{rec['record_id']}/history", headers=clerk)
        assert r.status_code == 200
        assert [c["reason"] for c in r.json()] == [reason]
        assert r.json()[0]["actor_id"] == "clerk.01"

    r = client.get(f"{API}/households/{household_id}", headers=clerk)
    assert r.status_code == 200
    assert [m["record_id"] for m in r.json()["members"]] == [
        parent["record_id"],
        child["record_id"],
    ]

    # 転居: the whole household moves within the city.
    r = client.post(
        f"{API}/events/relocation",
        json={
            "record_ids": [parent["record_id"], child["record_id"]],
            "new_address": NEW_HOME,
            "moved_on": "2025-03-31",
            "notified_on": "2025-04-01",
        },
        headers=clerk,
    )
    assert r.status_code == 201, r.text
    assert {m["address"] for m in r.json()} == {NEW_HOME}
    r = client.get(f"{API}/households/{household_id}", headers=clerk)
    assert r.json()["address"] == NEW_HOME

    # 死亡 of the householder: the one remaining member becomes householder.
    r = client.post(
        f"{API}/events/death",
        json={
            "record_id": parent["record_id"],
            "died_on": "2025-04-01",
            "notified_on": "2025-04-01",
        },
        headers=clerk,
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "removed"
    assert r.json()["removal_reason"] == "death"
    r = client.get(f"{API}/residents/{child['record_id']}", headers=clerk)
    assert r.json()["relationship"] == "householder"
    r = client.get(f"{API}/residents/{child['record_id']}/history", headers=clerk)
    assert [c["reason"] for c in r.json()] == ["birth", "relocation", "household_change"]

    # A removed record is found only when asked for.
    r = client.get(f"{API}/residents", params={"name_kana": "ヤマダタロウ"}, headers=clerk)
    assert r.json() == []
    r = client.get(
        f"{API}/residents",
        params={"name_kana": "ヤマダタロウ", "include_removed": "true"},
        headers=clerk,
    )
    assert [h["status"] for h in r.json()] == ["removed"]

    r = client.get(f"{API}/stats", headers=clerk)
    assert r.status_code == 200
    stats = r.json()
    assert stats["residents"] == 1
    assert stats["households"] == 1
    assert stats["removed_records"] == 1
    assert stats["female"] == 1

    # Every action was logged with the operator and the terminal.
    moves = [e for e in oplog_rows(engine) if e["action"] == "record_move_in"]
    assert [(e["actor_id"], e["terminal_id"], e["outcome"]) for e in moves] == [
        ("clerk.01", "T-01", "ok")
    ]


def test_openapi_document_describes_the_api(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["info"]["title"] == "juki registry API"
    assert "住民基本台帳" in doc["info"]["description"]
    post = doc["paths"]["/api/v1/events/move-in"]["post"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(post["responses"])
    assert post["security"] == [{"operatorToken": []}]


# -- bad input: a clear error, and nothing changes -------------------------------------------


def test_unknown_field_is_refused(
    client: TestClient, clerk: dict[str, str], unchanged: Unchanged
) -> None:
    with unchanged:
        r = client.post(
            f"{API}/events/move-in", json=move_in_body(nickname="タロちゃん"), headers=clerk
        )
        err = one_error(r)
    assert err["loc"] == ["body", "nickname"]
    assert err["type"] == "extra_forbidden"


def test_unknown_field_in_a_nested_object_is_refused(
    client: TestClient, clerk: dict[str, str], unchanged: Unchanged
) -> None:
    with unchanged:
        r = client.post(
            f"{API}/events/move-in",
            json=move_in_body(person=person(blood_type="A")),
            headers=clerk,
        )
        err = one_error(r)
    assert err["loc"] == ["body", "person", "blood_type"]


def test_future_birth_date_names_the_field_and_rule(
    client: TestClient,
    clerk: dict[str, str],
    supervisor: dict[str, str],
    householder: dict[str, Any],
    unchanged: Unchanged,
) -> None:
    """On each event that records a person, one registry: a refusal changes nothing."""
    future = person("花子", "ハナコ", "2025-04-02", "female")
    bodies: dict[str, dict[str, Any]] = {
        "move-in": move_in_body(person=future, resident_code=code("0123456780")),
        "birth": {
            "person": future,
            "household_id": householder["household_id"],
            "relationship": "child",
            "notified_on": "2025-04-01",
        },
        "entry-by-authority": {
            "person": future,
            "address": NEW_HOME,
            "resident_since": "2025-04-01",
            "placement": {"kind": "new_household"},
            "note": "実態調査",
        },
    }
    for event, body in bodies.items():
        headers = supervisor if event == "entry-by-authority" else clerk
        with unchanged:
            r = client.post(f"{API}/events/{event}", json=body, headers=headers)
            err = one_error(r)
        assert err["loc"] == ["body", "person", "birth_date"], event
        assert err["type"] == "future_date", event
        assert "未来" in err["msg_ja"], event


def test_future_date_names_the_field_and_rule(
    client: TestClient, clerk: dict[str, str], householder: dict[str, Any], unchanged: Unchanged
) -> None:
    with unchanged:
        r = client.post(
            f"{API}/events/death",
            json={
                "record_id": householder["record_id"],
                "died_on": "2025-04-02",
                "notified_on": "2025-04-01",
            },
            headers=clerk,
        )
        err = one_error(r)
    assert err["loc"] == ["body", "died_on"]
    assert err["type"] == "future_date"
    assert "未来" in err["msg_ja"]


def test_person_field_errors_point_into_the_person_object(
    client: TestClient, clerk: dict[str, str], unchanged: Unchanged
) -> None:
    with unchanged:
        r = client.post(
            f"{API}/events/move-in",
            json=move_in_body(person=person(given_kana="Taro")),
            headers=clerk,
        )
        err = one_error(r)
    assert err["loc"] == ["body", "person", "given_name_kana"]
    assert err["type"] == "katakana"


def test_bad_resident_code_check_digit_names_the_field(
    client: TestClient, clerk: dict[str, str], unchanged: Unchanged
) -> None:
    with unchanged:
        r = client.post(
            f"{API}/events/move-in",
            json=move_in_body(resident_code=bad_check_digit("0123456789")),
            headers=clerk,
        )
        err = one_error(r)
    assert err["loc"] == ["body", "resident_code"]
    assert err["type"] == "check_digit"


def test_resident_code_of_wrong_shape_is_refused_before_the_service(
    client: TestClient, clerk: dict[str, str], unchanged: Unchanged
) -> None:
    with unchanged:
        r = client.post(
            f"{API}/events/move-in", json=move_in_body(resident_code="１２３"), headers=clerk
        )
        err = one_error(r)
    assert err["loc"] == ["body", "resident_code"]
    assert err["type"] == "string_pattern_mismatch"


def test_search_with_bad_check_digit_names_the_query_parameter(
    client: TestClient, clerk: dict[str, str]
) -> None:
    r = client.get(
        f"{API}/residents", params={"resident_code": bad_check_digit("0123456789")}, headers=clerk
    )
    err = one_error(r)
    assert err["loc"] == ["query", "resident_code"]
    assert err["type"] == "check_digit"


def test_search_needs_a_condition(client: TestClient, clerk: dict[str, str]) -> None:
    err = one_error(client.get(f"{API}/residents", headers=clerk))
    assert err["type"] == "required"
    err = one_error(client.get(f"{API}/residents?name=x&limit=501", headers=clerk))
    assert err["loc"] == ["query", "limit"]


def test_missing_or_unknown_token_is_401(
    client: TestClient, unchanged: Unchanged, engine: sa.Engine
) -> None:
    with unchanged:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
            r = client.post(f"{API}/events/move-in", json=move_in_body(), headers=headers)
            assert r.status_code == 401, headers
            assert r.headers["www-authenticate"] == "Bearer"
            assert r.json()["type"] == "authentication_required"
        r = client.get(f"{API}/stats")
        assert r.status_code == 401


def test_deactivated_operator_is_401(
    client: TestClient, engine: sa.Engine, clock: FixedClock, tokens: dict[str, str]
) -> None:
    assert client.get(f"{API}/stats", headers=auth(tokens["clerk"])).status_code == 200
    deactivate_operator(SqlUnitOfWork(engine, clock=clock), ADMIN, "clerk.01")
    assert client.get(f"{API}/stats", headers=auth(tokens["clerk"])).status_code == 401
    assert authenticate(SqlUnitOfWork(engine), tokens["clerk"], "T-01") is None


def test_malformed_terminal_header_is_422(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.get(f"{API}/stats", headers=auth(tokens["clerk"], terminal="T 01; x"))
    err = one_error(r)
    assert err["loc"] == ["header", "X-Juki-Terminal"]


def test_clerk_may_not_enter_by_authority(
    client: TestClient, engine: sa.Engine, clerk: dict[str, str], unchanged: Unchanged
) -> None:
    body = {
        "person": person(),
        "address": HOME,
        "resident_since": "2025-03-01",
        "placement": {"kind": "new_household"},
        "note": "実態調査により居住を確認",
    }
    with unchanged:
        r = client.post(f"{API}/events/entry-by-authority", json=body, headers=clerk)
    assert r.status_code == 403, r.text
    assert r.json()["type"] == "permission_denied"
    assert r.json()["msg_ja"]
    denied = [e for e in oplog_rows(engine) if e["outcome"] == "denied"]
    assert [(e["actor_id"], e["action"], e["terminal_id"]) for e in denied] == [
        ("clerk.01", "enter_by_authority", "T-01")
    ]


def test_supervisor_may_enter_and_correct_by_authority(
    client: TestClient, supervisor: dict[str, str]
) -> None:
    body = {
        "person": person(),
        "address": HOME,
        "resident_since": "2025-03-01",
        "placement": {"kind": "new_household"},
        "note": "実態調査により居住を確認",
    }
    r = client.post(f"{API}/events/entry-by-authority", json=body, headers=supervisor)
    assert r.status_code == 201, r.text
    record_id = r.json()["record_id"]
    r = client.post(
        f"{API}/events/correction-by-authority",
        json={
            "record_id": record_id,
            "fields": {"koseki_head": "山田　一郎", "electoral_registered": True},
            "effective_on": "2025-04-01",
            "note": "戸籍照会により筆頭者を訂正",
        },
        headers=supervisor,
    )
    assert r.status_code == 201, r.text
    assert r.json()["koseki_head"] == "山田　一郎"
    assert r.json()["electoral_registered"] is True


def test_correction_of_an_identity_field_is_refused(
    client: TestClient, supervisor: dict[str, str], householder: dict[str, Any], engine: sa.Engine
) -> None:
    with Unchanged(engine, client, supervisor):
        r = client.post(
            f"{API}/events/correction-by-authority",
            json={
                "record_id": householder["record_id"],
                "fields": {"resident_code": code("0000000001")},
                "effective_on": "2025-04-01",
                "note": "誤り",
            },
            headers=supervisor,
        )
        err = one_error(r)
    assert err["loc"] == ["body", "fields", "resident_code"]
    assert err["type"] == "not_correctable"


def test_unknown_record_is_404(client: TestClient, clerk: dict[str, str]) -> None:
    r = client.get(f"{API}/residents/no-such-record", headers=clerk)
    assert r.status_code == 404
    assert r.json()["type"] == "not_found"
    r = client.post(
        f"{API}/events/death",
        json={"record_id": "no-such-record", "died_on": "2025-04-01", "notified_on": "2025-04-01"},
        headers=clerk,
    )
    assert r.status_code == 404


def test_domain_rule_on_an_event_is_422_and_changes_nothing(
    client: TestClient, clerk: dict[str, str], householder: dict[str, Any], unchanged: Unchanged
) -> None:
    with unchanged:
        r = client.post(
            f"{API}/events/relocation",
            json={
                "record_ids": [householder["record_id"]],
                "new_address": "神奈川県川崎市麻生区1番地",
                "moved_on": "2025-03-31",
                "notified_on": "2025-04-01",
            },
            headers=clerk,
        )
        err = one_error(r)
    assert err["loc"] == ["body", "new_address"]
    assert err["type"] == "outside_municipality"


# -- seals ----------------------------------------------------------------------------------


def test_seal_registration_then_a_second_one_is_refused(
    client: TestClient,
    engine: sa.Engine,
    clerk: dict[str, str],
    householder: dict[str, Any],
    unchanged: Unchanged,
) -> None:
    png = seal_png()
    body = {"record_id": householder["record_id"], "registered_on": "2025-04-01"}
    r = client.post(f"{API}/seals", json={**body, "image_png_base64": b64(png)}, headers=clerk)
    assert r.status_code == 201, r.text
    seal = r.json()
    assert seal["status"] == "live"
    assert "image_png_base64" not in seal

    r = client.get(f"{API}/residents/{householder['record_id']}/seal", headers=clerk)
    assert r.status_code == 200
    assert base64.b64decode(r.json()["image_png_base64"]) == png

    with unchanged:
        r = client.post(
            f"{API}/seals", json={**body, "image_png_base64": b64(seal_png(80))}, headers=clerk
        )
        err = one_error(r)
    assert err["type"] == "one_seal"
    assert err["loc"] == ["body", "record_id"]

    r = client.post(
        f"{API}/seals/{seal['registration_number']}/abolition",
        json={"abolished_on": "2025-04-01", "reason": "印鑑の紛失"},
        headers=clerk,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "abolished"
    r = client.get(f"{API}/residents/{householder['record_id']}/seal", headers=clerk)
    assert r.status_code == 404


def test_seal_for_a_fourteen_year_old_is_refused(
    client: TestClient, clerk: dict[str, str], householder: dict[str, Any], unchanged: Unchanged
) -> None:
    r = client.post(
        f"{API}/events/move-in",
        json=move_in_body(
            person=person("次郎", "ジロウ", "2010-06-01"),
            placement={
                "kind": "join_household",
                "household_id": householder["household_id"],
                "relationship": "child",
            },
            resident_code=code("0123456780"),
        ),
        headers=clerk,
    )
    assert r.status_code == 201, r.text
    teen = r.json()
    with unchanged:
        r = client.post(
            f"{API}/seals",
            json={
                "record_id": teen["record_id"],
                "registered_on": "2025-04-01",
                "image_png_base64": b64(seal_png()),
            },
            headers=clerk,
        )
        err = one_error(r)
    assert err["type"] == "seal_min_age"


def test_seal_with_bad_base64_names_the_field(
    client: TestClient, clerk: dict[str, str], householder: dict[str, Any], unchanged: Unchanged
) -> None:
    # bad alphabet, a newline, missing padding, nothing
    for payload in ("not base64!", "QUJD\nREVG", "QUJDRA", ""):
        with unchanged:
            r = client.post(
                f"{API}/seals",
                json={
                    "record_id": householder["record_id"],
                    "registered_on": "2025-04-01",
                    "image_png_base64": payload,
                },
                headers=clerk,
            )
            err = one_error(r)
        assert err["loc"] == ["body", "image_png_base64"], payload


def test_seal_that_is_not_a_png_names_the_request_field(
    client: TestClient, clerk: dict[str, str], householder: dict[str, Any], unchanged: Unchanged
) -> None:
    with unchanged:
        r = client.post(
            f"{API}/seals",
            json={
                "record_id": householder["record_id"],
                "registered_on": "2025-04-01",
                "image_png_base64": b64(b"GIF89a not a png"),
            },
            headers=clerk,
        )
        err = one_error(r)
    assert err["loc"] == ["body", "image_png_base64"]
    assert err["type"] == "png"


# -- operators ------------------------------------------------------------------------------


def test_create_operator_stores_only_the_token_hash(
    engine: sa.Engine, clock: FixedClock, tokens: dict[str, str]
) -> None:
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_sha256 FROM operators")).scalars().all()
    assert all(len(h) == 64 for h in stored)
    assert not set(tokens.values()) & set(stored)
    actor = authenticate(SqlUnitOfWork(engine, clock=clock), tokens["supervisor"], "T-09")
    assert actor == Actor("super-01", Role.REGISTRY_SUPERVISOR, "T-09")


def test_create_operator_needs_manage_operators_and_logs_the_refusal(
    engine: sa.Engine, clock: FixedClock
) -> None:
    clerk = Actor("clerk.99", Role.COUNTER_CLERK, "T-02")
    with pytest.raises(PermissionDeniedError):
        create_operator(
            SqlUnitOfWork(engine, clock=clock), clerk, "new.one", "新人", Role.REGISTRY_SUPERVISOR
        )
    entries = oplog_rows(engine)
    assert [(e["actor_id"], e["action"], e["outcome"]) for e in entries] == [
        ("clerk.99", "manage_operators", "denied")
    ]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM operators")).scalar_one() == 0


def test_create_operator_validates_the_id(engine: sa.Engine, clock: FixedClock) -> None:
    bad_ids = ["", "a" * 65, "山田", "a b", "a/b"]
    for operator_id in bad_ids:
        with pytest.raises(ValidationError) as caught:
            create_operator(
                SqlUnitOfWork(engine, clock=clock), ADMIN, operator_id, "名前", Role.COUNTER_CLERK
            )
        assert caught.value.field == "operator_id", operator_id
    assert [e["outcome"] for e in oplog_rows(engine)] == ["rejected"] * len(bad_ids)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM operators")).scalar_one() == 0


def test_no_operator_gets_the_system_role(engine: sa.Engine, clock: FixedClock) -> None:
    with pytest.raises(DomainRuleError) as caught:
        create_operator(SqlUnitOfWork(engine, clock=clock), ADMIN, "robot", "ロボット", Role.SYSTEM)
    assert (caught.value.field, caught.value.rule) == ("role", "system_role")


def test_create_operator_logs_success_in_the_same_transaction(
    engine: sa.Engine, tokens: dict[str, str]
) -> None:
    entries = oplog_rows(engine)
    assert [(e["actor_id"], e["target"], e["outcome"]) for e in entries] == [
        ("admin", "operator:clerk.01", "ok"),
        ("admin", "operator:super-01", "ok"),
    ]
    assert all(t not in e["detail"] for e in entries for t in tokens.values())


# -- the other events, end to end ----------------------------------------------------------


def test_household_events_through_the_api(
    client: TestClient,
    clerk: dict[str, str],
    supervisor: dict[str, str],
    householder: dict[str, Any],
) -> None:
    def post(path: str, body: dict[str, Any], headers: dict[str, str] = clerk) -> Any:
        r = client.post(f"{API}/events/{path}", json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()

    husband = householder
    wife = post(
        "move-in",
        move_in_body(
            person=person("花子", "ハナコ", "1982-05-05", "female"),
            placement={
                "kind": "join_household",
                "household_id": husband["household_id"],
                "relationship": "wife",
            },
            resident_code=code("0123456780"),
        ),
    )
    child = post(
        "birth",
        {
            "person": person("一郎", "イチロウ", "2025-03-30"),
            "household_id": husband["household_id"],
            "relationship": "child",
            "notified_on": "2025-04-01",
        },
    )
    dates = {"effective_on": "2025-04-01", "notified_on": "2025-04-01"}

    renamed = post(
        "name-change",
        {
            "record_id": wife["record_id"],
            "family_name": "佐藤",
            "given_name": "花子",
            "family_name_kana": "さとう",
            "given_name_kana": "ハナコ",
            "former_surname": "山田",
            "former_surname_kana": "ヤマダ",
            **dates,
        },
    )
    assert (renamed["family_name_kana"], renamed["former_surname"]) == ("サトウ", "山田")

    split = post(
        "household-split",
        {
            "record_ids": [wife["record_id"]],
            "new_householder_id": wife["record_id"],
            "relationships": {},
            **dates,
        },
    )
    wife_household = split[0]["household_id"]
    assert wife_household != husband["household_id"]

    merged = post(
        "household-merge",
        {
            "from_household_id": wife_household,
            "into_household_id": husband["household_id"],
            "relationships": {wife["record_id"]: "wife"},
            **dates,
        },
    )
    assert merged[0]["household_id"] == husband["household_id"]

    changed = post(
        "householder-change",
        {
            "household_id": husband["household_id"],
            "new_householder_id": wife["record_id"],
            "relationships": {husband["record_id"]: "husband", child["record_id"]: "child"},
            **dates,
        },
    )
    assert {r["record_id"]: r["relationship"] for r in changed}[wife["record_id"]] == (
        "householder"
    )

    moved_out = post(
        "move-out",
        {
            "record_ids": [child["record_id"]],
            "destination_address": "神奈川県川崎市麻生区上麻生1丁目1番地",
            "planned_on": "2025-04-01",
            "notified_on": "2025-04-01",
        },
    )
    assert moved_out[0]["removal_reason"] == "move_out_planned"
    confirmed = post(
        "move-out-confirmation",
        {
            "resident_code": child["resident_code"],
            "confirmed_address": "神奈川県川崎市麻生区上麻生1丁目1番地",
            "confirmed_on": "2025-04-01",
            "notified_on": "2025-04-01",
        },
        supervisor,
    )
    assert confirmed["move_out_confirmed_on"] == "2025-04-01"

    removed = post(
        "removal-by-authority",
        {"record_id": husband["record_id"], "removed_on": "2025-04-01", "note": "居住実態なし"},
        supervisor,
    )
    assert removed["removal_reason"] == "removal_by_authority"

    r = client.get(f"{API}/households/{husband['household_id']}", headers=clerk)
    assert [m["record_id"] for m in r.json()["members"]] == [wife["record_id"]]
    stats = client.get(f"{API}/stats", headers=clerk).json()
    assert (stats["residents"], stats["removed_records"]) == (1, 2)


def test_my_number_assignment_is_for_the_node_not_for_operators(
    client: TestClient, supervisor: dict[str, str], householder: dict[str, Any]
) -> None:
    r = client.post(
        f"{API}/events/my-number-assignment",
        json={"record_id": householder["record_id"], "my_number": "123456789018"},
        headers=supervisor,
    )
    assert r.status_code == 403


# -- error mapping and health ----------------------------------------------------------------


def test_health_without_a_database_is_503(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")  # never migrated
    try:
        with TestClient(create_registry_app(engine)) as c:
            r = c.get("/health")
    finally:
        engine.dispose()
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "lg_code": None}
