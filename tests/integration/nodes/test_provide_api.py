"""Provision's door in-process (a prefecture's node app, a registered agency's certificate as
the TLS server records it): any body is an answer or a 422 naming the field, never a 500; a
withdrawn agency and a re-issued certificate not yet registered are refused and logged; a line
too long is one error line, a body over a full batch a 413."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography import x509
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.core.clock import JST, FixedClock
from juki.core.identifiers import ResidentCode
from juki.core.settings import Settings
from juki.network import pki
from juki.network.messages import IdentityInfoBody
from juki.nodes.apps import create_node_app
from juki.nodes.identity import apply_identity
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.provide_api import MAX_BODY_BYTES, ProvisionBodyLimit
from juki.nodes.provision_register import AGENCY_KIND, register_certificate, uow_of
from juki.provision import services
from juki.provision.commands import LoadTasks, WithdrawAgency
from juki.provision.model import AgencyKind, Item, PermittedTask
from juki.provision.requests import MAX_BATCH, MAX_LINE_CHARS
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.tables import oplog
from support.kiosk_world import as_store
from support.no500 import json_values
from support.node_apps import app_config

TOKYO = "130001"
AGENCY = "fuzz-agency"
OPERATOR = Actor("pref-op", Role.PREFECTURE_OPERATOR, "console")
TASK = PermittedTask("第二", "九十九", "試験の事務", frozenset({Item.NAME, Item.ADDRESS}), False,
                     frozenset({AGENCY}), date(2020, 1, 1))  # fmt: skip
CODE = ResidentCode.complete("1000000001").value
PATH = "/provision/v1/requests"


@dataclass
class Door:
    net: InProcessNetwork
    client: TestClient
    cert: x509.Certificate


def _cert(net: InProcessNetwork, agency_id: str) -> x509.Certificate:
    _key, cert = pki.issue_key_pair(net.root_key, net.root_cert, node_id=agency_id,
                                    kind=AGENCY_KIND, now=net.national.clock.now())  # fmt: skip
    return cert


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    tmp: Path = tmp_path_factory.mktemp("provide")
    clock = FixedClock(datetime(2026, 4, 1, 9, tzinfo=JST))
    net = build_network(small_layout(), lambda n: f"sqlite:///{tmp}/{n}.db", clock, seed=5)
    tokyo = net.nodes[TOKYO]
    cert = _cert(net, AGENCY)
    pem = pki.cert_to_pem(cert)
    register_certificate(tokyo, OPERATOR, AGENCY, "試験機関", AgencyKind.MUNICIPALITY, pem)
    services.load_tasks(uow_of(tokyo), OPERATOR, LoadTasks((TASK,)))
    person = IdentityInfoBody(resident_code=CODE, my_number=None, family_name="試験",
                              given_name="花子", family_name_kana="シケン",
                              given_name_kana="ハナコ", birth_date=date(1990, 1, 1),
                              sex="female", address="東京都稲城市", status="active",
                              lg_code="132250", change_reason="birth",
                              changed_on=date(1990, 1, 1))  # fmt: skip
    with tokyo.engine.begin() as conn:
        apply_identity(conn, person, message_id="m1", now=clock.now())
    app = create_node_app(tokyo, app_config(tokyo, "provide-admin"), Settings())
    as_store(app, cert)  # the TLS server's record of the connection's certificate
    try:
        yield Door(net, TestClient(app), cert)
    finally:
        net.dispose()


def test_a_registered_agency_is_answered_at_the_prefecture(door: Door) -> None:
    body = {
        "task": TASK.ref,
        "purpose": "試験",
        "lines": [json.dumps({"resident_code": CODE}), "x"],
    }
    r = door.client.post(PATH, json=body)
    assert r.status_code == 200, r.text
    first, bad = r.json()["lines"]
    assert first["identity"] == {"family_name": "試験", "given_name": "花子",
                                 "address": "東京都稲城市", "lg_code": "132250",
                                 "former_surname": None, "alias_name": None}  # fmt: skip
    assert bad["error"]["field"] == "line" and r.json()["counts"]["error"] == 1


lines = st.one_of(st.text(max_size=40), json_values([CODE, "1990-01-01", "name", "シケン"]).map(
    lambda v: json.dumps(v, ensure_ascii=False)))  # fmt: skip
bodies = st.fixed_dictionaries(
    {
        "task": st.one_of(st.just(TASK.ref), st.text(max_size=70)),
        "purpose": st.one_of(st.just("試験"), st.text(max_size=210)),
        "lines": st.lists(lines, max_size=6),
    },
    optional={"first_line": st.integers(-2, 2**40)},
)


@settings(max_examples=40, suppress_health_check=list(HealthCheck), database=None, deadline=None)
@given(body=st.one_of(bodies, json_values([TASK.ref])))
def test_no_body_is_a_server_error(door: Door, body: Any) -> None:
    raw = json.dumps(body).encode()  # surrogates escaped, as any client's JSON may hold them
    r = door.client.post(PATH, content=raw, headers={"content-type": "application/json"})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert r.json()["detail"]


long_lines = st.one_of(
    # any text repeated past the limit (8,000 characters was the old whole-batch 422)
    # (not all blank: a blank line is skipped, whatever its length, and keeps its number)
    st.tuples(
        st.text(min_size=1, max_size=4).filter(str.strip), st.integers(MAX_LINE_CHARS + 1, 12_000)
    ).map(lambda t: (t[0] * t[1])[: t[1]]),
    # a well-formed lookup made long by its name
    st.integers(MAX_LINE_CHARS, 9_000).map(
        lambda n: json.dumps({"resident_code": CODE, "name": "長" * n}, ensure_ascii=False)
    ),
)


@settings(max_examples=15, suppress_health_check=list(HealthCheck), database=None, deadline=None)
@given(st.lists(long_lines, min_size=1, max_size=3), st.randoms(use_true_random=False))
def test_a_line_too_long_is_its_own_error_and_the_rest_are_answered(
    door: Door, bad: list[str], order: Any
) -> None:
    good = json.dumps({"resident_code": CODE})
    lines = [good, *bad, good]
    order.shuffle(lines)
    body = {"task": TASK.ref, "purpose": "試験", "lines": lines}
    r = door.client.post(PATH, json=body)
    assert r.status_code == 200, r.text[:300]
    answers = r.json()["lines"]
    assert [a["line"] for a in answers] == list(range(1, len(lines) + 1))
    for text, a in zip(lines, answers, strict=True):
        if text == good:
            assert a["outcome"] == "provided"
        else:
            assert a["error"]["field"] == "line" and a["error"]["rule"] == "length"
    assert r.json()["counts"]["error"] == len(bad)


def test_a_body_over_a_full_batch_is_refused_unread() -> None:
    seen: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((await receive())["body"])
        await PlainTextResponse("read")(scope, receive, send)

    client = TestClient(ProvisionBodyLimit(app, limit=100))
    r = client.post(PATH, content=b"x" * 101)
    assert (r.status_code, r.json()["type"]) == (413, "too_large") and seen == []
    assert client.post(PATH, content=b"x" * 100).text == "read"
    assert client.post("/elsewhere", content=b"x" * 101).text == "read"
    assert MAX_BODY_BYTES >= MAX_BATCH * MAX_LINE_CHARS * 4  # a full batch in UTF-8 fits


def test_a_withdrawn_agency_and_an_unregistered_certificate_are_refused_and_logged(
    door: Door,
) -> None:
    tokyo = door.net.nodes[TOKYO]
    body = {"task": TASK.ref, "purpose": "試験", "lines": [json.dumps({"resident_code": CODE})]}
    as_store(door.client.app, _cert(door.net, AGENCY))  # type: ignore[arg-type]  # re-issued
    r = door.client.post(PATH, json=body)
    assert (r.status_code, r.json()["type"]) == (401, "agency_not_registered")
    services.withdraw_agency(uow_of(tokyo), OPERATOR, WithdrawAgency(AGENCY))
    as_store(door.client.app, door.cert)  # type: ignore[arg-type]
    assert door.client.post(PATH, json=body).status_code == 401
    with tokyo.engine.connect() as conn:
        details = conn.execute(
            sa.select(oplog.c.detail)
            .where((oplog.c.action == "provide_identity_info") & (oplog.c.outcome == "rejected"))
            .order_by(oplog.c.seq.desc())
            .limit(2)
        ).scalars()
        assert list(details) == ["agency withdrawn", "certificate is not the one registered"]
