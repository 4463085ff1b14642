"""The terminal's 転居 entry and 審査 screens without a browser: a refused entry is a Japanese
page naming the rule (422, or 409 for another operator's lock), and no input to them, nor to
the life-event entry screens (/entry/…) — NUL, surrogates, noncharacters, junk dates and ids,
other operators' changes — gives a 500.

One populated SQLite registry for the module, copied from the session's template (the SQL runs
on both databases in tests/integration/registry/test_review_sql.py; the whole flow in Chromium
in tests/e2e/test_review_browser.py).
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from juki.certificates.terminal.entry_screens import SCREENS
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import MANAGER, CertEnv, registry_app
from support.no500 import ODD_STRINGS
from support.terminal_session import open_session


def _bytes(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"))


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
        """A form post, each name and value percent-encoded byte by byte as a client may send
        it (a lone surrogate becomes the bytes that would encode it, which the test client
        refuses)."""
        client, csrf = self.clients[who]
        fields = [("csrf", csrf)] + [
            (k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])
        ]
        body = "&".join(f"{_bytes(k)}={_bytes(v)}" for k, v in fields)
        return client.post(
            f"/terminal{path}",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )


@pytest.fixture(scope="module")
def desk(module_env: CertEnv) -> Desk:
    return Desk(module_env)


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
ENTRY_KINDS: Final = tuple(SCREENS)
SUBJECT: Final = "<a resident>"  # stands for a real record's id (the household's head)
RECORDS: Final = ("", "00000000-0000-4000-8000-000000000000", SUBJECT)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/relocation",
            "/review/approval",
            "/review/rejection",
            "/review/withdrawal",
            # the life-event entry screens (juki.certificates.terminal.entry)
            *(f"/entry/{kind}" for kind in ENTRY_KINDS),
            "/entry/no-such-kind",
        ]
    ),
    record=st.one_of(FIELD, st.sampled_from(RECORDS)),
    change=st.one_of(FIELD, st.uuids().map(str)),
    address=FIELD,
    moved_on=st.one_of(FIELD, st.sampled_from(["2025-03-30", "2025-04-02", "1800-01-01"])),
    step=st.one_of(st.sampled_from(["confirm", "file", "edit"]), FIELD),
)
@example(  # a lone surrogate in a field's name (rel.<record id>) as well as in its value
    path="/relocation", record="\ud800", change="", address="", moved_on="", step="confirm"
)
def test_no_input_to_the_review_screens_gives_a_server_error(
    desk: Desk, path: str, record: str, change: str, address: str, moved_on: str, step: str
) -> None:
    if record == SUBJECT:
        record = desk.env.people.head.record_id
    data = {
        "record": record,
        "members": [record],
        "record_ids": [record, address],
        "change": change,
        "reason": address,
        "new_address": address,
        "moved_on": moved_on,
        "step": step,
        **dict.fromkeys(("family_name", "given_name_kana", "address", "note"), address),
        **dict.fromkeys(("birth_date", "died_on", "planned_on", "effective_on"), moved_on),
        **dict.fromkeys(("sex", "relationship", "origin", "new_householder_id"), moved_on),
        "into_resident_code": record,
        f"rel.{record}": address,
    }
    r = desk.post("clerk-u", path, data)
    assert r.status_code < 500, r.text[:300]
    query = quote(record.encode("utf-8", "surrogatepass"))
    r = desk.clients["clerk-u"][0].get(f"/terminal/relocation?record={query}")
    assert r.status_code < 500, r.text[:300]
    r = desk.clients["clerk-u"][0].get(f"/terminal{path}?record={query}")
    assert r.status_code < 500, r.text[:300]
