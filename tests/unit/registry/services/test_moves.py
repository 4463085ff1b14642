"""転入, 転出 and 転出確定 (`juki.registry.services.moves`) on the fake unit of work."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from juki.core.errors import DomainRuleError, NotFoundError, ValidationError
from juki.core.identifiers import MyNumber, ResidentCode
from juki.network.messages import IdentityInfoBody, MoveOutCertificateInfo
from juki.registry import services as svc
from juki.registry.commands import (
    ConfirmMoveOut,
    ForeignItems,
    JoinHousehold,
    MoveInOrigin,
    MoveOutCertificateItems,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
    RecordMoveOut,
)
from juki.registry.model import (
    ChangeReason,
    ForeignResidentCategory,
    RecordStatus,
    Relationship,
    ResidentRecord,
    Sex,
)
from support.backends import FakeBackend, oplog_outcomes, outbox_payloads, outbox_types, refused
from support.residents import (
    CLERK,
    CS,
    FUJISAWA,
    FUJISAWA_ADDRESS,
    PREFIX,
    TODAY,
    family,
    get,
    history,
    move_in,
    move_in_command,
    person,
)

FUJISAWA_NEW = "神奈川県藤沢市鵠沼石上1丁目1番1号"


def _from_abroad(p: PersonalItems, address: str = f"{PREFIX}若葉台2丁目3番4号") -> RecordMoveIn:
    return RecordMoveIn(
        person=p,
        origin=MoveInOrigin.ABROAD,
        address=address,
        moved_on=date(2025, 3, 20),
        notified_on=date(2025, 3, 21),
        previous_address="ベトナム社会主義共和国",
        placement=NewHousehold(),
    )


# -- move-in --------------------------------------------------------------------------------


def test_move_in_creates_record_history_outbox_and_oplog(backend: FakeBackend) -> None:
    record = move_in(backend)
    assert record.is_active and record.relationship is Relationship.HOUSEHOLDER
    assert record.resident_since == date(2025, 3, 20)
    assert record.previous_address == FUJISAWA_ADDRESS
    (first,) = history(backend, record.record_id)
    assert (first.change.reason, first.actor_id) == (ChangeReason.MOVE_IN, "clerk-1")
    assert first.change.note == MoveInOrigin.CERTIFICATE.value
    assert outbox_types(backend) == ["identity_info_changed", "fuhyo_notice", "move_in_notice"]
    (notice,) = outbox_payloads(backend, "move_in_notice")
    assert (notice["from_lg_code"], notice["to_lg_code"]) == (FUJISAWA, "132250")
    assert oplog_outcomes(backend)[0] == "ok"


def test_second_spouse_is_refused(backend: FakeBackend) -> None:
    head, _, _ = family(backend)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        move_in(
            backend,
            person("佐藤", "美咲", "サトウ", "ミサキ", date(1985, 1, 1), Sex.FEMALE),
            placement=JoinHousehold(head.household_id, Relationship.WIFE),
            code_body="2520801764",
            number_body="22222222222",
        )
    assert err.value.rule == "one_spouse"


def test_relationship_must_match_sex(backend: FakeBackend) -> None:
    head = move_in(backend)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        move_in(
            backend,
            person("山田", "次郎", "ヤマダ", "ジロウ", date(1950, 1, 1), Sex.MALE),
            placement=JoinHousehold(head.household_id, Relationship.MOTHER),
            code_body="2520801764",
            number_body="22222222222",
        )
    assert err.value.rule == "sex_mismatch"


def test_move_in_address_outside_the_municipality_is_refused(backend: FakeBackend) -> None:
    with refused(backend), pytest.raises(DomainRuleError) as err:
        move_in(backend, address="東京都府中市宮西町1丁目1番地")
    assert (err.value.field, err.value.rule) == ("address", "outside_municipality")


def test_move_in_with_certificate_needs_the_resident_code(backend: FakeBackend) -> None:
    cmd = dataclasses.replace(move_in_command(), resident_code=None)
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.record_move_in(backend.uow(), CLERK, cmd)
    assert (err.value.field, err.value.rule) == ("resident_code", "required")


def test_same_resident_code_cannot_be_active_twice(backend: FakeBackend) -> None:
    move_in(backend)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        move_in(backend)
    assert err.value.rule == "already_resident"


def test_bad_check_digit_names_the_field(backend: FakeBackend) -> None:
    cmd = dataclasses.replace(_from_abroad(person()), resident_code="24727059609")
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.record_move_in(backend.uow(), CLERK, cmd)
    assert (err.value.field, err.value.rule) == ("resident_code", "check_digit")


def test_foreign_resident_from_abroad(backend: FakeBackend) -> None:
    nguyen = PersonalItems(
        family_name="NGUYEN",
        given_name="VAN AN",
        family_name_kana="グエン",
        given_name_kana="ヴァン　アン",
        birth_date=date(1998, 2, 3),
        sex=Sex.MALE,
        foreign=ForeignItems(
            nationality="ベトナム",
            category=ForeignResidentCategory.MID_LONG_TERM,
            residence_status="技術・人文知識・国際業務",
            period_of_stay="3年",
            stay_expiry=date(2028, 3, 1),
            residence_card_number="ab12345678cd",
        ),
    )
    record = svc.record_move_in(backend.uow(), CLERK, _from_abroad(nguyen))
    assert record.is_foreign and record.residence_card_number == "AB12345678CD"
    assert history(backend, record.record_id)[0].change.reason is ChangeReason.IMMIGRATION
    assert outbox_types(backend) == ["identity_info_changed"]  # no 附票, no 転入通知
    lee = PersonalItems(
        "LEE",
        "MIN",
        "リー",
        "ミン",
        date(1990, 1, 1),
        Sex.FEMALE,
        foreign=ForeignItems(
            "韓国", ForeignResidentCategory.MID_LONG_TERM, residence_card_number="123"
        ),
    )
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.record_move_in(backend.uow(), CLERK, _from_abroad(lee, f"{PREFIX}若葉台2丁目3番5号"))
    assert (err.value.field, err.value.rule) == ("residence_card_number", "format")


# -- move-out and its confirmation -----------------------------------------------------------


def test_move_out_then_confirmation_keeps_the_planned_values(backend: FakeBackend) -> None:
    head, wife, child = family(backend)
    moved = svc.record_move_out(
        backend.uow(),
        CLERK,
        RecordMoveOut(
            record_ids=(head.record_id, wife.record_id, child.record_id),
            destination_address=FUJISAWA_NEW,
            planned_on=date(2025, 4, 10),
            notified_on=TODAY,
        ),
    )
    assert {r.status for r in moved} == {RecordStatus.REMOVED}
    assert {r.removal_reason for r in moved} == {ChangeReason.MOVE_OUT_PLANNED}
    confirm = ConfirmMoveOut(
        head.resident_code, "神奈川県藤沢市鵠沼石上1丁目1番2号", date(2025, 3, 31), TODAY
    )
    svc.confirm_move_out(backend.uow(), CS, confirm)
    latest = svc.confirm_move_out(
        backend.uow(), CS, dataclasses.replace(confirm, confirmed_on=TODAY)
    )
    assert latest.move_out_planned_address == FUJISAWA_NEW
    assert latest.move_out_confirmed_address == "神奈川県藤沢市鵠沼石上1丁目1番2号"
    assert latest.move_out_confirmed_on == TODAY
    reasons = [h.change.reason for h in history(backend, head.record_id)]
    assert reasons[-3:] == [
        ChangeReason.MOVE_OUT_PLANNED,
        ChangeReason.MOVE_OUT_CONFIRMED,
        ChangeReason.MOVE_OUT_CONFIRMED,
    ]


def test_move_out_inside_the_municipality_is_a_relocation(backend: FakeBackend) -> None:
    head = move_in(backend)
    cmd = RecordMoveOut((head.record_id,), f"{PREFIX}若葉台1丁目1番1号", TODAY, TODAY)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.record_move_out(backend.uow(), CLERK, cmd)
    assert err.value.rule == "inside_municipality"


def test_confirmation_for_unknown_person_is_not_found(backend: FakeBackend) -> None:
    code = ResidentCode.complete("9999999999").value
    with refused(backend), pytest.raises(NotFoundError):
        svc.confirm_move_out(backend.uow(), CS, ConfirmMoveOut(code, "大阪府", TODAY, TODAY))


def test_card_move_out_sends_the_certificate_info_ahead(backend: FakeBackend) -> None:
    head = move_in(backend)
    backend.give_card(head.resident_code)
    svc.record_move_out(
        backend.uow(),
        CLERK,
        RecordMoveOut(
            (head.record_id,),
            FUJISAWA_NEW,
            date(2025, 4, 5),
            TODAY,
            destination_lg_code=FUJISAWA,
            card=True,
        ),
    )
    (info,) = outbox_payloads(backend, "move_out_certificate_info")
    assert info["to_lg_code"] == FUJISAWA
    assert info["from_lg_code"] == "132250"
    assert info["identity"]["resident_code"] == head.resident_code
    assert set(info) == {
        "identity",
        "destination_address",
        "planned_on",
        "from_lg_code",
        "to_lg_code",
        "alias_history",  # version 3: a foreign resident's 通称履歴; none for a Japanese national
    }
    assert info["alias_history"] == []
    # the move-out records where the information went, so a 転出取消 can tell it
    assert svc.get_record(backend.uow(), CLERK, head.record_id).card_move_out_lg_code == FUJISAWA


def test_card_move_out_needs_a_destination_municipality(backend: FakeBackend) -> None:
    head = move_in(backend)
    cmd = RecordMoveOut((head.record_id,), "神奈川県藤沢市鵠沼1番地", TODAY, TODAY, card=True)
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.record_move_out(backend.uow(), CLERK, cmd)
    assert (err.value.field, err.value.rule) == ("destination_lg_code", "required")


def test_card_move_out_needs_every_movers_card(backend: FakeBackend) -> None:
    """The card register decides, not the 個人番号: the head has a my_number but no card."""
    head, wife, child = family(backend)
    alone = RecordMoveOut(
        (head.record_id,), FUJISAWA_NEW, TODAY, TODAY, destination_lg_code=FUJISAWA, card=True
    )
    assert head.my_number is not None
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.record_move_out(backend.uow(), CLERK, alone)
    assert err.value.rule == "card_required"
    backend.give_card(head.resident_code)
    backend.give_card(wife.resident_code)
    cmd = RecordMoveOut(
        (head.record_id, wife.record_id, child.record_id),
        FUJISAWA_NEW,
        TODAY,
        TODAY,
        destination_lg_code=FUJISAWA,
        card=True,
    )
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.record_move_out(backend.uow(), CLERK, cmd)
    assert err.value.rule == "card_required"


# -- the card-based move-in (転入届の特例) ------------------------------------------------------


def _card_move_in(backend: FakeBackend, p: PersonalItems, number: str) -> ResidentRecord:
    return svc.record_move_in(
        backend.uow(),
        CLERK,
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


def _move_out_info(p: PersonalItems, number: str) -> MoveOutCertificateInfo:
    """What 藤沢市's CS sent ahead when this person moved out with the card."""
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
        changed_on=date(2025, 3, 30),
    )
    return MoveOutCertificateInfo(
        identity=identity,
        destination_address=f"{PREFIX}平尾1丁目1番1号",
        planned_on=date(2025, 3, 30),
        from_lg_code=FUJISAWA,
        to_lg_code="132250",
    )


def test_card_move_in_needs_the_move_out_info_and_uses_it_once(backend: FakeBackend) -> None:
    number = MyNumber.complete("12345678901").value
    p = person()
    with refused(backend), pytest.raises(DomainRuleError) as err:
        _card_move_in(backend, p, number)
    assert err.value.rule == "move_out_info_missing"
    backend.keep_move_out_info(_move_out_info(p, number), "2025-03-29T10:00:00+09:00")
    with refused(backend), pytest.raises(DomainRuleError) as err:
        _card_move_in(backend, p, MyNumber.complete("99999999999").value)
    assert err.value.rule == "move_out_info_mismatch"
    record = _card_move_in(backend, p, number)
    assert record.is_active and get(backend, record.record_id).my_number == number
    (info,) = backend.rows("move_out_infos")
    assert info["used_at"] is not None


def test_card_move_in_on_withdrawn_information_is_refused_saying_why(
    backend: FakeBackend,
) -> None:
    """転出取消 at 藤沢市 (`move_out_withdrawn`): the information stays, withdrawn, and the
    counter is told the move-out was withdrawn, not that nothing arrived."""
    number = MyNumber.complete("12345678901").value
    p = person()
    backend.keep_move_out_info(_move_out_info(p, number), "2025-03-29T10:00:00+09:00")
    backend.withdraw_move_out_info("24727059608", FUJISAWA, date(2025, 3, 29))
    with refused(backend), pytest.raises(DomainRuleError) as err:
        _card_move_in(backend, p, number)
    assert (err.value.field, err.value.rule) == ("resident_code", "move_out_withdrawn")
    assert "令和7年3月29日" in err.value.message_ja and "転出取消" in err.value.message_ja
    (info,) = backend.rows("move_out_infos")
    assert info["used_at"] is None


def _keep_card_info(backend: FakeBackend, planned_on: date) -> tuple[PersonalItems, str]:
    """The move-out information 藤沢市 sent ahead, for a move planned on `planned_on`."""
    number = MyNumber.complete("12345678901").value
    p = person()
    info = _move_out_info(p, number).model_copy(update={"planned_on": planned_on})
    backend.keep_move_out_info(info, "2025-03-01T10:00:00+09:00")
    return p, number


def _card_move_in_on(
    backend: FakeBackend, p: PersonalItems, number: str, moved_on: date
) -> ResidentRecord:
    return svc.record_move_in(
        backend.uow(),
        CLERK,
        RecordMoveIn(
            person=p,
            origin=MoveInOrigin.CARD,
            address=f"{PREFIX}平尾1丁目1番1号",
            moved_on=moved_on,
            notified_on=TODAY,
            previous_address=FUJISAWA_ADDRESS,
            placement=NewHousehold(),
            resident_code="24727059608",
            my_number=number,
            previous_lg_code=FUJISAWA,
        ),
    )


def test_card_move_in_on_the_14th_day_after_arrival_is_accepted(backend: FakeBackend) -> None:
    p, number = _keep_card_info(backend, date(2025, 3, 18))
    assert _card_move_in_on(backend, p, number, date(2025, 3, 18)).is_active


def test_card_move_in_after_14_days_from_arrival_is_refused(backend: FakeBackend) -> None:
    """法24条の2第1項ただし書・令24条の2: past 14 days, a paper 転出証明書 is needed."""
    p, number = _keep_card_info(backend, date(2025, 3, 17))
    with refused(backend), pytest.raises(DomainRuleError) as err:
        _card_move_in_on(backend, p, number, date(2025, 3, 17))
    assert (err.value.field, err.value.rule) == ("notified_on", "card_move_in_late_after_arrival")
    assert "転出証明書" in err.value.message_ja


def test_card_move_in_30_days_after_the_planned_date_is_the_last_day(
    backend: FakeBackend,
) -> None:
    p, number = _keep_card_info(backend, date(2025, 3, 2))
    assert _card_move_in_on(backend, p, number, date(2025, 3, 25)).is_active


def test_card_move_in_after_30_days_from_the_planned_date_is_refused(
    backend: FakeBackend,
) -> None:
    p, number = _keep_card_info(backend, date(2025, 3, 1))
    with refused(backend), pytest.raises(DomainRuleError) as err:
        _card_move_in_on(backend, p, number, date(2025, 3, 25))
    assert err.value.rule == "card_move_in_late_after_planned"
    assert backend.rows("move_out_infos")[0]["used_at"] is None  # a refusal takes nothing


# -- the move-in that presents a paper 転出証明書 (令23条) ----------------------------------------


def _certificate(**changes: object) -> MoveOutCertificateItems:
    items = MoveOutCertificateItems(
        certificate_number="142051-0001",
        lg_code=FUJISAWA,
        resident_code=ResidentCode.complete("2472705960").value,
        family_name="山田",
        given_name="太郎",
        birth_date=date(1980, 5, 5),
        sex=Sex.MALE,
        address=FUJISAWA_ADDRESS,
        destination_address=f"{PREFIX}東長沼1丁目1番1号",
        planned_on=date(2025, 3, 20),
        my_number=MyNumber.complete("12345678901").value,
    )
    return dataclasses.replace(items, **changes)  # type: ignore[arg-type]


def test_move_in_takes_the_move_out_certificates_items(backend: FakeBackend) -> None:
    cmd = dataclasses.replace(
        move_in_command(),
        my_number=None,
        move_out_certificate_number=None,
        move_out_certificate=_certificate(),
    )
    record = svc.record_move_in(backend.uow(), CLERK, cmd)
    assert record.my_number == MyNumber.complete("12345678901").value  # from the certificate
    assert record.previous_address == FUJISAWA_ADDRESS


@pytest.mark.parametrize(
    ("change", "item"),
    [
        ({"family_name": "山本"}, "family_name"),
        ({"given_name": "次郎"}, "given_name"),
        ({"birth_date": date(1980, 5, 6)}, "birth_date"),
        ({"sex": Sex.FEMALE}, "sex"),
        ({"resident_code": ResidentCode.complete("2484601622").value}, "resident_code"),
        ({"lg_code": "131016"}, "lg_code"),
        ({"address": "神奈川県藤沢市辻堂1番地"}, "address"),
        ({"my_number": MyNumber.complete("45497236486").value}, "my_number"),
        ({"certificate_number": "142051-0009"}, "certificate_number"),
    ],
)
def test_move_in_refuses_a_certificate_that_disagrees(
    backend: FakeBackend, change: dict[str, object], item: str
) -> None:
    cmd = dataclasses.replace(move_in_command(), move_out_certificate=_certificate(**change))
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.record_move_in(backend.uow(), CLERK, cmd)
    assert (err.value.field, err.value.rule) == (
        f"move_out_certificate.{item}",
        "certificate_mismatch",
    )


def test_a_certificate_goes_only_with_a_certificate_move_in(backend: FakeBackend) -> None:
    cmd = dataclasses.replace(_from_abroad(person()), move_out_certificate=_certificate())
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.record_move_in(backend.uow(), CLERK, cmd)
    assert (err.value.field, err.value.rule) == ("move_out_certificate", "not_for_origin")
