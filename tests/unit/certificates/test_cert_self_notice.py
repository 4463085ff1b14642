"""本人通知 (`juki.certificates.services.self_notice`) on the fake unit of work: registration and
its withdrawal, the notices a third party's certificate owes, and the clerk's list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from juki.certificates.model import CertificateKind
from juki.certificates.self_notice import IssuedToThirdParty, SelfNotice
from juki.certificates.services.self_notice import (
    mark_self_notice_sent,
    record_self_notices,
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
from juki.core.errors import DomainRuleError, PermissionDeniedError, ValidationError
from juki.core.identifiers import ResidentCode
from juki.registry.model import ResidentRecord
from juki.security.actors import Actor
from juki.security.permissions import Role
from support.backends import FakeBackend, oplog_outcomes, refused
from support.fake_notices import FakeSelfNoticeUnitOfWork
from support.residents import CLERK, family, seed

NOBODY = f"1322599999{ResidentCode.check_digit('1322599999')}"  # a valid code of no one here
AUDITOR = Actor("audit-1", Role.AUDITOR, "T09")
LAWYER = ThirdPartyRequest(
    basis=RequestBasis.ENTRUSTED,
    purpose="受任した相続事件の相続人調査",
    requester_name="鈴木　法子",
    requester_address="東京都千代田区霞が関1丁目1番3号",
    id_document=IdDocument.PROFESSIONAL_ID,
    id_document_number="12345",
    qualification=Qualification.LAWYER,
    registration_number="第12345号",
    client_name="高橋　次郎",
)


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    fake = FakeBackend()
    seed(fake)
    yield fake
    assert not fake.db.open_transactions, "a unit of work was left open"


def uow(backend: FakeBackend) -> FakeSelfNoticeUnitOfWork:
    return FakeSelfNoticeUnitOfWork(backend.db, clock=backend.clock, ids=backend.ids)


def issue_to_lawyer(backend: FakeBackend, *shown: ResidentRecord) -> list[SelfNotice]:
    issued = IssuedToThirdParty(
        certificate_id="c0ffee00-0000-0000-0000-000000000001",
        issued_on=date(2025, 4, 1),
        kind=CertificateKind.RESIDENCE,
        copies=1,
        request=LAWYER,
    )
    with uow(backend) as u:
        notices = record_self_notices(u, issued, shown)
        u.commit()
    return notices


def test_a_registered_resident_is_noticed_with_the_entrusted_professionals_name(
    backend: FakeBackend,
) -> None:
    head, wife, child = family(backend)
    registration = register_self_notice(uow(backend), CLERK, wife.resident_code)
    assert registration.is_live and registration.registered_by == "clerk-1"
    [notice] = issue_to_lawyer(backend, head, wife, child)
    assert notice.resident_code == wife.resident_code
    assert notice.registration_id == registration.registration_id
    assert (notice.recipient_name, notice.recipient_address) == (wife.full_name, wife.address)
    assert notice.requester_name == "弁護士　鈴木　法子"  # the 受任者, not the client
    assert notice.basis is RequestBasis.ENTRUSTED and notice.kind is CertificateKind.RESIDENCE
    assert "高橋" not in notice.text_ja and "2025年4月1日" in notice.text_ja
    [pending] = self_notices_to_send(uow(backend), CLERK)
    assert pending == notice
    assert oplog_outcomes(backend)[-2:] == ["ok", "ok"]


def test_nobody_unregistered_or_withdrawn_is_noticed(backend: FakeBackend) -> None:
    head, wife, _child = family(backend)
    assert issue_to_lawyer(backend, head, wife) == []
    register_self_notice(uow(backend), CLERK, head.resident_code)
    ended = withdraw_self_notice(uow(backend), CLERK, head.resident_code)
    assert ended.withdrawn_at is not None and ended.withdrawn_by == "clerk-1"
    assert issue_to_lawyer(backend, head, wife) == []
    # registering again after a withdrawal is a new registration
    again = register_self_notice(uow(backend), CLERK, head.resident_code)
    assert again.registration_id != ended.registration_id
    assert [n.registration_id for n in issue_to_lawyer(backend, head)] == [again.registration_id]
    assert len(backend.rows("self_notice_registrations")) == 2


def test_registration_is_once_at_a_time_for_a_resident_here(backend: FakeBackend) -> None:
    head, _wife, _child = family(backend)
    register_self_notice(uow(backend), CLERK, head.resident_code)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        register_self_notice(uow(backend), CLERK, head.resident_code)
    assert (err.value.field, err.value.rule) == ("resident_code", "already_registered")
    with refused(backend), pytest.raises(DomainRuleError) as err:
        register_self_notice(uow(backend), CLERK, NOBODY)
    assert err.value.rule == "not_resident"
    with refused(backend), pytest.raises(ValidationError) as verr:
        register_self_notice(uow(backend), CLERK, "1234")
    assert verr.value.field == "resident_code"


def test_withdrawal_of_no_registration_is_refused(backend: FakeBackend) -> None:
    head, _wife, _child = family(backend)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        withdraw_self_notice(uow(backend), CLERK, head.resident_code)
    assert err.value.rule == "not_registered"
    assert "登録されていません" in err.value.message_ja


def test_a_notice_is_marked_sent_once_and_leaves_the_pending_list(backend: FakeBackend) -> None:
    head, _wife, _child = family(backend)
    register_self_notice(uow(backend), CLERK, head.resident_code)
    [notice] = issue_to_lawyer(backend, head)
    sent = mark_self_notice_sent(uow(backend), CLERK, notice.notice_id)
    assert sent.sent_at is not None and sent.sent_by == "clerk-1"
    assert self_notices_to_send(uow(backend), CLERK) == []
    assert [n.notice_id for n in self_notices_to_send(uow(backend), CLERK, pending=False)] == [
        notice.notice_id
    ]
    with refused(backend), pytest.raises(DomainRuleError) as err:
        mark_self_notice_sent(uow(backend), CLERK, notice.notice_id)
    assert err.value.rule == "already_sent"


def test_registration_and_the_notices_need_their_permissions(backend: FakeBackend) -> None:
    head, _wife, _child = family(backend)
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        register_self_notice(uow(backend), AUDITOR, head.resident_code)
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        withdraw_self_notice(uow(backend), AUDITOR, head.resident_code)
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        self_notices_to_send(uow(backend), AUDITOR)
