"""A's answer must be A's, for this request and this person: tampered, misdirected, replayed and
raced answers are refused; and 広域交付 through the registry API."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.network import tables as network_tables
from juki.network.envelope import Envelope
from juki.network.transport import Reply, ReplyStatus
from juki.nodes.apps import create_registry_app
from juki.nodes.wide_area import CsContentSource
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.wide_area import (
    MANAGER_B,
    ON_SQLITE_ONLY,
    A,
    B,
    WideArea,
    pdf_text,
)

# -- the answer must be A's, for this request and this person -------------------------------------


def rewrite_answer(
    wide: WideArea, change: Callable[[dict[str, Any]], None], *, resign: bool
) -> None:
    """Put something between A and B that edits A's answer (and re-signs it with A's key when
    `resign`: a compromised or faulty A, rather than someone on the wire)."""
    a = wide.a

    def answer(raw: bytes) -> bytes | Reply:
        result = a.answer(raw)
        if isinstance(result, Reply):
            return result
        data = json.loads(result)
        change(data)
        if not resign:
            return json.dumps(data, ensure_ascii=False).encode()
        env = Envelope(
            message_id=data["message_id"],
            message_type=data["message_type"],
            schema_version=data["schema_version"],
            sender=data["sender"],
            recipient=data["recipient"],
            created_at=data["created_at"],
            seq=data["seq"],
            body=data["body"],
        )
        return env.signed(a.identity.key).to_bytes()

    wide.net.transport.register_answer(A, answer)


def test_a_tampered_answer_is_refused(wide: WideArea) -> None:
    def rename(data: dict[str, Any]) -> None:
        data["body"]["content"]["persons"][0]["name"] = "別人　太郎"

    rewrite_answer(wide, rename, resign=False)
    err = wide.refused(wide.people.head.resident_code)
    assert err.rule == "answer_not_verified"
    assert wide.b_certificates() == []
    with wide.b.engine.connect() as conn:
        reasons = conn.execute(sa.select(network_tables.net_refusals.c.reason)).scalars().all()
    assert "bad_signature" in reasons


def test_an_answer_about_another_person_is_refused(wide: WideArea) -> None:
    other = wide.people.sealed.resident_code

    def swap(data: dict[str, Any]) -> None:
        data["body"]["resident_code"] = other

    rewrite_answer(wide, swap, resign=True)
    err = wide.refused(wide.people.head.resident_code)
    assert err.rule == "answer_mismatch"
    assert wide.b_certificates() == []


def test_an_old_answer_replayed_for_a_new_request_is_refused(wide: WideArea) -> None:
    a = wide.a
    answers: list[bytes] = []

    def record_then_replay(raw: bytes) -> bytes | Reply:
        result = a.answer(raw)
        if isinstance(result, Reply):
            return result
        answers.append(result)
        return answers[0]

    wide.net.transport.register_answer(A, record_then_replay)
    wide.issue(wide.people.head.resident_code)
    err = wide.refused(wide.people.head.resident_code)
    assert err.rule == "answer_mismatch"
    assert len(wide.b_certificates()) == 1


def test_answer_content_for_other_members_than_asked_is_refused(wide: WideArea) -> None:
    def add_person(data: dict[str, Any]) -> None:
        persons = data["body"]["content"]["persons"]
        persons.append(dict(persons[0], name="追加　次郎"))

    rewrite_answer(wide, add_person, resign=True)
    err = wide.refused(wide.people.head.resident_code)
    assert err.rule == "wide_area_mismatch"


def test_a_replayed_request_is_refused_by_a(wide: WideArea) -> None:
    a = wide.a
    requests: list[bytes] = []

    def keep(raw: bytes) -> bytes | Reply:
        requests.append(raw)
        return a.answer(raw)

    wide.net.transport.register_answer(A, keep)
    wide.issue(wide.people.head.resident_code)
    again = a.answer(requests[0])
    assert again == Reply(ReplyStatus.REFUSED, "replay", again.detail)  # type: ignore[union-attr]
    assert len(wide.a_register()) == 1


# -- the registry API ------------------------------------------------------------------------------


def test_the_registry_api_issues_and_refuses_with_the_rule(wide: WideArea) -> None:
    clock = wide.b.clock
    engine = wide.b.engine
    app = create_registry_app(engine, clock=clock, wide_area=CsContentSource(wide.b))
    app.state.certificates.use(wide.desk)
    token = create_operator(
        SqlUnitOfWork(engine, clock=clock),
        MANAGER_B,
        "fujisawa-clerk",
        "窓口 一郎",
        Role.COUNTER_CLERK,
    )
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {token}", "X-Juki-Terminal": "F01"}
    ok = client.post(
        "/api/v1/certificates/wide-area",
        json={"from_lg_code": A, "resident_code": wide.people.head.resident_code},
        headers=auth,
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert (body["record_lg_code"], body["issuer_lg_code"], body["persons"]) == (A, B, 1)
    assert "稲城市" in pdf_text(base64.b64decode(body["pdf_base64"]))

    refused = client.post(
        "/api/v1/certificates/wide-area",
        json={"from_lg_code": A, "resident_code": wide.people.supported.resident_code},
        headers=auth,
    )
    assert refused.status_code == 422
    (detail,) = refused.json()["detail"]
    assert detail["type"] == "support_measure" and "支援措置" in detail["msg_ja"]

    honseki = client.post(
        "/api/v1/certificates/wide-area",
        json={
            "from_lg_code": A,
            "resident_code": wide.people.head.resident_code,
            "items": ["honseki"],
        },
        headers=auth,
    )
    assert honseki.status_code == 422
    assert honseki.json()["detail"][0]["type"] == "wide_area_honseki"

    for bad in (
        {"from_lg_code": "1322", "resident_code": wide.people.head.resident_code},
        {"from_lg_code": A, "resident_code": "abc"},
        {"from_lg_code": A, "resident_code": wide.people.head.resident_code, "copies": 11},
        {"from_lg_code": A, "resident_code": wide.people.head.resident_code, "items": ["x"]},
    ):
        assert (
            client.post("/api/v1/certificates/wide-area", json=bad, headers=auth).status_code == 422
        )
    assert (
        client.post(
            "/api/v1/certificates/wide-area",
            json={"from_lg_code": A, "resident_code": wide.people.head.resident_code},
        ).status_code
        == 401
    )
    assert len(wide.b_certificates()) == 1


@ON_SQLITE_ONLY  # refused before anyone is asked or anything is written
def test_a_registry_without_a_cs_refuses_wide_area(wide: WideArea) -> None:
    engine = wide.b.engine
    app = create_registry_app(engine, clock=wide.b.clock)
    token = create_operator(
        SqlUnitOfWork(engine, clock=wide.b.clock),
        MANAGER_B,
        "fujisawa-clerk",
        "窓口 一郎",
        Role.COUNTER_CLERK,
    )
    r = TestClient(app).post(
        "/api/v1/certificates/wide-area",
        json={"from_lg_code": A, "resident_code": wide.people.head.resident_code},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "not_on_network"


# -- the same request twice at once ---------------------------------------------------------------


def held_request(wide: WideArea, code: str) -> bytes:
    """B's signed request for `code`, kept on the wire: A has not seen it."""
    held: list[bytes] = []

    def hold(raw: bytes) -> Reply:
        held.append(raw)
        return Reply(ReplyStatus.UNAVAILABLE, "held", "kept for the test")

    wide.net.transport.register_answer(A, hold)
    assert wide.refused(code).rule == "home_refused_request"
    (raw,) = held
    return raw


def waiting_on_locks(engine: sa.Engine) -> int:
    with engine.connect() as conn:  # a fresh transaction: pg_stat_activity is per-snapshot
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


def race(wide: WideArea, raw: bytes) -> list[bytes | Reply]:
    """A answers the same envelope in two threads at once.

    On PostgreSQL both answers are held inside their transactions (the oplog is locked, so
    neither can commit) until both have passed the "seen before?" check and are waiting; then
    they are let go, and the primary key of `wide_area_requests` decides. On SQLite, writers
    queue on BEGIN IMMEDIATE, so the second one's check sees the first one's row.
    """
    a = wide.a
    results: list[bytes | Reply] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def answer() -> None:
        try:
            start.wait(timeout=30)
            results.append(a.answer(raw))
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=answer) for _ in range(2)]
    postgres = a.engine.dialect.name == "postgresql"
    with a.engine.connect() as lock:
        if postgres:
            lock.begin()
            lock.execute(sa.text("LOCK TABLE oplog IN EXCLUSIVE MODE"))
        for t in threads:
            t.start()
        if postgres:
            for _ in range(3000):  # until both wait (a timeout fails the test, never a hang)
                if waiting_on_locks(a.engine) >= 2:
                    break
                threading.Event().wait(0.01)
            else:
                pytest.fail("the two answers never both waited")
            lock.rollback()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.parametrize("who", ["head", "supported"], ids=["answered", "refused"])
def test_the_same_request_twice_at_once_is_answered_once_and_refused_as_replay(
    wide: WideArea, who: str
) -> None:
    code = getattr(wide.people, who).resident_code
    raw = held_request(wide, code)
    results = race(wide, raw)
    answers = [r for r in results if isinstance(r, bytes)]
    refusals = [r for r in results if isinstance(r, Reply)]
    assert len(answers) == 1, results
    assert [(r.status, r.reason) for r in refusals] == [(ReplyStatus.REFUSED, "replay")]
    (asked,) = wide.a_register()
    assert asked["outcome"] == ("answered" if who == "head" else "refused")
    with wide.a.engine.connect() as conn:
        reasons = conn.execute(sa.select(network_tables.net_refusals.c.reason)).scalars().all()
    assert reasons == ["replay"]
