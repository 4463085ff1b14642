"""広域交付 across an in-process network: 藤沢市 (B) issues for residents of 稲城市 (A).

The nodes, CSs, content rules, rendering and signing are the real ones; each node has its own
database (SQLite files, or PostgreSQL databases of one throwaway server). Tampering is done on
the wire: the in-memory transport's answer for A is wrapped.
"""

from __future__ import annotations

import base64
import io
import json
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
from juki.certificates.content import (
    ALL_MEMBERS,
    CertificateKind,
    CertificateRequest,
    OptionalItem,
    Requester,
    SupportOverride,
)
from juki.certificates.desk import CertificateDesk
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.certificates.wide_area import WideAreaRefused, wide_area_register
from juki.core.errors import PermissionDeniedError, RuleViolation, ValidationError
from juki.network.envelope import Envelope
from juki.network.transport import Reply, ReplyStatus
from juki.nodes.config import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.wide_area import CsContentSource
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.storage import tables
from juki.web.registry_api import create_registry_app

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
        return rows(self.a.engine, tables.wide_area_requests)

    def b_certificates(self) -> list[dict[str, Any]]:
        return rows(self.b.engine, tables.certificates)


def rows(engine: sa.Engine, table: sa.Table) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def oplog(engine: sa.Engine, action: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(tables.oplog).where(tables.oplog.c.action == action)
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
    (line,) = rows(wide.b.engine, tables.certificate_register)
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
        reasons = conn.execute(sa.select(tables.net_refusals.c.reason)).scalars().all()
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
        engine, MANAGER_B, "fujisawa-clerk", "窓口 一郎", Role.COUNTER_CLERK, clock
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
        engine, MANAGER_B, "fujisawa-clerk", "窓口 一郎", Role.COUNTER_CLERK, wide.b.clock
    )
    r = TestClient(app).post(
        "/api/v1/certificates/wide-area",
        json={"from_lg_code": A, "resident_code": wide.people.head.resident_code},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "not_on_network"
