"""仮登録 → 本登録 over HTTP, as the municipality runs by default (review on): an operator's
event is answered 202 with a provisional change and changes no record; the review list, one
change, its approval (refused to a clerk's role, 403), its rejection (a reason required, 422)
and withdrawal; the edit lock's 409 names its holder in Japanese.

One populated SQLite registry for the module: the SQL behind it runs on SQLite and PostgreSQL
in test_review_sql.py, and no input to these routes gives a 500 (test_api_no_server_error.py
drives every route of the schema, these included, with review on).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from juki import cli
from juki.registry.commands import RecordRelocation
from juki.registry.review import services as review
from juki.registry.review.kinds import KINDS
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import CertEnv, cert_env, registry_app

API = "/api/v1"
NEW_ADDRESS = "東京都稲城市大丸1番地"


class Counter:
    def __init__(self, env: CertEnv) -> None:
        self.env = env
        admin = Actor("admin", Role.OPERATIONS_MANAGER, "console")
        self.headers: dict[str, dict[str, str]] = {}
        for operator_id, role in (
            ("clerk-a", Role.COUNTER_CLERK),
            ("clerk-b", Role.COUNTER_CLERK),
            ("super-a", Role.REGISTRY_SUPERVISOR),
        ):
            # on the system clock: the command line checks the token against it
            token = create_operator(
                SqlUnitOfWork(env.engine),
                admin,
                operator_id,
                "窓口 花子",
                role,
            )
            self.headers[operator_id] = {"Authorization": f"Bearer {token}"}
        self.client = TestClient(registry_app(env))

    def post(self, who: str, path: str, body: Any = None) -> Any:
        return self.client.post(f"{API}{path}", json=body, headers=self.headers[who])

    def get(self, who: str, path: str) -> Any:
        return self.client.get(f"{API}{path}", headers=self.headers[who])

    def relocate(self, who: str, record_id: str) -> Any:
        body = {
            "record_ids": [record_id],
            "new_address": NEW_ADDRESS,
            "moved_on": "2025-03-30",
            "notified_on": "2025-03-31",
        }
        return self.post(who, "/events/relocation", body)


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counter]:
    tmp: Path = tmp_path_factory.mktemp("review-api")
    env = cert_env(f"sqlite:///{tmp}/registry.db", tmp)
    try:
        yield Counter(env)
    finally:
        env.engine.dispose()


def test_a_clerks_move_waits_until_a_supervisor_approves_it(counter: Counter) -> None:
    sealed = counter.env.people.sealed
    old = counter.get("clerk-a", f"/residents/{sealed.record_id}").json()["address"]
    entered = counter.relocate("clerk-a", sealed.record_id)
    assert entered.status_code == 202, entered.text
    change = entered.json()
    assert (change["status"], change["kind_ja"], change["clerk_id"]) == (
        "pending",
        "転居",
        "clerk-a",
    )
    assert counter.get("clerk-a", f"/residents/{sealed.record_id}").json()["address"] == old
    listed = counter.get("super-a", "/provisional-changes").json()
    assert change["change_id"] in [c["change_id"] for c in listed]
    shown = counter.get("clerk-a", f"/provisional-changes/{change['change_id']}").json()
    assert shown["command"]["new_address"] == NEW_ADDRESS

    # another clerk is held off the same resident; the clerk's role may not approve
    locked = counter.post(
        "clerk-b",
        "/events/name-change",
        {
            "record_id": sealed.record_id,
            "family_name": "高橋",
            "given_name": "誠一",
            "family_name_kana": "タカハシ",
            "given_name_kana": "セイイチ",
            "effective_on": "2025-03-31",
            "notified_on": "2025-03-31",
        },
    )
    assert locked.status_code == 409
    assert locked.json()["type"] == "edit_locked"
    assert "窓口 花子さん（clerk-a）が編集中です" in locked.json()["msg_ja"]
    refused = counter.post("clerk-a", f"/provisional-changes/{change['change_id']}/approval")
    assert refused.status_code == 403

    approved = counter.post("super-a", f"/provisional-changes/{change['change_id']}/approval")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["records"] == [sealed.record_id]
    assert counter.get("clerk-a", f"/residents/{sealed.record_id}").json()["address"] == (
        NEW_ADDRESS
    )
    last = counter.get("clerk-a", f"/residents/{sealed.record_id}/history").json()[-1]
    assert (last["actor_id"], last["approved_by"]) == ("clerk-a", "super-a")


def test_a_rejection_needs_its_reason_and_decides_the_change_for_good(counter: Counter) -> None:
    abolished = counter.env.people.abolished
    change_id = counter.relocate("clerk-b", abolished.record_id).json()["change_id"]
    path = f"/provisional-changes/{change_id}"
    blank = counter.post("super-a", f"{path}/rejection", {"reason": "  "})
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["loc"] == ["body", "reason"]
    rejected = counter.post("super-a", f"{path}/rejection", {"reason": "新住所の地番の誤り"})
    assert rejected.status_code == 200
    assert (rejected.json()["status_ja"], rejected.json()["reason"]) == (
        "却下",
        "新住所の地番の誤り",
    )
    kept = counter.get("clerk-b", "/provisional-changes?status=rejected").json()
    assert [c["reason"] for c in kept if c["change_id"] == change_id] == ["新住所の地番の誤り"]
    again = counter.post("super-a", f"{path}/approval")
    assert (again.status_code, again.json()["type"]) == (409, "not_pending")
    assert counter.post("clerk-b", f"{path}/withdrawal").status_code == 409
    record = counter.get("clerk-b", f"/residents/{abolished.record_id}").json()
    assert record["address"] != NEW_ADDRESS
    # the rejection released the lock: the clerk enters again, and withdraws it
    again_id = counter.relocate("clerk-a", abolished.record_id).json()["change_id"]
    withdrawn = counter.post("clerk-a", f"/provisional-changes/{again_id}/withdrawal")
    assert withdrawn.json()["status"] == "withdrawn"


def test_bad_ids_and_filters_are_refused_plainly(counter: Counter) -> None:
    missing = counter.get("super-a", "/provisional-changes/00000000-0000-0000-0000-00000000dead")
    assert missing.status_code == 404
    assert counter.get("super-a", "/provisional-changes/not-an-id").status_code == 422
    assert counter.get("super-a", "/provisional-changes?status=done").status_code == 422
    schema = counter.client.get("/openapi.json").json()
    assert "/api/v1/provisional-changes/{change_id}/approval" in schema["paths"]
    relocation = schema["paths"]["/api/v1/events/relocation"]["post"]["responses"]
    assert "202" in relocation


def test_the_command_line_lists_approves_and_refuses_self_approval(
    counter: Counter, capsys: pytest.CaptureFixture[str]
) -> None:
    foreigner = counter.env.people.foreigner
    # entered on the system clock, as the command line reads it (a change entered on the
    # module's 2025 clock would be long expired by now: JUKI_PENDING_CHANGE_DAYS)
    cmd = RecordRelocation(
        (foreigner.record_id,), NEW_ADDRESS, date(2025, 3, 30), date(2025, 3, 31)
    )
    by = Actor("super-a", Role.REGISTRY_SUPERVISOR, "T1")
    uow = SqlRegistryUnitOfWork(counter.env.engine)
    change_id = review.enter_change(uow, by, KINDS["relocation"], cmd).change_id
    url = counter.env.engine.url.render_as_string(hide_password=False)

    def juki(who: str, *argv: str) -> tuple[int, Any]:
        token = counter.headers[who]["Authorization"].removeprefix("Bearer ")
        code = cli.main(["registry", "pending", *argv, "--db", url, "--token", token])
        out = capsys.readouterr()
        if "--json" in argv and out.out:
            return code, json.loads(out.out)
        return code, out.out or out.err

    code, listed = juki("clerk-a", "list", "--json")
    assert code == 0, listed
    assert change_id in [c["change_id"] for c in listed]
    # staff read Japanese: the list as lines, a refusal as its Japanese message
    code, lines = juki("clerk-a", "list")
    assert code == 0 and change_id in lines and "【審査待ち】" in lines
    code, refused = juki("super-a", "approve", change_id)  # the supervisor entered it
    assert code == 1 and "自己承認禁止" in refused
    code, refused = juki("super-a", "reject", change_id, "--reason", "x", "--json")
    assert code == 1 and "自己承認禁止" in refused
    code, withdrawn = juki("super-a", "withdraw", change_id, "--json")
    assert (code, withdrawn["status"]) == (0, "withdrawn")


def test_a_cancellation_or_an_alias_is_provisional_too(counter: Counter) -> None:
    """ADR 0007: 転出取消, 異動取消 and 通称 are reviewed like the events (202, then 本登録)."""
    schema = counter.client.get("/openapi.json").json()["paths"]
    for route in ("move-out-withdrawal", "change-cancellation", "alias", "alias-deletion"):
        assert "202" in schema[f"{API}/events/{route}"]["post"]["responses"], route
    foreigner = counter.env.people.foreigner
    path = f"/residents/{foreigner.record_id}"
    alias = counter.get("clerk-b", path).json()["alias_name"]
    assert alias
    body = {"record_id": foreigner.record_id, "effective_on": "2025-03-31"}
    entered = counter.post(
        "clerk-b", "/events/alias-deletion", body | {"notified_on": "2025-03-31"}
    )
    assert entered.status_code == 202, entered.text
    assert entered.json()["kind_ja"] == "通称の削除"
    assert counter.get("clerk-b", path).json()["alias_name"] == alias
    change_id = entered.json()["change_id"]
    approved = counter.post("super-a", f"/provisional-changes/{change_id}/approval")
    assert approved.status_code == 200, approved.text
    assert counter.get("clerk-b", path).json()["alias_name"] is None
