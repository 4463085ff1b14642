"""広域交付 issued at B for A's residents, and refused: before anyone is asked (B's own checks,
the network's state) or by A, which registers every request it answered or refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from juki.certificates import tables as certificate_tables
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateKind,
    CertificateRequest,
    OptionalItem,
    Requester,
    SupportOverride,
)
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.certificates.wide_area import WideAreaRefused, wide_area_register
from juki.core.errors import PermissionDeniedError, ValidationError
from juki.nodes.wide_area import CsContentSource
from juki.security.actors import Actor
from juki.security.permissions import Role
from support.cert_population import HONSEKI, People
from support.wide_area import (
    AUDITOR_B,
    CLERK_B,
    ON_SQLITE_ONLY,
    A,
    B,
    WideArea,
    oplog,
    pdf_text,
    rows,
)

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


@ON_SQLITE_ONLY
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
