"""出生, 死亡 and 氏名変更 (`juki.registry.services.people`) on the fake unit of work."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from juki.core.errors import DomainRuleError, PermissionDeniedError, ValidationError
from juki.core.identifiers import ResidentCode
from juki.registry import services as svc
from juki.registry.alias import AliasAction, AliasEntry
from juki.registry.commands import (
    ChangeName,
    DeleteAlias,
    ForeignItems,
    PersonalItems,
    RecordAlias,
    RecordBirth,
    RecordDeath,
)
from juki.registry.model import (
    ChangeReason,
    ForeignResidentCategory,
    HouseholdStatus,
    RecordStatus,
    Relationship,
)
from juki.registry.ports import SearchQuery
from juki.registry.services.people import delete_alias, record_alias
from juki.security.actors import Actor
from juki.security.permissions import Role
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


def test_birth_when_the_pool_is_used_up_is_refused() -> None:
    """The pool's last code goes to the first child; the second is refused until national
    allots more (a network member never draws codes itself: ADR 0006)."""
    backend = FakeBackend()
    backend.save_municipality(INAGI)
    last = ResidentCode.complete("4711008150").value
    backend.add_pool([last])
    head = move_in(backend)
    first = svc.record_birth(backend.uow(), CLERK, _birth(head.household_id))
    assert first.resident_code == last
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


# -- 旧氏, 通称 and the items of a foreign resident's record -----------------------------------


def _foreign(alias: str | None = "山田　ジョン", **extra: Any) -> PersonalItems:
    return person(
        "SMITH",
        "JOHN",
        "スミス",
        "ジョン",
        date(1985, 3, 2),
        honseki=None,
        koseki_head=None,
        foreign=ForeignItems(
            nationality="アメリカ合衆国",
            category=ForeignResidentCategory.MID_LONG_TERM,
            residence_status="技術・人文知識・国際業務",
            alias_name=alias,
            alias_name_kana="ヤマダ　ジョン" if alias else None,
        ),
        **extra,
    )


def test_birth_date_before_meiji_is_refused_at_entry(backend: FakeBackend) -> None:
    with refused(backend), pytest.raises(ValidationError) as err:
        move_in(backend, person(birth=date(1868, 1, 24)))
    assert (err.value.field, err.value.rule) == ("birth_date", "before_meiji")
    assert move_in(backend, person(birth=date(1868, 1, 25))).birth_date == date(1868, 1, 25)


def test_foreign_resident_with_a_former_surname_is_refused(backend: FakeBackend) -> None:
    with refused(backend), pytest.raises(ValidationError) as err:
        move_in(backend, _foreign(former_surname="金", former_surname_kana="キム"))
    assert (err.value.field, err.value.rule) == ("former_surname", "not_for_foreign_resident")


def test_name_change_cannot_give_a_foreign_resident_a_former_surname(
    backend: FakeBackend,
) -> None:
    smith = move_in(backend, _foreign())
    cmd = ChangeName(
        smith.record_id, "SMITH", "JACK", "スミス", "ジャック", TODAY, TODAY, "金", "キム"
    )
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.change_name(backend.uow(), CLERK, cmd)
    assert (err.value.field, err.value.rule) == ("former_surname", "not_for_foreign_resident")


def test_alias_recorded_with_the_record_starts_its_history(backend: FakeBackend) -> None:
    smith = move_in(backend, _foreign())
    assert smith.alias_history == (
        AliasEntry("山田　ジョン", AliasAction.ENTERED, TODAY, INAGI.address_prefix),
    )
    assert get(backend, smith.record_id).alias_history == smith.alias_history


def test_alias_deleted_and_recorded_again_keeps_every_entry(backend: FakeBackend) -> None:
    """令第30条の26 and 27: a 通称 is recorded and deleted at the resident's request, and the
    record keeps each entry and deletion, with the municipality and the date."""
    smith = move_in(backend, _foreign())
    gone = delete_alias(backend.uow(), CLERK, DeleteAlias(smith.record_id, TODAY, TODAY))
    assert gone.alias_name is None and gone.alias_name_kana is None
    again = record_alias(
        backend.uow(), CLERK, RecordAlias(smith.record_id, "スミス　太郎", None, TODAY, TODAY)
    )
    assert again.alias_name == "スミス　太郎"
    assert [(e.alias_name, e.action) for e in again.alias_history] == [
        ("山田　ジョン", AliasAction.ENTERED),
        ("山田　ジョン", AliasAction.DELETED),
        ("スミス　太郎", AliasAction.ENTERED),
    ]
    reasons = [h.change.reason for h in history(backend, smith.record_id)]
    assert reasons == [ChangeReason.MOVE_IN, ChangeReason.NAME_CHANGE, ChangeReason.NAME_CHANGE]
    assert get(backend, smith.record_id) == again


def test_alias_rules(backend: FakeBackend) -> None:
    smith = move_in(backend, _foreign())
    with refused(backend), pytest.raises(DomainRuleError) as err:
        record_alias(backend.uow(), CLERK, RecordAlias(smith.record_id, "別名", None, TODAY, TODAY))
    assert (err.value.field, err.value.rule) == ("alias_name", "already_recorded")
    japanese = move_in(
        backend, person(given="次郎"), code_body="2484601622", number_body="45497236486"
    )
    with refused(backend), pytest.raises(DomainRuleError) as err:
        record_alias(
            backend.uow(), CLERK, RecordAlias(japanese.record_id, "別名", None, TODAY, TODAY)
        )
    assert (err.value.field, err.value.rule) == ("record_id", "foreign_residents_only")
    with refused(backend), pytest.raises(DomainRuleError) as err:
        delete_alias(backend.uow(), CLERK, DeleteAlias(japanese.record_id, TODAY, TODAY))
    assert err.value.rule == "foreign_residents_only"
    delete_alias(backend.uow(), CLERK, DeleteAlias(smith.record_id, TODAY, TODAY))
    with refused(backend), pytest.raises(DomainRuleError) as err:
        delete_alias(backend.uow(), CLERK, DeleteAlias(smith.record_id, TODAY, TODAY))
    assert (err.value.field, err.value.rule) == ("alias_name", "no_alias")
    with refused(backend), pytest.raises(ValidationError) as verr:
        record_alias(backend.uow(), CLERK, RecordAlias(smith.record_id, "", None, TODAY, TODAY))
    assert verr.value.field == "alias_name"


def test_alias_actions_need_the_name_change_permission(backend: FakeBackend) -> None:
    smith = move_in(backend, _foreign())
    auditor = Actor("audit-1", Role.AUDITOR, "T09")
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        delete_alias(backend.uow(), auditor, DeleteAlias(smith.record_id, TODAY, TODAY))
