"""支援措置 and certificates on SQLite and PostgreSQL (事務処理要領 第5-10, 法第12条の3): while a
measure is in force on the day asked, a third party gets no 住民票の写し of the protected
person — not even with a supervisor's override —, the person's own request needs a supervisor;
during a temporary release, and after the period ends (computed from the day, nothing run at
midnight), the certificate is issued."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from juki.certificates.model import (
    CertificateKind,
    CertificateRequest,
    Requester,
    SupportOverride,
)
from juki.certificates.third_party import IdDocument, RequestBasis, ThirdPartyRequest
from juki.core.errors import DomainRuleError
from juki.registry.support.commands import ReleaseSupportMeasure, TerminateSupportMeasure
from juki.registry.support.model import SupportMeasure
from juki.registry.support.services import (
    release_support_measure,
    support_measures_of,
    terminate_support_measure,
)
from support.cert_population import CLERK, SUPERVISOR, CertEnv

R = CertificateKind.RESIDENCE
CREDITOR = ThirdPartyRequest(
    basis=RequestBasis.OWN_RIGHTS,
    purpose="貸金返還請求訴訟の提起のため、債務者の現住所を確認する",
    requester_name="佐藤　一郎",
    requester_address="東京都稲城市東長沼2丁目3番4号",
    id_document=IdDocument.DRIVER_LICENCE,
    id_document_number="第123456789012号",
)


def third_party(code: str, **kw: object) -> CertificateRequest:
    return CertificateRequest(
        R,
        code,
        requester=Requester.THIRD_PARTY,
        third_party=CREDITOR,
        **kw,  # type: ignore[arg-type]
    )


def the_measure(env: CertEnv) -> SupportMeasure:
    [m] = support_measures_of(env.reg.uow(), SUPERVISOR, env.people.supported.record_id)
    return m


def test_third_party_is_refused_even_with_an_override(env: CertEnv) -> None:
    code = env.people.supported.resident_code
    override = SupportOverride("x", "本人確認済み")
    before = env.state()
    for request in (third_party(code), third_party(code, support_override=override)):
        with pytest.raises(DomainRuleError) as err:
            env.desk.issue(SUPERVISOR, request)
        assert err.value.rule == "support_measure" and "第三者" in err.value.message_ja
    assert env.state() == before


def test_own_request_needs_a_supervisor_while_in_force(env: CertEnv) -> None:
    code = env.people.supported.resident_code
    with pytest.raises(DomainRuleError) as err:
        env.desk.issue(CLERK, CertificateRequest(R, code))
    assert err.value.rule == "support_measure" and "管理者" in err.value.message_ja
    override = SupportOverride("x", "本人からの請求（運転免許証で本人確認）")
    issued = env.desk.issue(SUPERVISOR, CertificateRequest(R, code, support_override=override))
    assert issued.content.names == (env.people.supported.full_name,)


def test_a_temporary_release_lets_the_third_party_have_it_for_its_period(env: CertEnv) -> None:
    code = env.people.supported.resident_code
    today = env.reg.clock.today()
    release_support_measure(
        env.reg.uow(),
        SUPERVISOR,
        ReleaseSupportMeasure(
            the_measure(env).measure_id,
            today,
            today + timedelta(days=6),
            "遺産分割調停の申立てのため",
            today,
        ),
    )
    issued = env.desk.issue(CLERK, third_party(code))
    assert issued.content.names == (env.people.supported.full_name,)
    env.reg.clock.advance(timedelta(days=7))  # the release is over; the measure is not
    with pytest.raises(DomainRuleError) as err:
        env.desk.issue(CLERK, third_party(code))
    assert err.value.rule == "support_measure"


def test_the_period_ends_by_itself_on_its_last_day(env: CertEnv) -> None:
    code = env.people.supported.resident_code
    m = the_measure(env)
    assert m.periods[0].ends_on == date(2026, 3, 29)  # decided 2025-03-30: one year
    last_day = m.last_day  # renewed (延長) in each last month, until after the real date
    env.reg.clock.advance(timedelta(days=(last_day - env.reg.clock.today()).days))
    with pytest.raises(DomainRuleError):
        env.desk.issue(CLERK, third_party(code))
    env.reg.clock.advance(timedelta(days=1))
    assert env.desk.issue(CLERK, third_party(code)).content.names


def test_a_terminated_measure_no_longer_blocks(env: CertEnv) -> None:
    code = env.people.supported.resident_code
    terminate_support_measure(
        env.reg.uow(),
        SUPERVISOR,
        TerminateSupportMeasure(
            the_measure(env).measure_id, env.reg.clock.today(), "本人からの終了の申出"
        ),
    )
    assert env.desk.issue(CLERK, CertificateRequest(R, code)).content.names
    assert env.desk.issue(CLERK, third_party(code)).content.names
