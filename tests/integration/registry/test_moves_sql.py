"""Move rules whose point is the stored history and the received move-out information, on
SQLite and PostgreSQL: the 転出取消 finds the householder change recorded with the 転出届 in the
stored history, and a late card-based move-in takes nothing from the move-out infos table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from juki.core.errors import DomainRuleError
from juki.core.identifiers import MyNumber
from juki.network.messages import IdentityInfoBody, MoveOutCertificateInfo
from juki.registry import services as svc
from juki.registry.commands import (
    MoveInOrigin,
    NewHousehold,
    RecordMoveIn,
    RecordMoveOut,
    WithdrawMoveOut,
)
from juki.registry.model import ChangeReason, Relationship
from support.backends import SqlBackend, assert_projection_is_fold, refused, sql_backend
from support.residents import (
    CLERK,
    FUJISAWA,
    FUJISAWA_ADDRESS,
    PREFIX,
    TODAY,
    family,
    get,
    history,
    person,
    seed,
)


@pytest.fixture
def backend(migrated_db_url: str) -> Iterator[SqlBackend]:
    with sql_backend(migrated_db_url) as sql:
        seed(sql)
        yield sql
        assert_projection_is_fold(sql)


def test_withdrawal_restores_the_householder_from_the_stored_history(backend: SqlBackend) -> None:
    head, wife, child = family(backend)
    svc.record_move_out(
        backend.uow(),
        CLERK,
        RecordMoveOut(
            (head.record_id,),
            "神奈川県藤沢市鵠沼石上1丁目1番1号",
            date(2025, 4, 10),
            TODAY,
            new_householder_id=wife.record_id,
            relationships={child.record_id: Relationship.CHILD},
        ),
    )
    svc.withdraw_move_out(
        backend.uow(), CLERK, WithdrawMoveOut((head.record_id,), "引越し中止", TODAY)
    )
    assert get(backend, head.record_id) == head
    assert get(backend, wife.record_id).relationship is Relationship.WIFE
    assert [h.change.reason for h in history(backend, wife.record_id)][-2:] == [
        ChangeReason.HOUSEHOLD_CHANGE,
        ChangeReason.MOVE_OUT_WITHDRAWN,
    ]


def test_a_late_card_move_in_is_refused_and_takes_nothing(backend: SqlBackend) -> None:
    number = MyNumber.complete("12345678901").value
    p = person()
    identity = IdentityInfoBody(
        resident_code="24727059608",
        my_number=number,
        family_name=p.family_name,
        given_name=p.given_name,
        family_name_kana=p.family_name_kana,
        given_name_kana=p.given_name_kana,
        birth_date=p.birth_date,
        sex=p.sex.value,
        address=FUJISAWA_ADDRESS,
        status="removed",
        lg_code=FUJISAWA,
        change_reason=ChangeReason.MOVE_OUT_PLANNED.value,
        changed_on=date(2025, 3, 1),
    )
    info = MoveOutCertificateInfo(
        identity=identity,
        destination_address=f"{PREFIX}平尾1丁目1番1号",
        planned_on=date(2025, 3, 1),  # 31 days before the move-in is notified
        from_lg_code=FUJISAWA,
        to_lg_code="132250",
    )
    backend.keep_move_out_info(info, "2025-02-28T10:00:00+09:00")
    cmd = RecordMoveIn(
        person=p,
        origin=MoveInOrigin.CARD,
        address=f"{PREFIX}平尾1丁目1番1号",
        moved_on=date(2025, 3, 25),
        notified_on=TODAY,
        previous_address=FUJISAWA_ADDRESS,
        placement=NewHousehold(),
        resident_code="24727059608",
        my_number=number,
        previous_lg_code=FUJISAWA,
    )
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.record_move_in(backend.uow(), CLERK, cmd)
    assert err.value.rule == "card_move_in_late_after_planned"
    (row,) = backend.rows("move_out_infos")
    assert row["used_at"] is None
