"""広域交付 at B's counter terminal, and A's register of requests on screen, over the API and on
the console."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from juki import cli
from juki.certificates.model import (
    ALL_MEMBERS,
)
from juki.certificates.ports import WideAreaOutcome, WideAreaReplay, WideAreaRequestEntry
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.core.clock import SystemClock
from juki.security.permissions import Role
from support.wide_area import (
    CLERK_B,
    ON_SQLITE_ONLY,
    A,
    B,
    WideArea,
    app_of,
    operator,
    oplog,
    sign_in,
    wide_form,
)

# -- the counter terminal at B, and A's register on screen, over the API and on the console --------


def test_terminal_wide_area_confirms_the_fee_then_issues(wide: WideArea) -> None:
    people = wide.people
    client = TestClient(app_of(wide, wide.b), base_url="https://testserver")
    csrf = sign_in(client, operator(wide.b, "fujisawa-clerk", Role.COUNTER_CLERK))
    form = client.get("/terminal/wide-area")
    assert form.status_code == 200
    assert 'name="from_lg_code"' in form.text
    assert "item-honseki" not in form.text and 'value="honseki"' not in form.text
    chosen = f"{people.head.resident_code}, {people.wife.resident_code}"
    data = wide_form(
        csrf,
        people.head.resident_code,
        members_mode="chosen",
        member_codes=chosen,
        items=["householder"],
        copies="2",
    )
    confirm = client.post("/terminal/wide-area/confirm", data=data)
    assert confirm.status_code == 200, confirm.text
    assert re.search(r'id="fee">600円', confirm.text)
    assert wide.a_register() == []  # confirming asks no one
    issued = client.post("/terminal/wide-area", data=data, follow_redirects=False)
    assert issued.status_code == 303, issued.text
    result = client.get(issued.headers["location"])
    assert "広域交付" in result.text and "稲城市" in result.text
    assert "2通交付し" in result.text
    (cert,) = wide.b_certificates()
    assert (cert["record_lg_code"], cert["operator_id"]) == (A, "fujisawa-clerk")
    (asked,) = wide.a_register()
    assert asked["members"] == chosen.replace(" ", "") and asked["persons"] == 2


# Each refused input on one signed-in terminal (one app, one session): a refusal changes
# nothing, so the cases cannot hide one another; each names its own case when it fails.
BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"from_lg_code": "13225"}, "length"),
    ({"from_lg_code": "132251"}, "check_digit"),
    ({"from_lg_code": B}, "own_municipality"),
    ({"resident_code": "abc"}, "digits"),
    ({"copies": "x"}, "invalid"),
    ({"copies": "11"}, "range"),
    ({"members_mode": "chosen", "member_codes": " , "}, "invalid"),
    ({"members_mode": "everyone"}, "invalid"),
    ({"items": ["honseki"]}, "wide_area_honseki"),  # never offered; a crafted post
    ({"items": ["x"]}, "invalid"),
]


@ON_SQLITE_ONLY
def test_terminal_wide_area_bad_input_is_explained_and_asks_no_one(wide: WideArea) -> None:
    client = TestClient(app_of(wide, wide.b), base_url="https://testserver")
    csrf = sign_in(client, operator(wide.b, "fujisawa-clerk", Role.COUNTER_CLERK))
    for change, rule in BAD_INPUT:
        data = wide_form(csrf, wide.people.head.resident_code, **change)
        for path in ("/terminal/wide-area/confirm", "/terminal/wide-area"):
            page = client.post(path, data=data)
            assert page.status_code == 422, (change, path)
            assert f"規則: {rule}" in page.text and 'role="alert"' in page.text, (change, path)
        assert wide.a_register() == [], change
        assert wide.b_certificates() == [], change
    # the session is still good: the same form, mended, is confirmed
    good = client.post(
        "/terminal/wide-area/confirm", data=wide_form(csrf, wide.people.head.resident_code)
    )
    assert good.status_code == 200, good.text


def test_terminal_wide_area_refusals_name_the_rule_in_japanese(wide: WideArea) -> None:
    client = TestClient(app_of(wide, wide.b), base_url="https://testserver")
    csrf = sign_in(client, operator(wide.b, "fujisawa-clerk", Role.COUNTER_CLERK))
    supported = client.post(
        "/terminal/wide-area", data=wide_form(csrf, wide.people.supported.resident_code)
    )
    assert supported.status_code == 422
    assert "【支援措置】" in supported.text and "支援措置の対象者" in supported.text
    unknown = client.post("/terminal/wide-area", data=wide_form(csrf, "24727059608"))
    assert "【住所地市区町村の住民でない】" in unknown.text
    wide.net.disconnect(A)
    away = client.post("/terminal/wide-area", data=wide_form(csrf, wide.people.head.resident_code))
    assert away.status_code == 422
    assert "【住所地市区町村の離脱】" in away.text and "離脱中" in away.text
    assert wide.b_certificates() == []


def test_terminal_wide_area_needs_the_network_and_the_permission(wide: WideArea) -> None:
    alone = TestClient(app_of(wide, wide.b, on_network=False), base_url="https://testserver")
    csrf = sign_in(alone, operator(wide.b, "fujisawa-clerk", Role.COUNTER_CLERK))
    page = alone.get("/terminal/wide-area")
    assert 'id="unavailable"' in page.text and "住基ネットへの接続が必要" in page.text
    assert 'name="from_lg_code"' not in page.text
    refused = alone.post(
        "/terminal/wide-area", data=wide_form(csrf, wide.people.head.resident_code)
    )
    assert refused.status_code == 422 and "住基ネットに接続されていない" in refused.text
    # off the network too, a role without the permission is refused for that first (403)
    audit = TestClient(app_of(wide, wide.b, on_network=False), base_url="https://testserver")
    csrf = sign_in(audit, operator(wide.b, "fujisawa-audit2", Role.AUDITOR), "F08")
    form = wide_form(csrf, wide.people.head.resident_code)
    assert audit.post("/terminal/wide-area/confirm", data=form).status_code == 403

    client = TestClient(app_of(wide, wide.b), base_url="https://testserver")
    csrf = sign_in(client, operator(wide.b, "fujisawa-audit", Role.AUDITOR), "F09")
    assert client.get("/terminal/wide-area").status_code == 403
    denied = client.post(
        "/terminal/wide-area", data=wide_form(csrf, wide.people.head.resident_code)
    )
    assert denied.status_code == 403
    assert wide.a_register() == []
    outcomes = [e["outcome"] for e in oplog(wide.b.engine, "request_wide_area_issuance")]
    assert outcomes == ["rejected", "denied", "denied"]  # off the network: clerk, auditor


def test_a_reads_its_register_on_the_terminal(wide: WideArea) -> None:
    wide.issue(wide.people.head.resident_code)
    wide.refused(wide.people.supported.resident_code)
    client = TestClient(app_of(wide, wide.a), base_url="https://testserver")
    sign_in(client, operator(wide.a, "inagi-super", Role.REGISTRY_SUPERVISOR), "A02")
    page = client.get("/terminal/wide-area/register", params={"since": "2025-04-01"})
    assert page.status_code == 200
    table = page.text[page.text.index('id="wide-area-requests"') :]
    assert table.count("<tr><td>") == 2
    assert "回答（1人）" in table and "支援措置（support_measure）" in table
    assert CLERK_B.actor_id in table and B in table
    empty = client.get("/terminal/wide-area/register", params={"until": "2025-03-31"})
    assert "記録はありません" in empty.text
    assert client.get("/terminal/wide-area/register", params={"since": "4/1"}).status_code == 422
    backwards = client.get(
        "/terminal/wide-area/register", params={"since": "2025-04-02", "until": "2025-04-01"}
    )
    assert backwards.status_code == 422 and "開始日が終了日より後" in backwards.text

    clerk = TestClient(app_of(wide, wide.a), base_url="https://testserver")
    sign_in(clerk, operator(wide.a, "inagi-clerk", Role.COUNTER_CLERK), "A01")
    assert "広域交付照会履歴" not in clerk.get("/terminal/").text
    assert clerk.get("/terminal/wide-area/register").status_code == 403


def test_a_reads_its_register_over_the_api(wide: WideArea) -> None:
    wide.issue(wide.people.head.resident_code, members=ALL_MEMBERS)
    wide.refused(wide.people.supported.resident_code)
    client = TestClient(app_of(wide, wide.a))
    path = "/api/v1/certificates/wide-area/requests"
    auditor = {"Authorization": f"Bearer {operator(wide.a, 'inagi-audit', Role.AUDITOR)}"}
    listed = client.get(path, headers=auditor)
    assert listed.status_code == 200, listed.text
    entries = listed.json()["entries"]
    # both at the same (fixed) time: the order between them is the request ids'
    assert sorted((e["outcome"], e["rule"] or "", e["persons"]) for e in entries) == [
        ("answered", "", 4),
        ("refused", "support_measure", 0),
    ]
    answered = next(e for e in entries if e["outcome"] == "answered")
    assert (answered["requesting_lg_code"], answered["requested_by"], answered["members"]) == (
        B,
        CLERK_B.actor_id,
        "all",
    )
    # the auditor may not see 住民票コード (view_resident_code); 審査 may
    assert answered["subject_resident_code"] is None
    supervisor = {
        "Authorization": f"Bearer {operator(wide.a, 'inagi-sv', Role.REGISTRY_SUPERVISOR)}"
    }
    codes = [
        e["subject_resident_code"] for e in client.get(path, headers=supervisor).json()["entries"]
    ]
    assert wide.people.head.resident_code in codes
    one = client.get(path, params={"limit": 1, "since": "2025-04-01"}, headers=auditor)
    assert len(one.json()["entries"]) == 1
    before = client.get(path, params={"until": "2025-03-31"}, headers=auditor)
    assert before.json()["entries"] == []
    for bad in (
        {"limit": 0},
        {"limit": 5001},
        {"limit": "many"},
        {"since": "2025-02-30"},
        {"until": "yesterday"},
        {"since": "2025-04-02", "until": "2025-04-01"},
    ):
        assert client.get(path, params=bad, headers=auditor).status_code == 422, bad
    backwards = client.get(
        path, params={"since": "2025-04-02", "until": "2025-04-01"}, headers=auditor
    )
    assert backwards.json()["detail"][0]["type"] == "range"
    clerk = {"Authorization": f"Bearer {operator(wide.a, 'inagi-clerk', Role.COUNTER_CLERK)}"}
    assert client.get(path, headers=clerk).status_code == 403
    assert client.get(path).status_code == 401
    reads = oplog(wide.a.engine, "view_certificate_register")
    assert [e["outcome"] for e in reads] == ["ok"] * 4 + ["rejected", "rejected", "denied"]


def test_a_reads_its_register_on_the_console(
    wide: WideArea, capsys: pytest.CaptureFixture[str]
) -> None:
    wide.issue(wide.people.head.resident_code)
    capsys.readouterr()  # the nodes' log lines
    db = wide.a.engine.url.render_as_string(hide_password=False)
    auditor = operator(wide.a, "inagi-auditor", Role.AUDITOR, clock=SystemClock())

    def run(*argv: str) -> tuple[int, str, str]:
        token = [] if "--operator-token" in argv else ["--token", auditor]
        try:
            code = cli.main(["cert", "wide-area-register", "--db", db, *argv, *token])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = run("--json")
    assert code == 0, err
    (entry,) = json.loads(out)
    assert (entry["requesting_lg_code"], entry["outcome"], entry["persons"]) == (B, "answered", 1)
    code, out, _ = run("--since", "2025-04-01", "--until", "2025-04-01")
    assert code == 0 and f"from {B}" in out and "answered (1 person(s))" in out
    assert run("--until", "2025-03-31") == (0, "", "")
    code, _, err = run("--limit", "0")
    assert code == 1 and "[range]" in err
    code, _, err = run("--since", "2025-04-02", "--until", "2025-04-01")
    assert code == 1 and "since" in err and "[range]" in err
    assert run("--since", "2025-13-01")[0] == 2
    clerk = operator(wide.a, "inagi-clerk", Role.COUNTER_CLERK, clock=SystemClock())
    code, _, err = run("--operator-token", clerk)
    assert code == 1
    assert oplog(wide.a.engine, "view_certificate_register")[-1]["outcome"] == "denied"


def test_registering_a_request_id_twice_is_a_replay_and_the_transaction_goes_on(
    wide: WideArea,
) -> None:
    """The store's side of the race, on its own: the primary key's refusal is the replay (not
    a storage error), and the savepoint leaves the rest of the transaction usable."""
    wide.issue(wide.people.head.resident_code)
    (first,) = wide.a_register()
    uow = SqlCertificateUnitOfWork(wide.a.engine, clock=wide.a.clock)
    entry = WideAreaRequestEntry(
        **{k: v for k, v in first.items() if k not in ("outcome",)},
        outcome=WideAreaOutcome(first["outcome"]),
    )
    with uow:
        with pytest.raises(WideAreaReplay):
            uow.certificates.add_wide_area_request(entry)
        other = dataclasses.replace(entry, request_id=str(uuid.uuid4()))
        uow.certificates.add_wide_area_request(other)
        uow.commit()
    assert sorted(r["request_id"] for r in wide.a_register()) == sorted(
        [first["request_id"], other.request_id]
    )
