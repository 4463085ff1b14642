"""出生, 死亡 and 氏名変更 (`juki.registry.services.people`) on the fake unit of work."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from juki.core.errors import DomainRuleError, ValidationError
from juki.core.identifiers import ResidentCode
from juki.registry import services as svc
from juki.registry.commands import ChangeName, RecordBirth, RecordDeath
from juki.registry.model import ChangeReason, HouseholdStatus, RecordStatus, Relationship
from juki.registry.ports import SearchQuery
from support.backends import FakeBackend, assert_projection_is_fold, outbox_types, refused
from support.residents import CLERK, INAGI, TODAY, family, get, history, move_in, person


def _birth(
    household_id: str,
    birth: date = date(2025, 3, 28),
    relationship: Relationship = Relationship.CHILD,
) -> RecordBirth:
    return RecordBirth(
        person=person(given="次郎", given_kana="ジロウ", birth=birth),
        household_id=household_id,
        relationship=relationship,
        notified_on=TODAY,
    )


def test_birth_allots_a_valid_resident_code_and_awaits_my_number(backend: FakeBackend) -> None:
    _, _, child = family(backend)
    assert ResidentCode.parse(child.resident_code).value == child.resident_code
    assert child.resident_code.startswith("1322500000")
    assert child.my_number is None
    assert child.relationship is Relationship.CHILD
    assert [h.change.reason for h in history(backend, child.record_id)] == [ChangeReason.BIRTH]
    assert outbox_types(backend).count("identity_info_changed") == 3


def test_birth_in_the_future_is_refused_and_changes_nothing(backend: FakeBackend) -> None:
    head = move_in(backend)
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.record_birth(backend.uow(), CLERK, _birth(head.household_id, TODAY + timedelta(days=1)))
    assert err.value.field in ("birth_date", "effective_on")
    assert err.value.rule == "future_date"


def test_child_born_before_householder_is_refused(backend: FakeBackend) -> None:
    head = move_in(backend)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.record_birth(backend.uow(), CLERK, _birth(head.household_id, date(1970, 1, 1)))
    assert err.value.rule == "younger_than_householder"


def test_newborn_cannot_head_a_household_that_has_one(backend: FakeBackend) -> None:
    head = move_in(backend)
    cmd = _birth(head.household_id, relationship=Relationship.HOUSEHOLDER)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.record_birth(backend.uow(), CLERK, cmd)
    assert (err.value.field, err.value.rule) == ("relationship", "one_householder")


def test_birth_when_the_allotment_is_used_up_is_refused() -> None:
    """The last code of the allotment goes to the first child; the second is refused until
    J-LIS allots more."""
    backend = FakeBackend()
    backend.save_municipality(INAGI)
    backend.add_allotment(7, 7, "J-LIS")
    head = move_in(backend)
    first = svc.record_birth(backend.uow(), CLERK, _birth(head.household_id))
    assert first.resident_code == ResidentCode.complete("0000000007").value
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.record_birth(backend.uow(), CLERK, _birth(head.household_id, date(2025, 3, 29)))
    assert err.value.rule == "allotment_exhausted"
    assert_projection_is_fold(backend)


def test_death_of_householder_needs_a_new_householder(backend: FakeBackend) -> None:
    head, wife, child = family(backend)
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.record_death(backend.uow(), CLERK, RecordDeath(head.record_id, TODAY, TODAY))
    assert (err.value.field, err.value.rule) == ("new_householder_id", "required")
    dead = svc.record_death(
        backend.uow(),
        CLERK,
        RecordDeath(
            head.record_id,
            TODAY,
            TODAY,
            new_householder_id=wife.record_id,
            relationships={child.record_id: Relationship.CHILD},
        ),
    )
    assert dead.status is RecordStatus.REMOVED and dead.removal_reason is ChangeReason.DEATH
    assert get(backend, wife.record_id).relationship is Relationship.HOUSEHOLDER
    with refused(backend), pytest.raises(DomainRuleError) as err2:
        svc.change_name(
            backend.uow(),
            CLERK,
            ChangeName(head.record_id, "鈴木", "太郎", "スズキ", "タロウ", TODAY, TODAY),
        )
    assert err2.value.rule == "removed_record"


def test_death_before_birth_is_refused(backend: FakeBackend) -> None:
    head = move_in(backend)
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.record_death(backend.uow(), CLERK, RecordDeath(head.record_id, date(1970, 1, 1), TODAY))
    assert err.value.rule == "before_birth_date"


def test_last_member_leaving_dissolves_the_household(backend: FakeBackend) -> None:
    head = move_in(backend)
    svc.record_death(backend.uow(), CLERK, RecordDeath(head.record_id, TODAY, TODAY))
    household, members = svc.household_view(backend.uow(), CLERK, head.household_id)
    assert household.status is HouseholdStatus.DISSOLVED and not members
    assert household.dissolved_on == TODAY


def test_name_change_is_found_by_the_new_reading(backend: FakeBackend) -> None:
    _, wife, _ = family(backend)
    svc.change_name(
        backend.uow(),
        CLERK,
        ChangeName(
            wife.record_id,
            "田中",
            "花子",
            "タナカ",
            "ハナコ",
            TODAY,
            TODAY,
            former_surname="山田",
            former_surname_kana="ヤマダ",
        ),
    )
    hits = svc.search_records(backend.uow(), CLERK, SearchQuery(name_kana="たなか はなこ"))
    assert [h.record_id for h in hits] == [wife.record_id]
    assert hits[0].former_surname == "山田"
    half_width = svc.search_records(backend.uow(), CLERK, SearchQuery(name_kana="ﾀﾅｶ"))
    assert [h.record_id for h in half_width] == [wife.record_id]
    assert history(backend, wife.record_id)[-1].change.reason is ChangeReason.NAME_CHANGE


def test_name_change_to_the_current_name_is_refused(backend: FakeBackend) -> None:
    head = move_in(backend)
    same = ChangeName(head.record_id, "山田", "太郎", "ヤマダ", "タロウ", TODAY, TODAY)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.change_name(backend.uow(), CLERK, same)
    assert err.value.rule == "no_change"
