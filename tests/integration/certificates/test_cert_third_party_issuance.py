"""第三者請求 and 本人通知 through the real services and storage, on SQLite and PostgreSQL: the
申出 kept with the certificate and shown in the register, the notice recorded in the same
transaction, and nothing kept when the request is refused."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from juki.certificates import services
from juki.certificates import tables as certificate_tables
from juki.certificates.model import CertificateKind, CertificateRequest, Requester
from juki.certificates.services.self_notice import (
    mark_self_notice_sent,
    register_self_notice,
    self_notices_to_send,
    withdraw_self_notice,
)
from juki.certificates.third_party import (
    IdDocument,
    Qualification,
    RequestBasis,
    ThirdPartyRequest,
)
from juki.core.errors import DomainRuleError, RuleViolation
from juki.security import tables as security_tables
from support.cert_population import AUDITOR, CLERK, CertEnv

CREDITOR = ThirdPartyRequest(
    basis=RequestBasis.OWN_RIGHTS,
    purpose="貸金返還請求訴訟の提起のため、債務者の現住所を確認する",
    requester_name="佐藤　一郎",
    requester_address="東京都稲城市東長沼2丁目3番4号",
    id_document=IdDocument.DRIVER_LICENCE,
    id_document_number="第123456789012号",
)
LAWYER = ThirdPartyRequest(
    basis=RequestBasis.ENTRUSTED,
    purpose="受任した相続事件の相続人調査（遺産分割調停申立て）",
    requester_name="鈴木　法子",
    requester_address="東京都千代田区霞が関1丁目1番3号",
    id_document=IdDocument.PROFESSIONAL_ID,
    id_document_number="弁護士会員証 12345",
    qualification=Qualification.LAWYER,
    registration_number="第12345号",
    client_name="高橋　次郎",
)


def third_party(code: str, details: ThirdPartyRequest | None, **kw: object) -> CertificateRequest:
    return CertificateRequest(
        CertificateKind.RESIDENCE,
        code,
        requester=Requester.THIRD_PARTY,
        third_party=details,
        **kw,  # type: ignore[arg-type]
    )


def rows(env: CertEnv, table: sa.Table) -> list[dict[str, object]]:
    with env.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def test_a_third_partys_request_is_kept_with_the_certificate_and_shown_in_the_register(
    env: CertEnv,
) -> None:
    head = env.people.head
    issued = env.desk.issue(CLERK, third_party(head.resident_code, CREDITOR))
    [kept] = rows(env, certificate_tables.third_party_requests)
    assert kept["certificate_id"] == issued.certificate_id
    assert kept["subject_resident_code"] == head.resident_code
    assert (kept["basis"], kept["requester_name"]) == ("own_rights", "佐藤　一郎")
    assert (kept["id_document"], kept["id_document_number"]) == (
        "driver_licence",
        "第123456789012号",
    )
    assert kept["corporation"] is False
    # the auditor's register line says who obtained whose certificate, for what
    [entry] = services.certificate_register(env.desk.uow(), AUDITOR)
    assert entry.requester == "third_party"
    assert entry.third_party == CREDITOR
    with env.engine.connect() as conn:
        detail = conn.execute(
            sa.select(security_tables.oplog.c.detail).where(
                security_tables.oplog.c.action == "issue_certificate"
            )
        ).scalar_one()
    assert "third party" in detail
    # a self request keeps nothing of the kind
    env.desk.issue(CLERK, CertificateRequest(CertificateKind.RESIDENCE, head.resident_code))
    assert len(rows(env, certificate_tables.third_party_requests)) == 1
    assert [e.third_party for e in services.certificate_register(env.desk.uow(), AUDITOR)] == [
        None,
        CREDITOR,
    ]


def test_a_registered_resident_gets_a_notice_naming_the_professional(env: CertEnv) -> None:
    p = env.people
    register_self_notice(env.desk.uow(), CLERK, p.wife.resident_code)
    issued = env.desk.issue(CLERK, third_party(p.head.resident_code, LAWYER, members="all"))
    [notice] = self_notices_to_send(env.desk.uow(), CLERK)
    assert notice.certificate_id == issued.certificate_id
    assert notice.resident_code == p.wife.resident_code
    assert notice.requester_name == "弁護士　鈴木　法子"
    assert notice.basis is RequestBasis.ENTRUSTED
    assert (notice.recipient_name, notice.recipient_address) == (p.wife.full_name, p.wife.address)
    assert notice.issued_on.isoformat() == "2025-04-01"
    # a copy of the head alone does not show the wife: no notice
    env.desk.issue(CLERK, third_party(p.head.resident_code, LAWYER))
    assert len(self_notices_to_send(env.desk.uow(), CLERK)) == 1
    # the wife's own request notifies no one
    env.desk.issue(CLERK, CertificateRequest(CertificateKind.RESIDENCE, p.wife.resident_code))
    assert len(self_notices_to_send(env.desk.uow(), CLERK)) == 1
    sent = mark_self_notice_sent(env.desk.uow(), CLERK, notice.notice_id)
    assert sent.sent_at is not None
    assert self_notices_to_send(env.desk.uow(), CLERK) == []
    withdraw_self_notice(env.desk.uow(), CLERK, p.wife.resident_code)
    env.desk.issue(CLERK, third_party(p.head.resident_code, LAWYER, members="all"))
    assert self_notices_to_send(env.desk.uow(), CLERK) == []
    assert len(rows(env, certificate_tables.self_notices)) == 1


def test_a_refused_third_party_request_keeps_nothing(env: CertEnv) -> None:
    p = env.people
    register_self_notice(env.desk.uow(), CLERK, p.head.resident_code)
    no_purpose = dataclasses.replace(CREDITOR, purpose="")
    for details, field in [
        (no_purpose, "third_party.purpose"),
        (dataclasses.replace(CREDITOR, id_document=None), "third_party.id_document"),
        (None, "third_party"),
    ]:
        with pytest.raises(RuleViolation) as err:
            env.desk.issue(CLERK, third_party(p.head.resident_code, details))
        assert err.value.field == field
    assert rows(env, certificate_tables.certificates) == []
    assert rows(env, certificate_tables.third_party_requests) == []
    assert rows(env, certificate_tables.self_notices) == []
    with pytest.raises(DomainRuleError) as derr:
        register_self_notice(env.desk.uow(), CLERK, p.head.resident_code)
    assert derr.value.rule == "already_registered"


def test_a_complete_request_for_a_protected_person_is_refused_and_keeps_nothing(
    env: CertEnv,
) -> None:
    """支援措置: the 申出 being in order does not make a protected person's copy issuable to a
    third party (the content rule, `certificates.content.check_support_measures`)."""
    p = env.people
    register_self_notice(env.desk.uow(), CLERK, p.supported.resident_code)
    with pytest.raises(DomainRuleError) as err:
        env.desk.issue(CLERK, third_party(p.supported.resident_code, CREDITOR))
    assert err.value.rule == "support_measure"
    assert rows(env, certificate_tables.third_party_requests) == []
    assert rows(env, certificate_tables.self_notices) == []
