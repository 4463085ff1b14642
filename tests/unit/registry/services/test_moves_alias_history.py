"""A foreign resident's 通称 and its history travel with the 転出証明書 (令30条の27): the move-in
continues the history the paper certificate or the 転出証明書情報 carried, on the fake."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from juki.core.errors import DomainRuleError, ValidationError
from juki.core.identifiers import MyNumber
from juki.network.messages import AliasEntryBody
from juki.registry import services as svc
from juki.registry.alias import AliasAction, AliasEntry
from juki.registry.commands import (
    ForeignItems,
    MoveInOrigin,
    MoveOutCertificateItems,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
)
from juki.registry.model import ForeignResidentCategory, ResidentRecord, Sex
from support.backends import FakeBackend, refused
from support.residents import CLERK, FUJISAWA, FUJISAWA_ADDRESS, PREFIX, TODAY, move_in_command

OSAKA, FUJISAWA_NAME = "大阪府大阪市", "神奈川県藤沢市"
HISTORY = (
    AliasEntry("金田", AliasAction.ENTERED, date(2015, 4, 1), OSAKA),
    AliasEntry("金田", AliasAction.DELETED, date(2019, 6, 1), OSAKA),
    AliasEntry("金山", AliasAction.ENTERED, date(2020, 1, 10), FUJISAWA_NAME),
)


def lee(alias: str | None = None) -> PersonalItems:
    return PersonalItems(
        family_name="李",
        given_name="ミンジュン",
        family_name_kana="イ",
        given_name_kana="ミンジュン",
        birth_date=date(1988, 8, 8),
        sex=Sex.MALE,
        foreign=ForeignItems("韓国", ForeignResidentCategory.SPECIAL_PERMANENT, alias_name=alias),
    )


def with_certificate(p: PersonalItems, history: tuple[AliasEntry, ...] = HISTORY) -> RecordMoveIn:
    """転入 with 藤沢市's paper 転出証明書, which shows the 通称履歴 it recorded."""
    cmd = move_in_command(p)
    cert = MoveOutCertificateItems(
        certificate_number="142051-0001",
        lg_code=FUJISAWA,
        resident_code=cmd.resident_code or "",
        family_name=p.family_name,
        given_name=p.given_name,
        birth_date=p.birth_date,
        sex=p.sex,
        address=FUJISAWA_ADDRESS,
        destination_address=cmd.address,
        planned_on=date(2025, 3, 20),
        alias_history=history,
    )
    return dataclasses.replace(cmd, move_out_certificate=cert)


def move(backend: FakeBackend, cmd: RecordMoveIn) -> ResidentRecord:
    return svc.record_move_in(backend.uow(), CLERK, cmd)


@pytest.mark.parametrize("given", [None, "金山"], ids=["not restated", "restated"])
def test_the_history_the_certificate_carries_continues_on_the_new_record(
    backend: FakeBackend, given: str | None
) -> None:
    record = move(backend, with_certificate(lee(given)))
    assert record.alias_name == "金山"  # the 通称 in force travels with it
    assert record.alias_history == HISTORY  # whole, and no new entry for the same 通称


def test_a_new_alias_is_entered_after_a_history_that_deleted_the_last(
    backend: FakeBackend,
) -> None:
    record = move(backend, with_certificate(lee("金本"), HISTORY[:2]))
    assert record.alias_history == (
        *HISTORY[:2],
        AliasEntry("金本", AliasAction.ENTERED, TODAY, PREFIX),
    )


def test_a_different_alias_from_the_one_in_force_is_refused(backend: FakeBackend) -> None:
    with refused(backend), pytest.raises(DomainRuleError) as err:
        move(backend, with_certificate(lee("金本")))
    assert (err.value.field, err.value.rule) == ("alias_name", "alias_differs")
    assert "金山" in err.value.message_ja


@pytest.mark.parametrize(
    ("history", "where", "rule"),
    [
        ((HISTORY[1], HISTORY[0]), "move_out_certificate.alias_history.0", "not_in_force"),
        ((HISTORY[2], HISTORY[0]), "move_out_certificate.alias_history.1", "out_of_order"),
        (
            (AliasEntry("", AliasAction.ENTERED, date(2020, 1, 1), OSAKA),),
            "move_out_certificate.alias_history.0.alias_name",
            "required",
        ),
    ],
    ids=["deletes what is not in force", "goes back in time", "no name"],
)
def test_a_history_that_does_not_read_in_order_is_refused_naming_the_entry(
    backend: FakeBackend, history: tuple[AliasEntry, ...], where: str, rule: str
) -> None:
    with refused(backend), pytest.raises(ValidationError) as err:
        move(backend, with_certificate(lee(), history))
    assert (err.value.field, err.value.rule) == (where, rule)


def test_a_japanese_nationals_certificate_has_no_alias_history(backend: FakeBackend) -> None:
    cmd = with_certificate(dataclasses.replace(lee(), foreign=None, honseki=None))
    with refused(backend), pytest.raises(ValidationError) as err:
        move(backend, cmd)
    assert err.value.field == "move_out_certificate.alias_history"
    assert err.value.rule == "not_foreign"


def test_the_card_based_move_in_takes_the_history_from_the_move_out_information(
    backend: FakeBackend,
) -> None:
    from juki.network.messages import IdentityInfoBody, MoveOutCertificateInfo

    number = MyNumber.complete("12345678901").value
    p = lee()
    identity = IdentityInfoBody(
        resident_code="24727059608",
        my_number=number,
        family_name=p.family_name,
        given_name=p.given_name,
        family_name_kana=p.family_name_kana,
        given_name_kana=p.given_name_kana,
        birth_date=p.birth_date,
        sex="male",
        address=FUJISAWA_ADDRESS,
        status="removed",
        lg_code=FUJISAWA,
        change_reason="move_out_planned",
        changed_on=date(2025, 3, 30),
        alias_name="金山",
    )
    info = MoveOutCertificateInfo(
        identity=identity,
        destination_address=f"{PREFIX}平尾1丁目1番1号",
        planned_on=date(2025, 3, 30),
        from_lg_code=FUJISAWA,
        to_lg_code="132250",
        alias_history=[AliasEntryBody.model_validate(e.to_json()) for e in HISTORY],
    )
    backend.keep_move_out_info(info, "2025-03-29T10:00:00+09:00")
    record = move(
        backend,
        RecordMoveIn(
            person=p,
            origin=MoveInOrigin.CARD,
            address=f"{PREFIX}平尾1丁目1番1号",
            moved_on=date(2025, 3, 30),
            notified_on=TODAY,
            previous_address=FUJISAWA_ADDRESS,
            placement=NewHousehold(),
            resident_code="24727059608",
            my_number=number,
            previous_lg_code=FUJISAWA,
        ),
    )
    assert (record.alias_name, record.alias_history) == ("金山", HISTORY)
