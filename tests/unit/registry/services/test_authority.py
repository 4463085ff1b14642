"""職権記載, 職権修正, 職権消除 and 個人番号の指定 (`juki.registry.services.authority`) on the
fake unit of work."""

from __future__ import annotations

from datetime import date

import pytest

from juki.core.errors import DomainRuleError, PermissionDeniedError, ValidationError
from juki.core.identifiers import MyNumber
from juki.registry import services as svc
from juki.registry.commands import (
    AssignMyNumber,
    CorrectByAuthority,
    EnterByAuthority,
    NewHousehold,
    RemoveByAuthority,
)
from juki.registry.model import ChangeReason, RecordStatus, Relationship
from juki.registry.ports import SearchQuery
from support.backends import FakeBackend, refused
from support.residents import CLERK, CS, PREFIX, SUPERVISOR, TODAY, family, history, move_in, person


def test_clerk_cannot_act_by_authority_and_the_refusal_is_logged(backend: FakeBackend) -> None:
    head = move_in(backend)
    cmd = CorrectByAuthority(head.record_id, {"given_name": "太朗"}, TODAY, "誤記")
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        svc.correct_by_authority(backend.uow(), CLERK, cmd)
    (denied,) = [r for r in backend.rows("oplog") if r["outcome"] == "denied"]
    assert (denied["actor_id"], denied["action"]) == ("clerk-1", "correct_by_authority")
    assert denied["target"] == f"record:{head.record_id}"


def test_correction_by_authority_keeps_history(backend: FakeBackend) -> None:
    head = move_in(backend)
    fixed = svc.correct_by_authority(
        backend.uow(),
        SUPERVISOR,
        CorrectByAuthority(
            head.record_id, {"given_name": "太朗", "nhi_insured_since": "2025-03-20"}, TODAY, "誤記"
        ),
    )
    assert fixed.given_name == "太朗" and fixed.nhi_insured_since == date(2025, 3, 20)
    changes = history(backend, head.record_id)
    assert changes[0].change.fields["given_name"] == "太郎"
    assert changes[-1].change.reason is ChangeReason.CORRECTION_BY_AUTHORITY
    assert changes[-1].change.note == "誤記"
    assert changes[-1].actor_id == "super-1"
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.correct_by_authority(
            backend.uow(),
            SUPERVISOR,
            CorrectByAuthority(head.record_id, {"resident_code": "24727059608"}, TODAY, "x"),
        )
    assert (err.value.field, err.value.rule) == ("fields.resident_code", "not_correctable")


def test_a_wrong_relationship_is_corrected_but_never_into_or_out_of_householder(
    backend: FakeBackend,
) -> None:
    head, wife, _child = family(backend)
    fixed = svc.correct_by_authority(
        backend.uow(),
        SUPERVISOR,
        CorrectByAuthority(wife.record_id, {"relationship": "wife_unregistered"}, TODAY, "誤記"),
    )
    assert fixed.relationship is Relationship.WIFE_UNREGISTERED
    for record_id, value in ((wife.record_id, "householder"), (head.record_id, "husband")):
        cmd = CorrectByAuthority(record_id, {"relationship": value}, TODAY, "誤記")
        with refused(backend), pytest.raises(DomainRuleError) as err:
            svc.correct_by_authority(backend.uow(), SUPERVISOR, cmd)
        assert (err.value.field, err.value.rule) == ("fields.relationship", "householder_by_event")


def test_correction_to_the_current_values_is_refused(backend: FakeBackend) -> None:
    head = move_in(backend)
    cmd = CorrectByAuthority(head.record_id, {"given_name": "太郎"}, TODAY, "誤記")
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.correct_by_authority(backend.uow(), SUPERVISOR, cmd)
    assert err.value.rule == "no_change"


def test_entry_and_removal_by_authority(backend: FakeBackend) -> None:
    entered = svc.enter_by_authority(
        backend.uow(),
        SUPERVISOR,
        EnterByAuthority(
            person(), f"{PREFIX}矢野口1番地", date(2024, 1, 1), NewHousehold(), "実態調査"
        ),
    )
    (entry,) = history(backend, entered.record_id)
    assert entry.change.reason is ChangeReason.ENTRY_BY_AUTHORITY
    assert entry.change.note == "実態調査"
    removed = svc.remove_by_authority(
        backend.uow(), SUPERVISOR, RemoveByAuthority(entered.record_id, TODAY, "居住実態なし")
    )
    assert removed.status is RecordStatus.REMOVED
    assert removed.removal_reason is ChangeReason.REMOVAL_BY_AUTHORITY
    hits = svc.search_records(
        backend.uow(), CLERK, SearchQuery(name_kana="ヤマダ", include_removed=True)
    )
    assert [h.record_id for h in hits] == [entered.record_id]
    assert svc.search_records(backend.uow(), CLERK, SearchQuery(name_kana="ヤマダ")) == []


def test_entry_by_authority_needs_its_reason(backend: FakeBackend) -> None:
    cmd = EnterByAuthority(person(), f"{PREFIX}矢野口1番地", date(2024, 1, 1), NewHousehold(), " ")
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.enter_by_authority(backend.uow(), SUPERVISOR, cmd)
    assert (err.value.field, err.value.rule) == ("note", "required")


def test_my_number_assignment_once(backend: FakeBackend) -> None:
    _, _, child = family(backend)
    number = MyNumber.complete("98765432101").value
    done = svc.assign_my_number(backend.uow(), CS, AssignMyNumber(child.record_id, number))
    assert done.my_number == number
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.assign_my_number(
            backend.uow(),
            CS,
            AssignMyNumber(child.record_id, MyNumber.complete("11111111111").value),
        )
    assert err.value.rule == "already_assigned"
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        svc.assign_my_number(backend.uow(), CLERK, AssignMyNumber(child.record_id, number))


def test_my_number_of_another_resident_is_refused(backend: FakeBackend) -> None:
    head, _, child = family(backend)
    assert head.my_number is not None
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.assign_my_number(backend.uow(), CS, AssignMyNumber(child.record_id, head.my_number))
    assert (err.value.field, err.value.rule) == ("my_number", "duplicate")
