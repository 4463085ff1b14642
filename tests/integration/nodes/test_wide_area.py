"""広域交付 across an in-process network: 藤沢市 (B) issues for residents of 稲城市 (A).

The nodes, CSs, content rules, rendering and signing are the real ones; each node has its own
database (SQLite files, or PostgreSQL databases of one throwaway server). Tampering is done on
the wire: the in-memory transport's answer for A is wrapped.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pypdf import PdfReader

from cert_population import HONSEKI, People, Registry, fixed_clock, make_desk, populate
from juki import cli
from juki.certificates import tables as certificate_tables
from juki.certificates.desk import CertificateDesk
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateKind,
    CertificateRequest,
    OptionalItem,
    Requester,
    SupportOverride,
)
from juki.certificates.ports import WideAreaOutcome, WideAreaReplay, WideAreaRequestEntry
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.certificates.wide_area import WideAreaRefused, wide_area_register
from juki.core.errors import PermissionDeniedError, RuleViolation, ValidationError
from juki.network import tables as network_tables
from juki.network.envelope import Envelope
from juki.network.transport import Reply, ReplyStatus
from juki.nodes.apps import create_registry_app
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.wide_area import CsContentSource
from juki.security import tables as security_tables
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork

A = "132250"  # 稲城市: the home municipality
B = "142051"  # 藤沢市: where the resident asks
CLERK_B = Actor("fujisawa-clerk", Role.COUNTER_CLERK, "F01")
AUDITOR_B = Actor("fujisawa-audit", Role.AUDITOR, "F09")
MANAGER_B = Actor("fujisawa-ops", Role.OPERATIONS_MANAGER, "console")


@dataclass
class WideArea:
    net: InProcessNetwork
    people: People
    desk: CertificateDesk  # B's

    @property
    def a(self) -> MunicipalityNode:
        return self.net.municipality(A)

    @property
    def b(self) -> MunicipalityNode:
        return self.net.municipality(B)

    def issue(self, code: str, **kw: Any) -> Any:
        home = kw.pop("home", A)
        request = CertificateRequest(
            kind=kw.pop("kind", CertificateKind.RESIDENCE), resident_code=code, **kw
        )
        return self.desk.issue_wide_area(
            kw.pop("by", CLERK_B), request, home_lg_code=home, source=CsContentSource(self.b)
        )

    def refused(self, code: str, **kw: Any) -> RuleViolation:
        by = kw.pop("by", CLERK_B)
        home = kw.pop("home", A)
        request = CertificateRequest(
            kind=kw.pop("kind", CertificateKind.RESIDENCE), resident_code=code, **kw
        )
        with pytest.raises(RuleViolation) as err:
            self.desk.issue_wide_area(
                by, request, home_lg_code=home, source=CsContentSource(self.b)
            )
        return err.value

    def a_register(self) -> list[dict[str, Any]]:
        return rows(self.a.engine, certificate_tables.wide_area_requests)

    def b_certificates(self) -> list[dict[str, Any]]:
        return rows(self.b.engine, certificate_tables.certificates)


def rows(engine: sa.Engine, table: sa.Table) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def oplog(engine: sa.Engine, action: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(security_tables.oplog).where(security_tables.oplog.c.action == action)
            ).mappings()
        ]


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def wide(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WideArea]:
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        prefix = f"w_{uuid.uuid4().hex[:12]}"

        def url(node_id: str) -> str:
            return str(server.create_database(f"{prefix}_{node_id}"))
    else:

        def url(node_id: str) -> str:
            return f"sqlite:///{tmp_path}/{node_id}.db"

    clock = fixed_clock()
    net = build_network(small_layout(), url, clock, seed=11)
    net.national.allot(A, 1_000)
    net.run_until_quiet()
    people = populate(Registry(net.municipality(A).engine, clock))
    net.run_until_quiet()
    desk = make_desk(net.municipality(B).engine, tmp_path, clock)
    yield WideArea(net, people, desk)
    net.dispose()


def pdf_text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


# -- issued ---------------------------------------------------------------------------------------


def test_b_issues_a_residents_household_copy_and_both_registers_show_it(wide: WideArea) -> None:
    people = wide.people
    issued = wide.issue(
        people.wife.resident_code, members=ALL_MEMBERS, items=frozenset({OptionalItem.HOUSEHOLDER})
    )
    assert issued.issuance.lg_code == B
    assert issued.content.record_lg_code == A
    assert len(issued.content.persons) == 4
    text = pdf_text(issued.pdf)
    assert "花子" in text and "令子" in text
    assert "稲城市の住民基本台帳による" in text
    assert "藤沢市長" in text
    assert "本籍" not in text and HONSEKI not in text and "筆頭者" not in text
    assert wide.desk.verify(issued.pdf).ok

    (cert,) = wide.b_certificates()
    assert (cert["lg_code"], cert["record_lg_code"], cert["channel"]) == (B, A, "wide_area")
    assert cert["subject_resident_code"] == people.wife.resident_code
    assert cert["subject_record_id"] is None  # the record is A's, not B's
    (line,) = rows(wide.b.engine, certificate_tables.certificate_register)
    assert (line["lg_code"], line["source_lg_code"], line["subject_resident_code"]) == (
        B,
        A,
        people.wife.resident_code,
    )
    assert line["members"] == 4 and line["items"] == "householder"

    (asked,) = wide.a_register()
    assert asked["request_id"] == cert["source_request_id"]
    assert (asked["requesting_lg_code"], asked["requested_by"]) == (B, CLERK_B.actor_id)
    assert (asked["subject_resident_code"], asked["members"], asked["items"]) == (
        people.wife.resident_code,
        "all",
        "householder",
    )
    assert (asked["outcome"], asked["persons"], asked["rule"]) == ("answered", 4, None)
    (answered,) = oplog(wide.a.engine, "answer_wide_area_request")
    assert (answered["actor_id"], answered["outcome"]) == (f"cs:{A}", "ok")
    at_b = oplog(wide.b.engine, "request_wide_area_issuance")
    assert [e["outcome"] for e in at_b] == ["ok", "ok"]  # asked A, then recorded


def test_a_subject_alone_shows_no_one_else(wide: WideArea) -> None:
    issued = wide.issue(wide.people.child_reiwa.resident_code)
    assert [p.name for p in issued.content.persons] == [wide.people.child_reiwa.full_name]
    assert "令子" in pdf_text(issued.pdf) and "花子" not in pdf_text(issued.pdf)


def test_a_resident_can_read_who_asked_through_as_register(wide: WideArea) -> None:
    wide.issue(wide.people.head.resident_code)
    uow = SqlCertificateUnitOfWork(wide.a.engine, clock=wide.a.clock)
    (entry,) = wide_area_register(uow, Actor("a-audit", Role.AUDITOR, "A09"))
    assert (entry.requesting_lg_code, entry.outcome.value) == (B, "answered")


# -- refused before anyone is asked ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"items": frozenset({OptionalItem.HONSEKI})}, "items", "wide_area_honseki"),
        ({"kind": CertificateKind.SEAL}, "kind", "wide_area_kind"),
        ({"removed": True}, "kind", "wide_area_kind"),
        ({"requester": Requester.THIRD_PARTY}, "requester", "wide_area_requester"),
        (
            {"support_override": SupportOverride("x", "本人確認済み")},
            "support_override",
            "wide_area_override",
        ),
        ({"copies": 0}, "copies", "range"),
        ({"home": "132251"}, "from_lg_code", "check_digit"),
        ({"home": "13225"}, "from_lg_code", "length"),
        ({"home": B}, "from_lg_code", "own_municipality"),
        ({"home": "011002"}, "from_lg_code", "home_unknown"),  # 札幌市: not on this network
        ({"home": "130001"}, "from_lg_code", "home_unknown"),  # a prefecture issues nothing
        ({"members": ("1234",)}, "members.0", "length"),
    ],
)
def test_bad_requests_are_refused_at_b_and_a_is_not_asked(
    wide: WideArea, change: dict[str, Any], field: str, rule: str
) -> None:
    err = wide.refused(wide.people.head.resident_code, **change)
    assert (err.field, err.rule) == (field, rule)
    assert err.message_ja
    assert wide.a_register() == []
    assert wide.b_certificates() == []
    (logged,) = oplog(wide.b.engine, "request_wide_area_issuance")
    assert logged["outcome"] == "rejected"


def test_a_bad_resident_code_is_named(wide: WideArea) -> None:
    err = wide.refused("12345678901")
    assert isinstance(err, ValidationError)
    assert err.field == "resident_code"


def test_an_auditor_may_not_request_and_the_denial_is_logged(wide: WideArea) -> None:
    request = CertificateRequest(CertificateKind.RESIDENCE, wide.people.head.resident_code)
    with pytest.raises(PermissionDeniedError):
        wide.desk.issue_wide_area(
            AUDITOR_B, request, home_lg_code=A, source=CsContentSource(wide.b)
        )
    (logged,) = oplog(wide.b.engine, "request_wide_area_issuance")
    assert logged["outcome"] == "denied"
    assert wide.a_register() == []


def test_refused_when_a_is_disconnected(wide: WideArea) -> None:
    wide.net.disconnect(A)
    err = wide.refused(wide.people.head.resident_code)
    assert err.rule == "home_disconnected"
    assert "離脱" in err.message_ja and "稲城市" in err.message_ja
    assert wide.a_register() == []
    assert wide.b_certificates() == []


def test_refused_when_b_is_disconnected(wide: WideArea) -> None:
    wide.net.disconnect(B)
    assert wide.refused(wide.people.head.resident_code).rule == "own_disconnected"


def test_refused_when_a_is_unreachable(wide: WideArea) -> None:
    wide.net.transport.unregister(A)  # A's process is down
    err = wide.refused(wide.people.head.resident_code)
    assert err.rule == "home_unreachable"
    assert "接続できません" in err.message_ja
    assert wide.b_certificates() == []


# -- refused by A, and registered at A -------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "rule", "words"),
    [
        (lambda p: "24727059608", "not_resident", "住民ではありません"),
        (lambda p: p.removed.resident_code, "not_resident", "住民ではありません"),
        (lambda p: p.supported.resident_code, "support_measure", "支援措置"),
    ],
    ids=["unknown", "removed", "support_measure"],
)
def test_a_refuses_and_records_the_refusal(
    wide: WideArea, who: Callable[[People], str], rule: str, words: str
) -> None:
    code = who(wide.people)
    err = wide.refused(code)
    assert isinstance(err, WideAreaRefused)
    assert err.rule == rule
    assert words in err.message_ja and err.message_ja.startswith("東京都稲城市")
    (asked,) = wide.a_register()
    assert (asked["subject_resident_code"], asked["outcome"], asked["rule"]) == (
        code,
        "refused",
        rule,
    )
    assert [e["outcome"] for e in oplog(wide.a.engine, "answer_wide_area_request")] == ["rejected"]
    assert wide.b_certificates() == []


def test_a_household_with_a_supported_member_is_refused(wide: WideArea) -> None:
    err = wide.refused(wide.people.supported_child.resident_code, members=ALL_MEMBERS)
    assert err.rule == "support_measure"


def test_a_member_from_another_household_is_refused_by_a(wide: WideArea) -> None:
    people = wide.people
    err = wide.refused(
        people.head.resident_code, members=(people.head.resident_code, people.sealed.resident_code)
    )
    assert err.rule == "not_in_household"
    assert wide.a_register()[0]["outcome"] == "refused"


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


# -- the counter terminal at B, and A's register on screen, over the API and on the console --------


def app_of(wide: WideArea, node: MunicipalityNode, *, on_network: bool = True) -> Any:
    app = create_registry_app(
        node.engine, clock=node.clock, wide_area=CsContentSource(node) if on_network else None
    )
    if node is wide.b:
        app.state.certificates.use(wide.desk)
    return app


def operator(node: MunicipalityNode, actor_id: str, role: Role) -> str:
    manager = Actor(f"{node.node_id}-ops", Role.OPERATIONS_MANAGER, "console")
    return create_operator(
        SqlUnitOfWork(node.engine, clock=node.clock), manager, actor_id, "操作 太郎", role
    )


def sign_in(client: TestClient, token: str, terminal: str = "F01") -> str:
    """Sign in at the terminal; the page's CSRF token."""
    form = client.get("/terminal/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce
    signed = client.post(
        "/terminal/login",
        data={"token": token, "terminal": terminal, "nonce": nonce.group(1)},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/terminal/").text)
    assert csrf
    return csrf.group(1)


def wide_form(csrf: str, code: str, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf": csrf,
        "from_lg_code": A,
        "resident_code": code,
        "members_mode": "self",
        "member_codes": "",
        "items": [],
        "copies": "1",
    }
    data.update(over)
    return data


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


@pytest.mark.parametrize(
    ("change", "rule"),
    [
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
    ],
)
def test_terminal_wide_area_bad_input_is_explained_and_asks_no_one(
    wide: WideArea, change: dict[str, Any], rule: str
) -> None:
    client = TestClient(app_of(wide, wide.b), base_url="https://testserver")
    csrf = sign_in(client, operator(wide.b, "fujisawa-clerk", Role.COUNTER_CLERK))
    data = wide_form(csrf, wide.people.head.resident_code, **change)
    for path in ("/terminal/wide-area/confirm", "/terminal/wide-area"):
        page = client.post(path, data=data)
        assert page.status_code == 422
        assert f"規則: {rule}" in page.text and 'role="alert"' in page.text
    assert wide.a_register() == []
    assert wide.b_certificates() == []


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

    client = TestClient(app_of(wide, wide.b), base_url="https://testserver")
    csrf = sign_in(client, operator(wide.b, "fujisawa-audit", Role.AUDITOR), "F09")
    assert client.get("/terminal/wide-area").status_code == 403
    denied = client.post(
        "/terminal/wide-area", data=wide_form(csrf, wide.people.head.resident_code)
    )
    assert denied.status_code == 403
    assert wide.a_register() == []
    assert [e["outcome"] for e in oplog(wide.b.engine, "request_wide_area_issuance")] == ["denied"]


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
    assert answered["subject_resident_code"] == wide.people.head.resident_code
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
    assert [e["outcome"] for e in reads] == ["ok", "ok", "ok", "rejected", "rejected", "denied"]


def test_a_reads_its_register_on_the_console(
    wide: WideArea, capsys: pytest.CaptureFixture[str]
) -> None:
    wide.issue(wide.people.head.resident_code)
    capsys.readouterr()  # the nodes' log lines
    db = wide.a.engine.url.render_as_string(hide_password=False)

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli.main(["cert", "wide-area-register", "--db", db, *argv])
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
    clerk = operator(wide.a, "inagi-clerk", Role.COUNTER_CLERK)
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
