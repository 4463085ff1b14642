"""本人通知's fake repository (`support.fake_notices`) holds to the SQL one: the same scenario on
the fake and on SQLite and PostgreSQL leaves the same rows and answers the same refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from juki.certificates import tables as certificate_tables
from juki.certificates.model import CertificateKind
from juki.certificates.self_notice import IssuedToThirdParty
from juki.certificates.services.self_notice import (
    mark_self_notice_sent,
    record_self_notices,
    register_self_notice,
    self_notices_to_send,
    withdraw_self_notice,
)
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.certificates.third_party import IdDocument, RequestBasis, ThirdPartyRequest
from juki.core.errors import DomainRuleError
from juki.network.messages import FuhyoNotice
from support.backends import Backend, FakeBackend, SqlBackend, sql_backend
from support.fake_notices import FakeSelfNoticeUnitOfWork
from support.residents import CLERK, family, seed

TABLES = ("self_notice_registrations", "self_notices")
CERTIFICATE_ID = "c0ffee00-0000-0000-0000-000000000001"
CREDITOR = ThirdPartyRequest(
    basis=RequestBasis.SUBMISSION,
    purpose="家庭裁判所への相続放棄申述書に添付するため",
    requester_name="佐藤　一郎",
    requester_address="東京都稲城市東長沼2丁目3番4号",
    id_document=IdDocument.MY_NUMBER_CARD,
    id_document_number="確認済（番号は記録しない）",
)
HONSEKI_PERSON = FuhyoNotice(
    resident_code="55555000013",
    family_name="附票",
    given_name="一郎",
    family_name_kana="フヒョウ",
    given_name_kana="イチロウ",
    birth_date=date(1970, 7, 7),
    sex="male",
    honseki="東京都稲城市東長沼3番地",
    koseki_head="附票　一郎",
    address="神奈川県藤沢市辻堂1番地",
    address_since=date(2024, 4, 1),
    status="active",
    change_reason="move_in",
    changed_on=date(2024, 4, 1),
    from_lg_code="142051",
)
STRANGER = "55555000021"


def scenario(backend: Backend, uow: Callable[[], Any]) -> list[str]:
    """Register two, record a third party's notices, refuse twice, send one, withdraw one."""
    head, wife, child = family(backend)
    register_self_notice(uow(), CLERK, head.resident_code)
    register_self_notice(uow(), CLERK, child.resident_code)
    refused = []
    try:
        register_self_notice(uow(), CLERK, head.resident_code)
    except DomainRuleError as exc:
        refused.append(exc.rule)
    issued = IssuedToThirdParty(
        CERTIFICATE_ID,
        date(2025, 4, 1),
        CertificateKind.RECORD_ITEMS,
        2,
        CREDITOR,
    )
    with uow() as u:
        record_self_notices(u, issued, [head, wife, child])
        u.commit()
    first = self_notices_to_send(uow(), CLERK)[0]
    mark_self_notice_sent(uow(), CLERK, first.notice_id)
    try:
        mark_self_notice_sent(uow(), CLERK, first.notice_id)
    except DomainRuleError as exc:
        refused.append(exc.rule)
    withdraw_self_notice(uow(), CLERK, child.resident_code)
    try:
        withdraw_self_notice(uow(), CLERK, wife.resident_code)
    except DomainRuleError as exc:
        refused.append(exc.rule)
    # a person whose 本籍 is here, living elsewhere, registers (戸籍の附票の写し); a stranger not
    backend.record_fuhyo(HONSEKI_PERSON, "m-fuhyo-1", "2025-04-01T09:00:00+09:00")
    register_self_notice(uow(), CLERK, HONSEKI_PERSON.resident_code)
    try:
        register_self_notice(uow(), CLERK, STRANGER)
    except DomainRuleError as exc:
        refused.append(exc.rule)
    return refused


def add_certificate(sql: SqlBackend) -> None:
    with sql.engine.begin() as conn:
        conn.execute(
            certificate_tables.certificates.insert().values(
                certificate_id=CERTIFICATE_ID,
                lg_code="132250",
                record_lg_code="132250",
                kind="record_items",
                channel="counter",
                subject_resident_code="00000000000",
                content="{}",
                content_digest="0" * 64,
                issue_numbers="[]",
                copies=2,
                fee_yen=600,
                issued_at="2025-04-01T10:00:00+09:00",
                issued_on=date(2025, 4, 1),
                operator_id="clerk-1",
                terminal_id="T01",
                status="issued",
            )
        )


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_fake_keeps_what_sql_keeps(request: pytest.FixtureRequest, kind: str) -> None:
    fake = seed(FakeBackend())
    fake_refused = scenario(
        fake, lambda: FakeSelfNoticeUnitOfWork(fake.db, clock=fake.clock, ids=fake.ids)
    )
    url = request.getfixturevalue("migrated_pg_url" if kind == "postgres" else "sqlite_url")
    with sql_backend(url) as sql:
        assert isinstance(sql, SqlBackend)
        add_certificate(sql)  # the notices' certificate (the fake keeps no certificates)
        sql_refused = scenario(
            seed(sql),
            lambda: SqlCertificateUnitOfWork(sql.engine, clock=sql.clock, ids=sql.ids),
        )
        assert (
            sql_refused
            == fake_refused
            == ["already_registered", "already_sent", "not_registered", "not_resident"]
        )
        for table in TABLES:
            assert sql.rows(table) == fake.rows(table), table
        assert len(fake.rows("self_notices")) == 2
