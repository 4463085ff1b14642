"""住民票コードの変更請求 (法第30条の4) on SQLite and PostgreSQL: the service with its history,
retired code, event for the CS, oplog and refusals; then the same through the JSON API and the
`juki registry resident-code change` command."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from juki.cli import main
from juki.core.errors import DomainRuleError, PermissionDeniedError, ValidationError
from juki.core.settings import Settings
from juki.nodes.apps import create_registry_app
from juki.registry import services as svc
from juki.registry.codes import random_code
from juki.registry.commands import CancelChanges, ChangeResidentCode, RecordDeath
from juki.registry.model import ChangeReason
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.backends import SqlBackend, sql_backend
from support.residents import CLERK, SUPERVISOR, TODAY, family, seed

_RNG = random.Random(6)
POOL = sorted({random_code(_RNG) for _ in range(4)})


@pytest.fixture
def backend(migrated_db_url: str) -> Iterator[SqlBackend]:
    with sql_backend(migrated_db_url) as sql:
        seed(sql)
        yield sql


def test_a_code_change_retires_the_code_records_why_and_tells_the_cs(backend: SqlBackend) -> None:
    head, wife, _child = family(backend)
    backend.add_pool(POOL)  # from national: the old range is never drawn from again
    cmd = ChangeResidentCode(head.record_id, "  DV被害のおそれ  ", TODAY)
    change = svc.change_resident_code(backend.uow(), CLERK, cmd)
    new = change.record.resident_code
    assert change.former_resident_code == head.resident_code and new in POOL
    history = svc.record_history(backend.uow(), CLERK, head.record_id)
    last = history[-1].change
    assert (last.reason, last.note, last.fields) == (
        ChangeReason.RESIDENT_CODE_CHANGE,
        "DV被害のおそれ",
        {"resident_code": new},
    )
    retired = backend.rows("retired_codes")
    assert [(r["resident_code"], r["successor"]) for r in retired] == [(head.resident_code, new)]
    assert new not in {r["resident_code"] for r in backend.rows("code_pool")}
    message = backend.rows("outbox")[-1]
    assert (message["message_type"], message["key"]) == ("resident_code_changed", new)
    assert json.loads(message["payload"])["former_resident_code"] == head.resident_code
    assert "令和7年4月1日" in change.notice.text_ja
    assert f"{new[:4]} {new[4:8]} {new[8:]}" in change.notice.text_ja
    assert head.resident_code not in change.notice.text_ja

    # 異動取消 cannot bring a retired code back
    with pytest.raises(DomainRuleError) as err:
        svc.cancel_changes(backend.uow(), SUPERVISOR, CancelChanges((head.record_id,), "誤り"))
    assert err.value.rule == "resident_code_change"
    # refusals name the field and the rule, and change nothing
    for bad, field, rule in (
        (ChangeResidentCode(wife.record_id, " ", TODAY), "reason", "required"),
        (ChangeResidentCode(wife.record_id, "x" * 501, TODAY), "reason", "max_length"),
        (ChangeResidentCode(wife.record_id, "理由\x00", TODAY), "reason", "characters"),
        (
            ChangeResidentCode(wife.record_id, "理由", TODAY + timedelta(days=1)),
            "requested_on",
            "future_date",
        ),
    ):
        with pytest.raises(ValidationError) as verr:
            svc.change_resident_code(backend.uow(), CLERK, bad)
        assert (verr.value.field, verr.value.rule) == (field, rule)
    with pytest.raises(PermissionDeniedError):
        svc.change_resident_code(
            backend.uow(),
            Actor("audit", Role.AUDITOR, "T9"),
            ChangeResidentCode(wife.record_id, "理由", TODAY),
        )
    svc.record_death(backend.uow(), CLERK, RecordDeath(wife.record_id, TODAY, TODAY))
    with pytest.raises(DomainRuleError) as err:
        svc.change_resident_code(
            backend.uow(), CLERK, ChangeResidentCode(wife.record_id, "理由", TODAY)
        )
    assert err.value.rule == "removed_record"
    assert len(backend.rows("retired_codes")) == 1
    logged = [e for e in backend.rows("oplog") if e["action"] == "change_resident_code"]
    assert [e["outcome"] for e in logged] == ["ok", *["rejected"] * 4, "denied", "rejected"]
    assert logged[0]["target"] == f"record:{head.record_id}"


def test_the_api_and_the_command_file_a_change_that_waits_for_its_approval(
    backend: SqlBackend, migrated_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under review (the default) the route and the command file a provisional change: no new
    code, no notice, nothing for the CS until another supervisor approves it; the notice is
    then printed from the approved change. With review off the route answers the new code."""
    head, wife, child = family(backend)
    backend.add_pool(POOL)
    admin = Actor("admin", Role.OPERATIONS_MANAGER, "console")
    security = SqlUnitOfWork(backend.engine)
    token = create_operator(security, admin, "clerk.02", "窓口 次郎", Role.COUNTER_CLERK)
    boss = create_operator(security, admin, "super.02", "審査 三郎", Role.REGISTRY_SUPERVISOR)
    headers = {"Authorization": f"Bearer {token}"}
    path = "/api/v1/events/resident-code-change"
    body = {"record_id": head.record_id, "reason": "本人の請求", "requested_on": "2025-04-01"}
    sent = len(backend.rows("outbox"))
    with TestClient(create_registry_app(backend.engine, clock=backend.clock)) as client:
        assert "202" in client.get("/openapi.json").json()["paths"][path]["post"]["responses"]
        reply = client.post(path, json=body, headers=headers)
        assert reply.status_code == 202, reply.text
        change_id = reply.json()["change_id"]
        notice = f"/api/v1/provisional-changes/{change_id}/resident-code-notice"
        assert client.get(notice, headers=headers).status_code == 409  # not approved yet
        assert backend.rows("retired_codes") == [] and len(backend.rows("outbox")) == sent
        approval = f"/api/v1/provisional-changes/{change_id}/approval"
        assert client.post(approval, headers=headers).status_code == 403  # a clerk's role
        boss_headers = {"Authorization": f"Bearer {boss}"}
        assert client.post(approval, headers=boss_headers).status_code == 200
        printed = client.get(notice, headers=headers).json()
        assert printed["resident_code"] in POOL and printed["record_id"] == head.record_id
        assert "住民票コード通知書" in printed["notice_text_ja"]
        assert backend.rows("outbox")[-1]["message_type"] == "resident_code_changed"
        assert client.post(path, json=body).status_code == 401
        for bad in (
            {**body, "reason": None},
            {**body, "requested_on": "2025-13-01"},
            {**body, "record_id": "no-such-record"},
            {**body, "reason": "\u0000"},
            {"record_id": head.record_id},
        ):
            assert client.post(path, json=bad, headers=headers).status_code in (404, 422), bad
    off = create_registry_app(
        backend.engine, clock=backend.clock, settings=Settings(change_review=False)
    )
    with TestClient(off) as client:
        body = {**body, "record_id": child.record_id}
        out = client.post(path, json=body, headers=headers).json()
        assert out["former_resident_code"] == child.resident_code
        assert out["resident_code"] in POOL and "住民票コード通知書" in out["notice_text_ja"]

    def juki(*argv: str, who: str = token) -> dict[str, Any]:
        code = main([*argv, "--db", migrated_db_url, "--token", who])
        out_text, err_text = capsys.readouterr()
        assert code == 0, err_text
        printed: dict[str, Any] = json.loads(out_text)
        return printed

    filed = juki("registry", "resident-code", "change", wife.record_id, "--reason", "本人の請求")
    assert (filed["status"], filed["kind_ja"]) == ("pending", "住民票コードの変更")
    assert len(backend.rows("retired_codes")) == 2  # head's and child's only
    juki("registry", "pending", "approve", filed["change_id"], "--json", who=boss)
    printed = juki("registry", "resident-code", "notice", filed["change_id"])
    assert printed["resident_code"] in POOL and "住民票コード通知書" in printed["notice_text_ja"]
    assert len(backend.rows("retired_codes")) == 3
