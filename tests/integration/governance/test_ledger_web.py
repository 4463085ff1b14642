"""The ledgers on the web, on one SQLite registry app: each terminal page drawn in Japanese, a
refused post shown on its page naming the field, and the JSON API under hypothesis — no input
gives a 500, every 422 names the field and the rule with a Japanese message, and a role without
the permission gets a 403 that is in the oplog. (The services run on PostgreSQL too in
test_ledger_services.py; the registry app's no-500 property drives these routes there.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.core.clock import SystemClock
from juki.nodes.apps import create_registry_app
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from juki.storage.engine import make_engine
from juki.storage.migrate import create_migrated
from support.no500 import ODD_STRINGS, Shapes
from support.terminal_session import open_session


class Web:
    def __init__(self, tmp: Path) -> None:
        url = f"sqlite:///{tmp}/registry.db"
        create_migrated(url)
        self.engine = make_engine(url)
        self.app: FastAPI = create_registry_app(self.engine)
        registrar = Actor("am", Role.ACCESS_MANAGER, "console")
        self.tokens = {
            role: create_operator(
                SqlUnitOfWork(self.engine), registrar, f"w-{role.value}"[:32], "職員", role
            )
            for role in (Role.SYSTEM_ADMINISTRATOR, Role.SECURITY_CHIEF, Role.COUNTER_CLERK)
        }
        self.api = TestClient(self.app)
        self.spec = self.api.get("/openapi.json").json()

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}", "Content-Type": "application/json"}

    def terminal(self, role: Role) -> tuple[TestClient, str]:
        client = TestClient(self.app)
        return client, open_session(client, self.engine, self.tokens[role])


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    built = Web(tmp_path_factory.mktemp("ledgers-web"))
    try:
        yield built
    finally:
        built.engine.dispose()


def _error_of(page: str) -> str:
    found = re.search(r'id="form-error"><p>(.*?)</p><p class="hint">項目: (\w+)', page)
    assert found, page[-1500:]
    return f"{found.group(2)}: {found.group(1)}"


def test_every_ledger_page_draws_and_a_refused_post_names_its_field(web: Web) -> None:
    admin, csrf = web.terminal(Role.SYSTEM_ADMINISTRATOR)
    today = SystemClock().now().date().isoformat()
    posts = {
        "/terminal/ledgers/room-access": {
            "room": "server_room", "entrant_name": "保守 次郎", "entrant_org": "株式会社保守",
            "purpose": "CS保守点検", "permitted_on": today,
        },
        "/terminal/ledgers/room-access/entry": {"access_id": "1"},
        "/terminal/ledgers/config": {
            "kind": "program", "name": "CSアプリケーション", "model": "住基CS", "version": "3.2",
            "location": "CSサーバ", "reason": "導入",
        },
        "/terminal/ledgers/incidents": {"kind": "intrusion", "title": "不審な通信の検知"},
    }  # fmt: skip
    for path, form in posts.items():
        r = admin.post(path, data={"csrf": csrf, **form}, follow_redirects=False)
        assert r.status_code == 303, (path, r.text[-800:])
    r = admin.post(
        "/terminal/ledgers/contracts",
        data={"csrf": csrf, "contract_id": "K-1", "contractor": "保守会社", "subject": "CS保守",
              "starts_on": "2026-04-01", "ends_on": "2027-03-31", "clause": ["ownership"]},
    )  # fmt: skip
    assert r.status_code == 422
    assert _error_of(r.text).startswith(
        "clauses: 契約書に必要な記載事項がありません：秘密保持の義務"
    )
    r = admin.post(
        "/terminal/ledgers/incidents/1/steps",
        data={"csrf": csrf, "step": "investigate", "note": "調査"},
    )
    assert r.status_code == 422
    assert (
        _error_of(r.text) == "step: 次の対応手順は「運用管理者から管理者への報告」（001 第22③）です"
    )
    nul = {**posts["/terminal/ledgers/room-access"], "purpose": "点\x00検"}
    r = admin.post("/terminal/ledgers/room-access", data={"csrf": csrf, **nul})
    assert r.status_code == 422 and "入力内容が正しくありません" in r.text
    r = admin.post("/terminal/ledgers/room-access", data={"csrf": "x", **posts[next(iter(posts))]})
    assert r.status_code == 422 and "画面の有効期限が切れました" in r.text

    chief, _ = web.terminal(Role.SECURITY_CHIEF)
    pages = {
        "/terminal/ledgers": "管理簿",
        "/terminal/ledgers/room-access": "入室中",
        "/terminal/ledgers/config": "CSアプリケーション",
        "/terminal/ledgers/operator-cards": "操作識別カード・照合情報の管理簿",
        "/terminal/ledgers/contracts": "秘密保持の義務（001 第24⑴・002 第19条⑷）",
        "/terminal/ledgers/incidents": "不審な通信の検知",
        "/terminal/ledgers/incidents/1": "対応マニュアルに基づく対処",
    }
    for path, text in pages.items():
        r = chief.get(path)
        assert r.status_code == 200, path
        assert text in r.text, path
    assert 'href="/terminal/ledgers">管理簿</a>' in chief.get("/terminal/").text
    clerk, _ = web.terminal(Role.COUNTER_CLERK)
    assert "管理簿" not in clerk.get("/terminal/").text
    assert clerk.get("/terminal/ledgers/incidents").status_code == 403


LEDGER_ROUTES = sorted(
    f"{method.upper()} {path}"
    for path, ops in create_registry_app(sa.create_engine("sqlite://")).openapi()["paths"].items()
    if path.startswith("/api/v1/ledgers")
    for method in ops
)


def test_the_ledger_api_is_in_the_openapi_document() -> None:
    assert len(LEDGER_ROUTES) == 22


def _encoded(value: str) -> str:
    """Percent-encoded byte by byte, lone surrogates included (what a client could send)."""
    raw = value.encode("utf-8", "surrogatepass")
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else f"%{b:02X}" for b in raw)


def _parts(web: Web, route: str) -> st.SearchStrategy[tuple[str, bytes | None]]:
    method, path = route.split(" ", 1)
    operation = web.spec["paths"][path][method.lower()]
    shapes = Shapes(web.spec, ["1", "K-1", "server_room", "report", "2026-04-01"])
    ids = st.one_of(
        st.sampled_from(["1", "2", "K-1", "0", "-1", "99999999999999999999"]),
        st.sampled_from(ODD_STRINGS),
        st.text(max_size=20),
    )
    filled = ids.map(lambda v: re.sub(r"\{\w+\}", _encoded(v) or "x", path))
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return st.tuples(filled, st.none())
    body = shapes.of(content["application/json"]["schema"]).map(
        lambda v: json.dumps(v).encode("ascii")
    )
    return st.tuples(filled, body)


@pytest.mark.parametrize("route", LEDGER_ROUTES)
def test_no_input_to_the_ledger_api_gives_a_server_error(web: Web, route: str) -> None:
    method = route.split(" ", 1)[0]
    role = Role.SECURITY_CHIEF if "operator-cards" in route else Role.SYSTEM_ADMINISTRATOR

    @settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(parts=_parts(web, route))
    def run(parts: tuple[str, bytes | None]) -> None:
        url, body = parts
        r = web.api.request(method, url, content=body, headers=web.headers(role))
        assert r.status_code < 500, r.text
        if r.status_code == 422:
            for item in r.json()["detail"]:
                assert item["loc"] and item["type"] and item["msg_ja"], item

    run()


def test_a_refused_role_is_a_403_in_the_oplog(web: Web) -> None:
    body: dict[str, Any] = {"kind": "leak", "title": "x", "occurred_at": "2026-04-01T09:00:00"}
    r = web.api.post(
        "/api/v1/ledgers/incidents", json=body, headers=web.headers(Role.COUNTER_CLERK)
    )
    assert r.status_code == 403 and r.json()["msg_ja"]
    r = web.api.post("/api/v1/ledgers/incidents", json={**body, "title": ""},
                     headers=web.headers(Role.SECURITY_CHIEF))  # fmt: skip
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "title"]
    with web.engine.connect() as conn:
        rows = conn.execute(
            sa.select(oplog.c.actor_id, oplog.c.outcome).where(oplog.c.action == "report_incident")
        ).all()
    assert ("w-counter_clerk", "denied") in rows and ("w-security_chief", "rejected") in rows
