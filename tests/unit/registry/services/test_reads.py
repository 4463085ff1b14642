"""Reads of the registry (`juki.registry.services.reads`) on the fake: who looked at whom is
part of the operation history, so reads are authorised and logged like changes."""

from __future__ import annotations

from datetime import date

import pytest

from juki.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from juki.registry import services as svc
from juki.registry.model import ChangeReason, Relationship
from juki.registry.ports import SearchQuery
from juki.security.actors import Actor
from juki.security.permissions import Role
from support.backends import FakeBackend, refused
from support.residents import CLERK, family, move_in

AUDITOR = Actor("audit-1", Role.AUDITOR, "T09")


def test_search_needs_a_criterion(backend: FakeBackend) -> None:
    with pytest.raises(ValidationError) as err:
        svc.search_records(backend.uow(), CLERK, SearchQuery())
    assert err.value.rule == "required"


def test_search_by_resident_code_checks_it_first(backend: FakeBackend) -> None:
    head = move_in(backend)
    with pytest.raises(ValidationError) as err:
        svc.search_records(backend.uow(), CLERK, SearchQuery(resident_code="24727059609"))
    assert (err.value.field, err.value.rule) == ("resident_code", "check_digit")
    hits = svc.search_records(backend.uow(), CLERK, SearchQuery(resident_code=head.resident_code))
    assert [h.record_id for h in hits] == [head.record_id]
    (entry,) = backend.rows("oplog")[-1:]
    assert (entry["target"], entry["detail"]) == ("search:resident_code", "1 hits")


def test_reads_are_logged_with_their_target(backend: FakeBackend) -> None:
    head, _, _ = family(backend)
    logged = len(backend.rows("oplog"))
    assert svc.get_record(backend.uow(), CLERK, head.record_id) == head
    history = svc.record_history(backend.uow(), CLERK, head.record_id)
    assert [h.change.reason for h in history] == [ChangeReason.MOVE_IN]
    svc.household_view(backend.uow(), CLERK, head.household_id)
    entries = backend.rows("oplog")[logged:]
    assert [(e["action"], e["target"], e["outcome"]) for e in entries] == [
        ("view_record", f"record:{head.record_id}", "ok"),
        ("view_record", f"record:{head.record_id}", "ok"),
        ("view_record", f"household:{head.household_id}", "ok"),
    ]


def test_reading_an_unknown_record_is_not_found_and_logged(backend: FakeBackend) -> None:
    with refused(backend), pytest.raises(NotFoundError):
        svc.record_history(backend.uow(), CLERK, "no-such-record")


def test_household_view_lists_the_householder_first(backend: FakeBackend) -> None:
    head, wife, child = family(backend)
    household, members = svc.household_view(backend.uow(), CLERK, head.household_id)
    assert household.address == head.address
    assert [(m.record_id, m.relationship) for m in members] == [
        (head.record_id, Relationship.HOUSEHOLDER),
        (wife.record_id, Relationship.WIFE),
        (child.record_id, Relationship.CHILD),
    ]


def test_stats_count_the_residents(backend: FakeBackend) -> None:
    family(backend)
    assert svc.registry_stats(backend.uow(), AUDITOR) == {
        "residents": 3,
        "households": 1,
        "foreign_residents": 0,
        "removed_records": 0,
        "male": 2,
        "female": 1,
        "without_my_number": 1,
    }


def test_an_auditor_reads_statistics_but_no_one(backend: FakeBackend) -> None:
    head = move_in(backend)
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        svc.get_record(backend.uow(), AUDITOR, head.record_id)
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        svc.search_records(backend.uow(), AUDITOR, SearchQuery(birth_date=date(1980, 5, 5)))
