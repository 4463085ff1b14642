"""第三者請求 and 本人通知 through the HTTP API, on SQLite and PostgreSQL: a registration, a third
party's certificate with its 申出 kept, the notice listed and marked sent, the refusals naming
the body's field, and each action in the oplog."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.certificates import tables as certificate_tables
from juki.security import tables as security_tables
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import MANAGER, CertEnv, registry_app

API = "/api/v1/certificates"
CREDITOR: dict[str, Any] = {
    "basis": "own_rights",
    "purpose": "貸金返還請求訴訟の提起のため、債務者の現住所を確認する",
    "requester_name": "株式会社稲城信販",
    "requester_address": "東京都稲城市東長沼2丁目3番4号",
    "corporation": True,
    "person_in_charge": "田中　三郎",
    "id_document": "driver_licence",
    "id_document_number": "第123456789012号",
}


@pytest.fixture
def client(env: CertEnv) -> Iterator[TestClient]:
    with TestClient(registry_app(env), base_url="https://testserver") as c:
        yield c


def bearer(
    env: CertEnv, role: Role = Role.COUNTER_CLERK, operator: str = "clerk-1"
) -> dict[str, str]:
    token = create_operator(
        SqlUnitOfWork(env.engine, clock=env.reg.clock), MANAGER, operator, "窓口 一郎", role
    )
    return {"Authorization": f"Bearer {token}"}


def issue(client: TestClient, auth: dict[str, str], env: CertEnv, **over: Any) -> Any:
    body = {
        "kind": "residence",
        "resident_code": env.people.head.resident_code,
        "members": "all",
        "requester": "third_party",
        "third_party": CREDITOR,
    } | over
    return client.post(f"{API}/counter", json=body, headers=auth)


def test_a_third_partys_certificate_over_the_api_keeps_the_request_and_notices(
    client: TestClient, env: CertEnv
) -> None:
    auth = bearer(env)
    wife = env.people.wife.resident_code
    registered = client.post(
        f"{API}/self-notice/registrations", json={"resident_code": wife}, headers=auth
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["withdrawn_at"] is None
    again = client.post(
        f"{API}/self-notice/registrations", json={"resident_code": wife}, headers=auth
    )
    assert again.status_code == 422 and again.json()["detail"][0]["type"] == "already_registered"
    issued = issue(client, auth, env)
    assert issued.status_code == 200, issued.text
    certificate_id = issued.json()["certificate_id"]
    assert issued.json()["persons"] > 1 and issued.json()["pdf_base64"]
    with env.engine.connect() as conn:
        [kept] = conn.execute(sa.select(certificate_tables.third_party_requests)).mappings()
    assert kept["certificate_id"] == certificate_id
    assert (kept["requester_name"], kept["person_in_charge"]) == ("株式会社稲城信販", "田中　三郎")
    listed = client.get(f"{API}/self-notices", headers=auth)
    assert listed.status_code == 200
    [notice] = listed.json()["notices"]
    assert notice["resident_code"] == wife and notice["certificate_id"] == certificate_id
    assert notice["requester_name"] == "株式会社稲城信販" and notice["basis"] == "own_rights"
    assert "株式会社稲城信販に交付しました" in notice["text_ja"]
    sent = client.post(f"{API}/self-notices/{notice['notice_id']}/sent", headers=auth)
    assert sent.status_code == 200 and sent.json()["sent_at"]
    assert client.get(f"{API}/self-notices", headers=auth).json()["notices"] == []
    twice = client.post(f"{API}/self-notices/{notice['notice_id']}/sent", headers=auth)
    assert twice.status_code == 422 and twice.json()["detail"][0]["type"] == "already_sent"
    withdrawn = client.post(f"{API}/self-notice/registrations/{wife}/withdrawal", headers=auth)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_by"] == "clerk-1"
    with env.engine.connect() as conn:
        actions = list(
            conn.execute(
                sa.select(security_tables.oplog.c.action, security_tables.oplog.c.outcome)
            ).all()
        )
    for action in ("register_self_notice", "send_self_notices", "withdraw_self_notice"):
        assert (action, "ok") in actions


# Each incomplete 申出 on one registry and client: a refusal changes nothing (checked after
# each), so the cases cannot hide one another.
INCOMPLETE: list[tuple[Any, list[str], str]] = [
    (CREDITOR | {"purpose": ""}, ["body", "third_party", "purpose"], "required"),
    (CREDITOR | {"id_document": None}, ["body", "third_party", "id_document"], "required"),
    (CREDITOR | {"person_in_charge": ""}, ["body", "third_party", "person_in_charge"], "required"),
    (None, ["body", "third_party"], "required"),
]


def test_a_third_party_without_purpose_or_identification_is_a_422_naming_the_field(
    client: TestClient, env: CertEnv
) -> None:
    auth = bearer(env)
    before = env.state()
    for third_party, loc, rule in INCOMPLETE:
        response = issue(client, auth, env, third_party=third_party)
        assert response.status_code == 422, (loc, response.text)
        [error] = response.json()["detail"]
        assert (error["loc"], error["type"]) == (loc, rule)
        assert error["msg_ja"], loc
        assert env.state() == before, loc


def test_self_notice_routes_need_their_permissions(client: TestClient, env: CertEnv) -> None:
    auditor = bearer(env, Role.AUDITOR, "audit-1")
    code = env.people.head.resident_code
    assert (
        client.post(
            f"{API}/self-notice/registrations", json={"resident_code": code}, headers=auditor
        ).status_code
        == 403
    )
    assert client.get(f"{API}/self-notices", headers=auditor).status_code == 403
    assert client.get(f"{API}/self-notices").status_code == 401
