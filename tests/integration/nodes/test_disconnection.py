"""離脱 as a decision (issue 14, point 5), on the in-process network built once for the module:
the decision is recorded with the flag and the oplog entry, traffic waits in the outbox as
before, the reconnection ends it; anyone without the authority, bad input and the national node
are refused and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.core.clock import JST, FixedClock
from juki.core.errors import PermissionDeniedError, RuleViolation
from juki.core.settings import Settings
from juki.nodes.apps import create_node_app
from juki.nodes.disconnection import (
    LEGAL_BASIS,
    decide_disconnection,
    decisions_in,
    end_disconnection,
)
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.node import Node
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.tables import oplog
from support.node_apps import app_config

INAGI, TOKYO = "132250", "130001"
TOKEN = "the-admin-token"
MANAGER = Actor("ops-1", Role.OPERATIONS_MANAGER, "console")
CLERK = Actor("clerk-1", Role.COUNTER_CLERK, "T1")


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessNetwork]:
    where: Path = tmp_path_factory.mktemp("disconnection")
    clock = FixedClock(datetime(2026, 5, 1, 9, tzinfo=JST))
    built = build_network(small_layout(), lambda n: f"sqlite:///{where}/{n}.db", clock, seed=3)
    built.national.allot(INAGI, 10)
    built.run_until_quiet()
    try:
        yield built
    finally:
        built.dispose()


@pytest.fixture(scope="module")
def client(net: InProcessNetwork) -> TestClient:
    node = net.nodes[INAGI]
    app: FastAPI = create_node_app(node, app_config(node, TOKEN), Settings())
    return TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"})


def _log(node: Node) -> list[dict[str, object]]:
    with node.engine.connect() as conn:
        rows = conn.execute(sa.select(oplog).order_by(oplog.c.seq)).mappings()
        return [dict(r) for r in rows]


def _decisions(node: Node) -> int:
    with node.engine.connect() as conn:
        return len(decisions_in(conn))


def test_a_decision_is_recorded_with_the_flag_and_ended_by_the_reconnection(
    net: InProcessNetwork,
) -> None:
    inagi = net.municipality(INAGI)
    decision = decide_disconnection(
        inagi, MANAGER, decided_by=" 稲城市長 ", reason="庁内LANとの接続を点検するため"
    )
    assert inagi.is_disconnected()
    assert (decision.body_kind, decision.body_name) == ("municipality", "東京都稲城市")
    assert decision.decided_by == "稲城市長"  # trimmed
    assert decision.legal_basis == LEGAL_BASIS[inagi.kind] and "第36条の2" in decision.legal_basis
    assert decision.in_force and decision.recorded_by == "ops-1"
    entry = _log(inagi)[-1]
    assert (entry["action"], entry["actor_id"], entry["outcome"]) == (
        "disconnect_node",
        "ops-1",
        "ok",
    )
    assert "稲城市長" in str(entry["detail"]) and "点検" in str(entry["detail"])

    with pytest.raises(RuleViolation) as twice:
        decide_disconnection(inagi, MANAGER, decided_by="稲城市長", reason="もう一度")
    assert twice.value.rule == "already_disconnected"

    # the old behaviour: a change made meanwhile waits in the outbox
    net.national.allot(INAGI, 5)
    net.run_until_quiet()
    assert net.national.status()["queues"].get(INAGI, 0) > 0
    ended = end_disconnection(inagi, MANAGER, note="点検が終わったため", operator="cli:tanaka")
    assert ended is not None and ended.decision_id == decision.decision_id
    assert ended.ended_at is not None and ended.ended_by == "ops-1 (cli:tanaka)"
    assert ended.end_note == "点検が終わったため" and not inagi.is_disconnected()
    assert _log(inagi)[-1]["action"] == "reconnect_node"
    clock = inagi.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(hours=1))  # past the sender's backoff
    net.run_until_quiet()
    assert net.national.status()["queues"].get(INAGI, 0) == 0
    # a reconnection with no decision in force (a fault, or before decisions) ends none
    assert end_disconnection(inagi, MANAGER) is None


def test_only_who_may_decide_and_never_the_national_node(net: InProcessNetwork) -> None:
    tokyo = net.nodes[TOKYO]
    before = _decisions(tokyo)
    with pytest.raises(PermissionDeniedError):
        decide_disconnection(tokyo, CLERK, decided_by="東京都知事", reason="点検")
    assert not tokyo.is_disconnected() and _decisions(tokyo) == before
    denied = _log(tokyo)[-1]
    assert (denied["action"], denied["actor_id"], denied["outcome"]) == (
        "disconnect_node",
        "clerk-1",
        "denied",
    )
    with pytest.raises(RuleViolation) as national:
        decide_disconnection(net.national, MANAGER, decided_by="理事長", reason="点検")
    assert national.value.rule == "national_cannot_disconnect"
    assert not net.national.is_disconnected()
    # a prefecture decides under its own article
    made = decide_disconnection(tokyo, MANAGER, decided_by="東京都知事", reason="点検")
    assert made.legal_basis == LEGAL_BASIS[tokyo.kind] and made.body_kind == "prefecture"
    end_disconnection(tokyo, MANAGER)


def test_the_admin_api_records_lists_and_ends_a_decision(client: TestClient) -> None:
    r = client.post("/admin/v1/disconnect", json={"decided_by": "稲城市長", "reason": "点検"})
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["recorded_by"] == "node-admin"
    listed = client.get("/admin/v1/disconnections").json()
    assert listed[-1]["reason"] == "点検" and listed[-1]["ended_at"] is None
    r = client.post("/admin/v1/reconnect", json={"note": "終了"})
    assert r.status_code == 200 and r.json()["decision"]["end_note"] == "終了"
    assert client.get("/admin/v1/disconnections").json()[-1]["ended_at"] is not None


TEXT = st.text(st.characters(codec="utf-8"), max_size=600)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(decided_by=TEXT, reason=TEXT)
def test_bad_input_names_the_field_and_changes_nothing(
    client: TestClient, net: InProcessNetwork, decided_by: str, reason: str
) -> None:
    inagi = net.municipality(INAGI)
    before = _decisions(inagi)
    r = client.post("/admin/v1/disconnect", json={"decided_by": decided_by, "reason": reason})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        client.post("/admin/v1/reconnect")
        assert _decisions(inagi) == before + 1
        return
    [error] = r.json()["detail"][:1]
    assert error["loc"][1] in ("decided_by", "reason") and error["msg_ja"]
    assert _decisions(inagi) == before and not inagi.is_disconnected()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decided_by": "稲城市長"}, "reason"),
        ({"decided_by": "稲城市長", "reason": "   "}, "reason"),
        ({"decided_by": "稲城市長", "reason": "x" * 501}, "reason"),
        ({"decided_by": "", "reason": "点検"}, "decided_by"),
        ({"decided_by": "市長\u200b", "reason": "点検"}, "decided_by"),
    ],
)
def test_a_decision_needs_who_and_why(client: TestClient, body: dict[str, str], field: str) -> None:
    r = client.post("/admin/v1/disconnect", json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][1] == field
