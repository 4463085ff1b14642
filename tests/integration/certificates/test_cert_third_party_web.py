"""A third party served at the counter terminal (HTML over HTTP, no browser), on SQLite and
PostgreSQL: the 申出's items on the form, refused with the field named, confirmed, issued, kept
with the certificate, and a registered resident's 本人通知 recorded."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.certificates import tables as certificate_tables
from juki.certificates.services.self_notice import register_self_notice, self_notices_to_send
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import CLERK, MANAGER, CertEnv, registry_app
from support.terminal_session import open_session


@pytest.fixture
def client(env: CertEnv) -> Iterator[TestClient]:
    with TestClient(registry_app(env), base_url="https://testserver") as c:
        yield c


def login(
    client: TestClient, env: CertEnv, role: Role = Role.COUNTER_CLERK, operator: str = "clerk-1"
) -> str:
    token = create_operator(
        SqlUnitOfWork(env.engine, clock=env.reg.clock), MANAGER, operator, "窓口 一郎", role
    )
    return open_session(client, env.engine, token, "T01")


def third_party_form(env: CertEnv, csrf: str, **over: Any) -> dict[str, Any]:
    p = env.people
    data: dict[str, Any] = {
        "csrf": csrf,
        "resident_code": p.head.resident_code,
        "kind": "residence",
        "members": [p.head.resident_code, p.wife.resident_code],
        "copies": "1",
        "requester": "third_party",
        "tp_basis": "entrusted",
        "tp_purpose": "受任した相続事件の相続人調査（遺産分割調停申立て）",
        "tp_name": "鈴木　法子",
        "tp_address": "東京都千代田区霞が関1丁目1番3号",
        "tp_qualification": "lawyer",
        "tp_registration": "第12345号",
        "tp_client": "高橋　次郎",
        "tp_document": "professional_id",
        "tp_document_number": "12345",
    }
    data.update(over)
    return data


def hidden_fields(page: str) -> dict[str, list[str]]:
    """What the confirm screen's form posts back, as a browser would."""
    form = page[page.index('action="/terminal/certificates"') :]
    posted: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        posted.setdefault(name, []).append(html.unescape(value))
    return posted


def test_a_third_party_is_served_at_the_counter_and_the_registered_wife_is_noticed(
    client: TestClient, env: CertEnv
) -> None:
    register_self_notice(env.desk.uow(), CLERK, env.people.wife.resident_code)
    csrf = login(client, env)
    form = client.get("/terminal/certificates/new", params={"code": env.people.head.resident_code})
    assert "第三者請求の申出事項" in form.text and 'name="tp_purpose"' in form.text
    confirm = client.post("/terminal/certificates/confirm", data=third_party_form(env, csrf))
    assert confirm.status_code == 200, confirm.text
    assert "受任した相続事件の相続人調査" in confirm.text
    assert "弁護士　鈴木　法子" in confirm.text and "法12条の3第2項" in confirm.text
    issued = client.post(
        "/terminal/certificates", data=hidden_fields(confirm.text), follow_redirects=False
    )
    assert issued.status_code == 303, issued.text
    with env.engine.connect() as conn:
        [kept] = conn.execute(sa.select(certificate_tables.third_party_requests)).mappings()
    assert (kept["basis"], kept["qualification"], kept["client_name"]) == (
        "entrusted",
        "lawyer",
        "高橋　次郎",
    )
    assert kept["certificate_id"] in issued.headers["location"]
    [notice] = self_notices_to_send(env.desk.uow(), CLERK)
    assert notice.resident_code == env.people.wife.resident_code
    assert notice.requester_name == "弁護士　鈴木　法子"


# Each incomplete 申出 on one registry and signed-in terminal: a refusal changes nothing
# (checked after each), so the cases cannot hide one another.
INCOMPLETE: list[tuple[dict[str, Any], str, str]] = [
    ({"tp_purpose": ""}, "third_party.purpose", "利用目的を入力してください"),
    ({"tp_document": ""}, "third_party.id_document", "本人確認書類の種類を選択してください"),
    ({"tp_document_number": " "}, "third_party.id_document_number", "本人確認書類の番号"),
    ({"tp_basis": ""}, "third_party.basis", "第三者請求の根拠"),
    ({"tp_basis": "because"}, "third_party.basis", "請求の根拠を選択してください"),
    ({"tp_client": ""}, "third_party.client_name", "依頼者の氏名を入力してください"),
]


def test_a_third_party_without_purpose_or_identification_is_refused_naming_the_field(
    client: TestClient, env: CertEnv
) -> None:
    csrf = login(client, env)
    before = env.state()
    for over, field, message in INCOMPLETE:
        for path in ("/terminal/certificates/confirm", "/terminal/certificates"):
            response = client.post(path, data=third_party_form(env, csrf, **over))
            assert response.status_code == 422, (field, path, response.text)
            assert message in response.text and 'role="alert"' in response.text, (field, path)
            assert f"項目: {field}" in response.text, (field, path)
            assert "鈴木　法子" in response.text, (field, path)  # the form comes back as posted
        assert env.state() == before, field


def test_the_register_screen_shows_who_obtained_the_certificate_and_why(
    client: TestClient, env: CertEnv
) -> None:
    csrf = login(client, env)
    confirm = client.post("/terminal/certificates/confirm", data=third_party_form(env, csrf))
    issued = client.post(
        "/terminal/certificates", data=hidden_fields(confirm.text), follow_redirects=False
    )
    assert issued.status_code == 303
    login(client, env, Role.REGISTRY_SUPERVISOR, "super-1")
    register = client.get("/terminal/register")
    assert register.status_code == 200
    assert "第三者請求（法12条の3第2項）: 弁護士　鈴木　法子" in register.text
    assert "利用目的: 受任した相続事件の相続人調査" in register.text
    assert "確認書類: 資格者の身分証明書" in register.text


def test_the_self_notice_screen_registers_lists_and_marks_sent(
    client: TestClient, env: CertEnv
) -> None:
    csrf = login(client, env)
    assert "本人通知（登録・廃止、送付する通知）" in client.get("/terminal/").text
    wife = env.people.wife.resident_code
    registered = client.post(
        "/terminal/self-notices/registrations",
        data={"csrf": csrf, "resident_code": wife, "action": "register"},
    )
    assert registered.status_code == 200 and "本人通知の登録を受け付けました" in registered.text
    again = client.post(
        "/terminal/self-notices/registrations",
        data={"csrf": csrf, "resident_code": wife, "action": "register"},
    )
    assert again.status_code == 422 and "既に本人通知に登録されています" in again.text
    assert "項目: resident_code" in again.text
    confirm = client.post("/terminal/certificates/confirm", data=third_party_form(env, csrf))
    client.post("/terminal/certificates", data=hidden_fields(confirm.text))
    listed = client.get("/terminal/self-notices")
    assert "送付する通知（1件）" in listed.text
    assert (
        "弁護士　鈴木　法子に交付しました" in listed.text and env.people.wife.address in listed.text
    )
    notice_id = re.search(r'name="notice_id" value="([0-9a-f-]{36})"', listed.text)
    assert notice_id
    sent = client.post(
        "/terminal/self-notices/sent", data={"csrf": csrf, "notice_id": notice_id.group(1)}
    )
    assert "送付済みにしました" in sent.text and "送付する通知（0件）" in sent.text
    withdrawn = client.post(
        "/terminal/self-notices/registrations",
        data={"csrf": csrf, "resident_code": wife, "action": "withdraw"},
    )
    assert "本人通知の登録を廃止しました" in withdrawn.text
    no_csrf = client.post(
        "/terminal/self-notices/registrations", data={"resident_code": wife, "action": "register"}
    )
    assert no_csrf.status_code == 422
    assert self_notices_to_send(env.desk.uow(), CLERK) == []
