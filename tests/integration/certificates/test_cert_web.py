"""The public verification API and page, and the terminal's screens over HTTP (no browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from juki.certificates import services
from juki.certificates import tables as certificate_tables
from juki.certificates.model import CertificateKind, CertificateRequest
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import (
    CLERK,
    KUZU_IVS,
    MANAGER,
    SUPERVISOR,
    TSUJI_IVS,
    CertEnv,
    registry_app,
)
from support.terminal_session import open_session

API = "/api/v1/certificates"


@pytest.fixture
def client(env: CertEnv) -> Iterator[TestClient]:
    with TestClient(registry_app(env), base_url="https://testserver") as c:
        yield c


@pytest.fixture
def issued(env: CertEnv) -> Any:
    return env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, env.people.head.resident_code)
    )


# The public API and page tests that only read share one registry, app and certificate per
# backend (read_env, read_issued); a test that changes what it reads (voiding) keeps its own (env).


@pytest.fixture(scope="module")
def reader(read_env: CertEnv) -> Iterator[TestClient]:
    with TestClient(registry_app(read_env), base_url="https://testserver") as c:
        yield c


# -- the public API -----------------------------------------------------------------------------


def test_status_needs_id_and_digest_and_reveals_only_names(
    reader: TestClient, read_issued: Any
) -> None:
    url = f"{API}/{read_issued.certificate_id}/verification"
    response = reader.get(url, params={"digest": read_issued.digest})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "valid" and body["kind"] == "residence"
    assert body["names"] == [f"{KUZU_IVS}西　{TSUJI_IVS}"]  # the IVS survives JSON
    assert body["issuer_name"] == "東京都稲城市"
    text = response.text
    for secret in ("address", "birth", "resident_code", "my_number", "honseki"):
        assert secret not in text
    wrong = reader.get(url, params={"digest": "0" * 64})
    assert wrong.status_code == 404 and wrong.json()["type"] == "not_found"
    unknown = reader.get(
        f"{API}/00000000-0000-0000-0000-000000000000/verification",
        params={"digest": read_issued.digest},
    )
    assert unknown.status_code == 404
    assert wrong.json() == unknown.json()  # no hint whether the id exists


MALFORMED_STATUS: list[tuple[str, dict[str, str]]] = [
    ("/not-a-uuid!/verification", {"digest": "0" * 64}),
    ("/00000000-0000-0000-0000-000000000000/verification", {"digest": "xyz"}),
    ("/00000000-0000-0000-0000-000000000000/verification", {}),
]


def test_malformed_status_requests_are_422(reader: TestClient) -> None:
    for path, params in MALFORMED_STATUS:
        response = reader.get(f"{API}{path}", params=params)
        assert response.status_code in (404, 422), (path, params)
        if response.status_code == 422:
            assert response.json()["detail"][0]["msg_ja"], (path, params)


def test_uploaded_pdf_is_verified(client: TestClient, env: CertEnv, issued: Any) -> None:
    response = client.post(
        f"{API}/verification", content=issued.pdf, headers={"Content-Type": "application/pdf"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (
        body["ok"] and body["status"] == "valid" and body["certificate_id"] == issued.certificate_id
    )
    changed = bytearray(issued.pdf)
    changed[1000] ^= 0x10
    response = client.post(f"{API}/verification", content=bytes(changed))
    assert response.status_code == 200 and not response.json()["ok"]
    assert client.post(f"{API}/verification", content=b"junk").json()["reason"] == "not_pdf"
    too_big = client.post(f"{API}/verification", content=b"%PDF-" + b"0" * (9 * 1024 * 1024))
    assert too_big.status_code == 413
    services.void_certificate(env.desk.uow(), SUPERVISOR, issued.certificate_id, "回収")
    voided = client.post(f"{API}/verification", content=issued.pdf).json()
    assert not voided["ok"] and voided["reason"] == "voided"


# -- the public page ----------------------------------------------------------------------------


def test_verification_page_from_the_qr_code(reader: TestClient, read_issued: Any) -> None:
    page = reader.get(f"/verify/{read_issued.certificate_id}", params={"d": read_issued.digest})
    assert page.status_code == 200
    assert "有効です" in page.text
    assert f"{KUZU_IVS}西　{TSUJI_IVS}" in page.text  # the variant reaches the page
    assert read_issued.issue_numbers[0] in page.text
    assert "東長沼" not in page.text  # no address
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    forged = reader.get(f"/verify/{read_issued.certificate_id}", params={"d": "1" * 64})
    assert forged.status_code == 404 and "発行されていません" in forged.text
    bad = reader.get("/verify/check", params={"certificate_id": "x", "d": "y"})
    assert bad.status_code == 422 and "入力してください" in bad.text
    assert reader.get("/verify/").status_code == 200


def test_verification_page_with_a_pdf(reader: TestClient, read_issued: Any) -> None:
    page = reader.post("/verify/pdf", files={"file": ("c.pdf", read_issued.pdf, "application/pdf")})
    assert page.status_code == 200 and "真正かつ有効な証明書です" in page.text
    tampered = bytearray(read_issued.pdf)
    tampered[-50] ^= 0x01
    page = reader.post("/verify/pdf", files={"file": ("c.pdf", bytes(tampered), "application/pdf")})
    assert "有効と確認できません" in page.text
    assert f"{KUZU_IVS}西" not in page.text  # nothing from a failed file is shown as fact


# -- the terminal over HTTP ---------------------------------------------------------------------


def tokens(env: CertEnv) -> dict[str, str]:
    clock = env.reg.clock
    return {
        "clerk": create_operator(
            SqlUnitOfWork(env.engine, clock=clock),
            MANAGER,
            "clerk-1",
            "窓口 一郎",
            Role.COUNTER_CLERK,
        ),
        "super": create_operator(
            SqlUnitOfWork(env.engine, clock=clock),
            MANAGER,
            "super-1",
            "管理 花子",
            Role.REGISTRY_SUPERVISOR,
        ),
        "auditor": create_operator(
            SqlUnitOfWork(env.engine, clock=clock), MANAGER, "audit-1", "監査 三郎", Role.AUDITOR
        ),
    }


def login(client: TestClient, token: str, terminal: str = "T01") -> str:
    """Signed in (support.terminal_session); return the page's CSRF token."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    return open_session(client, engine, token, terminal)


def test_terminal_requires_sign_in_and_sets_strict_cookies(
    client: TestClient, env: CertEnv
) -> None:
    response = client.get("/terminal/residents", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/terminal/login"
    form = client.get("/terminal/login")
    assert "照合ID" in form.text and "暗証番号" in form.text
    assert "script-src 'self'" in form.headers["content-security-policy"]
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce
    forged = client.post(
        "/terminal/login/options",
        json={"operator_id": "clerk-1", "terminal": "T01", "nonce": "forged"},
    )
    assert forged.status_code == 401 and "有効期限" in forged.json()["message"]
    options = client.post(
        "/terminal/login/options",
        json={"operator_id": "clerk-1", "terminal": "T01", "nonce": nonce.group(1)},
    )
    assert options.status_code == 200 and options.json()["publicKey"]["userVerification"] == (
        "required"
    )
    cookies = [v for k, v in form.headers.multi_items() if k == "set-cookie"]
    nonce_cookie = next(c for c in cookies if c.startswith("juki_login_csrf="))
    for flag in ("HttpOnly", "SameSite=strict", "Path=/terminal", "Secure"):
        assert flag.lower() in nonce_cookie.lower()


def _issue_form(env: CertEnv, csrf: str, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf": csrf,
        "resident_code": env.people.head.resident_code,
        "kind": "residence",
        "members": [env.people.head.resident_code, env.people.wife.resident_code],
        "items": ["householder"],
        "copies": "2",
        "requester": "self",
        "removed": "",
        "override_reason": "",
    }
    data.update(over)
    return data


def test_terminal_issue_flow(client: TestClient, env: CertEnv) -> None:
    csrf = login(client, tokens(env)["clerk"])
    search = client.get("/terminal/residents", params={"kana": "カサイ"})
    assert search.status_code == 200 and f"{KUZU_IVS}西" in search.text
    form = client.get("/terminal/certificates/new", params={"code": env.people.head.resident_code})
    assert form.status_code == 200 and 'accesskey="k"' in form.text
    confirm = client.post("/terminal/certificates/confirm", data=_issue_form(env, csrf))
    assert confirm.status_code == 200 and "600円" in confirm.text
    before = env.count(certificate_tables.certificates)
    done = client.post(
        "/terminal/certificates", data=_issue_form(env, csrf), follow_redirects=False
    )
    assert done.status_code == 303
    assert env.count(certificate_tables.certificates) == before + 1
    result = client.get(done.headers["location"])
    assert "交付し、印刷しました" in result.text
    numbers = re.findall(r"20250401-132250-T01-\d{6}", result.text)
    assert len(set(numbers)) == 2
    cid = re.search(r'id="certificate-id">([0-9a-f-]{36})<', result.text)
    assert cid
    printed = list((env.tmp / "print").glob(f"{cid.group(1)}.pdf"))
    assert printed and printed[0].stat().st_mode & 0o077 == 0
    spoiled = client.post(
        f"/terminal/certificates/{cid.group(1)}/spoiled",
        data={"csrf": csrf, "issue_number": numbers[0], "disposal": "「無効」印を押し裁断"},
        follow_redirects=False,
    )
    assert spoiled.status_code == 303
    assert "書損を記録しました" in client.get(spoiled.headers["location"]).text


# Each bad input on one registry and signed-in terminal: a refusal changes nothing (checked
# after each), so the cases cannot hide one another.
BAD_ISSUE_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"copies": "0"}, "部数"),
    ({"copies": "abc"}, "部数"),
    ({"members": []}, "世帯員"),
    ({"kind": "passport"}, "種類"),
    ({"items": ["my_number"], "requester": "third_party"}, "第三者"),
    ({"items": ["bogus"]}, "記載事項"),
    ({"kind": "seal"}, "印鑑登録"),
]


def test_terminal_bad_input_is_explained_and_changes_nothing(
    client: TestClient, env: CertEnv
) -> None:
    csrf = login(client, tokens(env)["clerk"])
    before = env.state()
    for over, message in BAD_ISSUE_INPUT:
        for path in ("/terminal/certificates/confirm", "/terminal/certificates"):
            response = client.post(path, data=_issue_form(env, csrf, **over))
            assert response.status_code == 422, (over, path, response.text)
            assert message in response.text and 'role="alert"' in response.text, (over, path)
        assert env.state() == before, over


def test_terminal_rejects_a_missing_or_wrong_csrf_token(client: TestClient, env: CertEnv) -> None:
    login(client, tokens(env)["clerk"])
    before = env.state()
    response = client.post("/terminal/certificates", data=_issue_form(env, "0" * 64))
    assert response.status_code == 422 and "有効期限" in response.text
    data = _issue_form(env, "x")
    data.pop("csrf")
    assert client.post("/terminal/certificates", data=data).status_code == 422
    assert env.state() == before


def test_terminal_roles(client: TestClient, env: CertEnv) -> None:
    t = tokens(env)
    issued = env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, env.people.wife.resident_code)
    )
    csrf = login(client, t["clerk"])
    assert client.get("/terminal/register").status_code == 403
    assert client.get(f"/terminal/certificates/{issued.certificate_id}/void").status_code == 403
    denied = client.post(
        f"/terminal/certificates/{issued.certificate_id}/void",
        data={"csrf": csrf, "reason": "誤交付"},
    )
    assert denied.status_code == 403 and "権限がありません" in denied.text
    client.cookies.clear()
    csrf = login(client, t["super"], "T02")
    register = client.get("/terminal/register", params={"day": "2025-04-01"})
    assert register.status_code == 200 and issued.certificate_id in register.text
    assert env.people.wife.resident_code in register.text  # 審査 may see 住民票コード
    voided = client.post(
        f"/terminal/certificates/{issued.certificate_id}/void",
        data={"csrf": csrf, "reason": "誤交付のため回収"},
        follow_redirects=False,
    )
    assert voided.status_code == 303
    assert "無効にしました" in client.get(voided.headers["location"]).text
    client.cookies.clear()
    login(client, t["auditor"], "T09")
    assert client.get("/terminal/residents", params={"kana": "カサイ"}).status_code == 403
    register = client.get("/terminal/register")
    assert register.status_code == 200 and "無効" in register.text
    assert env.people.wife.resident_code not in register.text and "非表示" in register.text
    assert f"/terminal/certificates/{issued.certificate_id}" not in register.text
    assert client.get(f"/terminal/certificates/{issued.certificate_id}").status_code == 403


def test_malformed_form_posts_get_an_html_error(client: TestClient, env: CertEnv) -> None:
    csrf = login(client, tokens(env)["clerk"])
    before = env.state()
    response = client.post(
        "/terminal/certificates", data=_issue_form(env, csrf, resident_code="1" * 40)
    )
    assert response.status_code == 422 and "入力内容が正しくありません" in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert client.post("/verify/pdf").status_code == 422
    assert env.state() == before


def test_support_measure_needs_a_supervisor_at_the_terminal(
    client: TestClient, env: CertEnv
) -> None:
    t = tokens(env)
    code = env.people.supported.resident_code
    csrf = login(client, t["clerk"])
    form = _issue_form(env, csrf, resident_code=code, members=[code], items=[])
    refused = client.post("/terminal/certificates/confirm", data=form)
    assert refused.status_code == 422 and "支援措置" in refused.text
    form["override_reason"] = "本人からの請求（本人確認済み）"
    assert client.post("/terminal/certificates", data=form).status_code == 403
    client.cookies.clear()
    csrf = login(client, t["super"], "T02")
    form["csrf"] = csrf
    assert client.post("/terminal/certificates", data=form, follow_redirects=False).status_code == (
        303
    )
