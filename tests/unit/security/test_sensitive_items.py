"""Per-role visibility of the sensitive items (個人番号, 住民票コード, 本籍, 在留資格), and the
oplog's mark on every showing of a 個人番号 (issue 11, point 2)."""

from __future__ import annotations

import dataclasses

import pytest

from juki.registry import services as svc
from juki.registry.api.responses import RecordedChangeOut, ResidentRecordOut, ResidentSummaryOut
from juki.security.permissions import SENSITIVE_ITEMS, Permission, Role, hidden_items
from support.backends import FakeBackend
from support.cert_population import plain_record
from support.residents import CLERK, SUPERVISOR, history, move_in, seed

EVERY_ITEM = frozenset(i for items in SENSITIVE_ITEMS.values() for i in items)
# Those who answer for security, the machines, the operators and the upper levels: no item.
OVERSIGHT = set(Role) - {Role.COUNTER_CLERK, Role.REGISTRY_SUPERVISOR, Role.SYSTEM}


def test_the_counter_sees_code_honseki_and_status_but_no_my_number() -> None:
    assert hidden_items(Role.COUNTER_CLERK) == {"my_number"}


def test_the_supervisor_and_the_node_itself_see_every_item() -> None:
    assert hidden_items(Role.REGISTRY_SUPERVISOR) == frozenset()
    assert hidden_items(Role.SYSTEM) == frozenset()


@pytest.mark.parametrize("role", sorted(OVERSIGHT))
def test_oversight_and_operations_roles_see_none(role: Role) -> None:
    assert hidden_items(role) == EVERY_ITEM


def test_each_item_belongs_to_one_permission_and_every_record_field_exists() -> None:
    fields = {f.name for f in dataclasses.fields(plain_record("山田", "太郎"))}
    assert fields >= EVERY_ITEM
    assert sum(len(i) for i in SENSITIVE_ITEMS.values()) == len(EVERY_ITEM)
    assert set(SENSITIVE_ITEMS) == {
        Permission.VIEW_MY_NUMBER,
        Permission.VIEW_RESIDENT_CODE,
        Permission.VIEW_HONSEKI,
        Permission.VIEW_RESIDENCE_STATUS,
    }


def test_a_record_view_hides_what_the_role_may_not_see() -> None:
    record = dataclasses.replace(
        plain_record("山田", "太郎"),
        my_number="123456789018",
        honseki="東京都稲城市東長沼2111番地",
        koseki_head="山田　太郎",
    )
    clerk = ResidentRecordOut.of(record, Role.COUNTER_CLERK, my_number_logged=True)
    assert (clerk.my_number, clerk.resident_code, clerk.honseki) == (
        None,
        "24727059608",
        "東京都稲城市東長沼2111番地",
    )
    supervisor = ResidentRecordOut.of(record, Role.REGISTRY_SUPERVISOR, my_number_logged=True)
    assert supervisor.my_number == "123456789018"
    # A response whose oplog entry does not mark the showing (a change's answer) never shows it.
    assert ResidentRecordOut.of(record, Role.REGISTRY_SUPERVISOR).my_number is None
    assert ResidentSummaryOut.of(record, Role.AUDITOR).resident_code is None


def test_history_drops_hidden_items_and_the_oplog_marks_a_shown_my_number() -> None:
    backend = seed(FakeBackend())
    record = move_in(backend)
    (change,) = history(backend, record.record_id)
    assert "my_number" in change.change.fields
    assert "my_number" not in RecordedChangeOut.of(change, Role.COUNTER_CLERK).fields
    assert "honseki" in RecordedChangeOut.of(change, Role.COUNTER_CLERK).fields
    shown = RecordedChangeOut.of(change, Role.REGISTRY_SUPERVISOR, my_number_logged=True)
    assert shown.fields["my_number"] == record.my_number

    svc.get_record(backend.uow(), CLERK, record.record_id)
    svc.get_record(backend.uow(), SUPERVISOR, record.record_id)
    svc.record_history(backend.uow(), SUPERVISOR, record.record_id)
    views = [
        (r["actor_id"], r["my_number_shown"])
        for r in sorted(backend.rows("oplog"), key=lambda r: r["seq"])
        if r["action"] == "view_record"
    ]
    assert views[-3:] == [("clerk-1", False), ("super-1", True), ("super-1", True)]
