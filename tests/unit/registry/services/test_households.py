"""転居, 世帯分離, 世帯合併 and 世帯主変更 (`juki.registry.services.households`) on the fake."""

from __future__ import annotations

import pytest

from juki.core.errors import DomainRuleError, ValidationError
from juki.registry import services as svc
from juki.registry.commands import (
    ChangeHouseholder,
    MergeHouseholds,
    RecordRelocation,
    SplitHousehold,
)
from juki.registry.model import ChangeReason, HouseholdStatus, Relationship
from support.backends import FakeBackend, outbox_types, refused
from support.residents import CLERK, PREFIX, TODAY, family, get, history


def test_whole_household_relocation_moves_everyone(backend: FakeBackend) -> None:
    head, wife, child = family(backend)
    new = f"{PREFIX}百村5番地"
    before = len(outbox_types(backend))
    out = svc.record_relocation(
        backend.uow(),
        CLERK,
        RecordRelocation((head.record_id, wife.record_id, child.record_id), new, TODAY, TODAY),
    )
    assert {r.address for r in out} == {new}
    assert {r.address_since for r in out} == {TODAY}
    household, _ = svc.household_view(backend.uow(), CLERK, head.household_id)
    assert household.address == new
    assert history(backend, child.record_id)[-1].change.reason is ChangeReason.RELOCATION
    # The address is identity_info and a 附票 item: the CS hears of it for each of them.
    assert outbox_types(backend)[before:].count("identity_info_changed") == 3
    assert outbox_types(backend)[before:].count("fuhyo_notice") == 3


def test_relocation_to_the_current_address_is_refused(backend: FakeBackend) -> None:
    head, _, _ = family(backend)
    cmd = RecordRelocation((head.record_id,), head.address, TODAY, TODAY)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.record_relocation(backend.uow(), CLERK, cmd)
    assert err.value.rule == "same_address"


def test_partial_relocation_starts_a_new_household(backend: FakeBackend) -> None:
    head, wife, child = family(backend)
    new = f"{PREFIX}百村6番地"
    out = svc.record_relocation(
        backend.uow(),
        CLERK,
        RecordRelocation(
            (wife.record_id, child.record_id),
            new,
            TODAY,
            TODAY,
            new_householder_id=wife.record_id,
            relationships={child.record_id: Relationship.CHILD},
        ),
    )
    assert {r.household_id for r in out} != {head.household_id}
    assert len({r.household_id for r in out}) == 1
    assert get(backend, head.record_id).relationship is Relationship.HOUSEHOLDER
    _, members = svc.household_view(backend.uow(), CLERK, head.household_id)
    assert [m.record_id for m in members] == [head.record_id]
    _, moved = svc.household_view(backend.uow(), CLERK, out[0].household_id)
    assert [m.record_id for m in moved] == [wife.record_id, child.record_id]


def test_partial_relocation_needs_a_place_to_go(backend: FakeBackend) -> None:
    _, wife, child = family(backend)
    cmd = RecordRelocation((wife.record_id, child.record_id), f"{PREFIX}百村6番地", TODAY, TODAY)
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.record_relocation(backend.uow(), CLERK, cmd)
    assert (err.value.field, err.value.rule) == ("new_householder_id", "placement_required")


def test_split_merge_and_change_of_householder(backend: FakeBackend) -> None:
    head, wife, child = family(backend)
    split = svc.split_household(
        backend.uow(),
        CLERK,
        SplitHousehold(
            (wife.record_id, child.record_id),
            wife.record_id,
            {child.record_id: Relationship.CHILD},
            TODAY,
            TODAY,
        ),
    )
    new_household = split[0].household_id
    assert new_household != head.household_id
    merged = svc.merge_households(
        backend.uow(),
        CLERK,
        MergeHouseholds(
            new_household,
            head.household_id,
            {wife.record_id: Relationship.WIFE, child.record_id: Relationship.CHILD},
            TODAY,
            TODAY,
        ),
    )
    assert {r.household_id for r in merged} == {head.household_id}
    household, _ = svc.household_view(backend.uow(), CLERK, new_household)
    assert household.status is HouseholdStatus.DISSOLVED
    changed = svc.change_householder(
        backend.uow(),
        CLERK,
        ChangeHouseholder(
            head.household_id,
            wife.record_id,
            {head.record_id: Relationship.HUSBAND, child.record_id: Relationship.CHILD},
            TODAY,
            TODAY,
        ),
    )
    roles = {r.record_id: r.relationship for r in changed}
    assert roles[wife.record_id] is Relationship.HOUSEHOLDER
    assert roles[head.record_id] is Relationship.HUSBAND
    _, members = svc.household_view(backend.uow(), CLERK, head.household_id)
    assert [m.record_id for m in members] == [wife.record_id, head.record_id, child.record_id]


def test_splitting_off_every_member_is_refused(backend: FakeBackend) -> None:
    head, wife, child = family(backend)
    cmd = SplitHousehold(
        (head.record_id, wife.record_id, child.record_id),
        wife.record_id,
        {head.record_id: Relationship.HUSBAND, child.record_id: Relationship.CHILD},
        TODAY,
        TODAY,
    )
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.split_household(backend.uow(), CLERK, cmd)
    assert err.value.rule == "whole_household"


def test_a_household_cannot_merge_into_itself(backend: FakeBackend) -> None:
    head, _, _ = family(backend)
    cmd = MergeHouseholds(head.household_id, head.household_id, {}, TODAY, TODAY)
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.merge_households(backend.uow(), CLERK, cmd)
    assert err.value.rule == "same_household"


def test_change_of_householder_needs_every_relationship(backend: FakeBackend) -> None:
    head, wife, _child = family(backend)
    cmd = ChangeHouseholder(
        head.household_id, wife.record_id, {head.record_id: Relationship.HUSBAND}, TODAY, TODAY
    )
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.change_householder(backend.uow(), CLERK, cmd)
    assert (err.value.field, err.value.rule) == ("relationships", "required")
