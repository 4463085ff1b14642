"""The terminal's 転居 entry and 審査 screens without a browser: a refused entry is a Japanese
page naming the rule (422, or 409 for another operator's lock), and no input to them — NUL,
surrogates, noncharacters, junk dates and ids, other operators' changes — gives a 500.

One populated SQLite registry for the module (the SQL runs on both databases in
tests/integration/registry/test_review_sql.py; the whole flow in Chromium in
tests/e2e/test_review_browser.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import MANAGER, CertEnv, cert_env, registry_app
from support.no500 import ODD_STRINGS
from support.terminal_session import open_session


class Desk:
    def __init__(self, env: CertEnv) -> None:
        self.env = env
        self.clients: dict[str, tuple[TestClient, str]] = {}
        for operator_id, role in (("clerk-t", Role.COUNTER_CLERK), ("clerk-u", Role.COUNTER_CLERK)):
            token = create_operator(
                SqlUnitOfWork(env.engine, clock=env.reg.clock),
                MANAGER,
                operator_id,
                "窓口 太郎",
                role,
            )
            client = TestClient(registry_app(env))
            csrf = open_session(client, env.engine, token, "T01", clock=env.reg.clock)
            self.clients[operator_id] = (client, csrf)

    def post(self, who: str, path: str, data: dict[str, Any]) -> Any:
        """A form post, each value percent-encoded byte by byte as a client may send it (a lone
        surrogate becomes the bytes that would encode it, which the test client refuses)."""
        client, csrf = self.clients[who]
        fields = [("csrf", csrf)] + [
            (k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])
        ]
        body = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in fields)
        return client.post(
            f"/terminal{path}",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    tmp: Path = tmp_path_factory.mktemp("review-terminal")
    env = cert_env(f"sqlite:///{tmp}/registry.db", tmp)
    try:
        yield Desk(env)
    finally:
        env.engine.dispose()


def test_an_entry_refused_by_a_rule_or_a_lock_is_a_japanese_page(desk: Desk) -> None:
    """Opening a resident for editing takes their lock: a second operator who opens them, or
    files a change on them, is told who is editing (「〇〇さんが編集中」) and refused."""
    sealed = desk.env.people.sealed
    client, _ = desk.clients["clerk-t"]
    form = client.get(f"/terminal/relocation?record={sealed.record_id}")
    assert form.status_code == 200 and "転居の入力（仮登録）" in form.text
    opened = desk.clients["clerk-u"][0].get(f"/terminal/relocation?record={sealed.record_id}")
    assert opened.status_code == 409 and "窓口 太郎さん（clerk-t）が編集中です" in opened.text
    outside = desk.post(
        "clerk-t",
        "/relocation",
        {
            "record": sealed.record_id,
            "members": [sealed.record_id],
            "new_address": "神奈川県藤沢市鵠沼海岸1丁目2番3号",
            "moved_on": "2025-03-30",
        },
    )
    assert outside.status_code == 422
    assert re.search(r'role="alert" id="entry-error">[^<]*稲城市', outside.text), outside.text
    body = {
        "record": sealed.record_id,
        "members": [sealed.record_id],
        "new_address": "東京都稲城市大丸2番地",
        "moved_on": "2025-03-30",
    }
    entered = desk.post("clerk-t", "/relocation", body)
    assert entered.status_code == 303 and entered.headers["location"].endswith("msg=entered")
    locked = desk.post("clerk-u", "/relocation", body)
    assert locked.status_code == 409 and "窓口 太郎さん（clerk-t）が編集中です" in locked.text
    # opening the resident is refused too, saying who, with no form to fill in
    opened = desk.clients["clerk-u"][0].get(f"/terminal/relocation?record={sealed.record_id}")
    assert opened.status_code == 409 and 'id="locked"' in opened.text
    assert (
        "窓口 太郎さん（clerk-t）が編集中です" in opened.text and "enter-button" not in opened.text
    )
    listed = desk.clients["clerk-u"][0].get("/terminal/review")
    assert "転居（1名） → 東京都稲城市大丸2番地" in listed.text
    assert "承認（本登録）" not in listed.text  # a clerk reviews nothing


FIELD = st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=30))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        ["/relocation", "/review/approval", "/review/rejection", "/review/withdrawal"]
    ),
    record=FIELD,
    change=st.one_of(FIELD, st.uuids().map(str)),
    address=FIELD,
    moved_on=FIELD,
)
def test_no_input_to_the_review_screens_gives_a_server_error(
    desk: Desk, path: str, record: str, change: str, address: str, moved_on: str
) -> None:
    data = {
        "record": record,
        "members": [record],
        "change": change,
        "reason": address,
        "new_address": address,
        "moved_on": moved_on,
    }
    r = desk.post("clerk-u", path, data)
    assert r.status_code < 500, r.text[:300]
    query = quote(record.encode("utf-8", "surrogatepass"))
    r = desk.clients["clerk-u"][0].get(f"/terminal/relocation?record={query}")
    assert r.status_code < 500, r.text[:300]
