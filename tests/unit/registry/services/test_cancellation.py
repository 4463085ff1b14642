"""転出取消 and 異動取消 (`juki.registry.services.cancellation`) on the fake unit of work."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from juki.core.errors import DomainRuleError, PermissionDeniedError, ValidationError
from juki.registry import services as svc
from juki.registry.commands import (
    CancelChanges,
    ConfirmMoveOut,
    RecordMoveOut,
    RecordRelocation,
    WithdrawMoveOut,
)
from juki.registry.model import (
    ChangeReason,
    HouseholdStatus,
    RecordStatus,
    Relationship,
)
from support.backends import FakeBackend, oplog_outcomes, outbox_payloads, refused
from support.residents import (
    CLERK,
    CS,
    FUJISAWA,
    PREFIX,
    SUPERVISOR,
    TODAY,
    family,
    get,
    history,
    move_in,
)

DESTINATION = "神奈川県藤沢市鵠沼石上1丁目1番1号"
PLANNED = date(2025, 4, 10)


def _move_out(backend: FakeBackend, *record_ids: str, **kwargs: object) -> None:
    svc.record_move_out(
        backend.uow(),
        CLERK,
        RecordMoveOut(tuple(record_ids), DESTINATION, PLANNED, TODAY, **kwargs),  # type: ignore[arg-type]
    )


def test_withdrawal_before_the_planned_date_makes_the_household_whole_again(
    backend: FakeBackend,
) -> None:
    head, wife, child = family(backend)
    ids = (head.record_id, wife.record_id, child.record_id)
    _move_out(backend, *ids)
    assert backend.db.rows("households")[0]["status"] == HouseholdStatus.DISSOLVED.value
    backend.clock.advance(timedelta(days=3))
    back = svc.withdraw_move_out(
        backend.uow(), CLERK, WithdrawMoveOut(ids, "転勤が取りやめになったため", TODAY)
    )
    assert [r.status for r in back] == [RecordStatus.ACTIVE] * 3
    for before in (head, wife, child):
        now = get(backend, before.record_id)
        assert now == before  # every item as it was before the 転出届
        reasons = [h.change.reason for h in history(backend, before.record_id)]
        assert reasons[-2:] == [ChangeReason.MOVE_OUT_PLANNED, ChangeReason.MOVE_OUT_WITHDRAWN]
    last = history(backend, head.record_id)[-1]
    assert last.change.note == "転勤が取りやめになったため"
    assert last.change.effective_on == date(2025, 4, 4)
    assert backend.db.rows("households")[0]["status"] == HouseholdStatus.ACTIVE.value
    statuses = [p["identity"]["status"] for p in outbox_payloads(backend, "identity_info_changed")]
    assert statuses[-3:] == ["active"] * 3  # every level learns they stay
    assert oplog_outcomes(backend)[-1] == "ok"


def test_withdrawal_puts_back_the_householder_the_move_out_replaced(
    backend: FakeBackend,
) -> None:
    head, wife, child = family(backend)
    _move_out(
        backend,
        head.record_id,
        new_householder_id=wife.record_id,
        relationships={child.record_id: Relationship.CHILD},
    )
    assert get(backend, wife.record_id).relationship is Relationship.HOUSEHOLDER
    svc.withdraw_move_out(
        backend.uow(), CLERK, WithdrawMoveOut((head.record_id,), "引越し中止", TODAY)
    )
    assert get(backend, head.record_id).relationship is Relationship.HOUSEHOLDER
    assert get(backend, wife.record_id).relationship is Relationship.WIFE
    assert history(backend, wife.record_id)[-1].change.reason is ChangeReason.MOVE_OUT_WITHDRAWN


def test_withdrawal_on_the_planned_date_is_refused(backend: FakeBackend) -> None:
    """From the planned date the record is a 除票: only a 異動取消 by authority undoes it."""
    head = move_in(backend)
    _move_out(backend, head.record_id)
    backend.clock.advance(PLANNED - TODAY)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.withdraw_move_out(
            backend.uow(), CLERK, WithdrawMoveOut((head.record_id,), "中止", PLANNED)
        )
    assert (err.value.field, err.value.rule) == ("record_ids", "no_pending_move_out")
    assert "異動取消" in err.value.message_ja


def test_withdrawal_after_the_confirmation_is_refused(backend: FakeBackend) -> None:
    head = move_in(backend)
    _move_out(backend, head.record_id)
    svc.confirm_move_out(
        backend.uow(), CS, ConfirmMoveOut(head.resident_code, DESTINATION, TODAY, TODAY)
    )
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.withdraw_move_out(
            backend.uow(), CLERK, WithdrawMoveOut((head.record_id,), "中止", TODAY)
        )
    assert err.value.rule == "move_out_confirmed"


def test_withdrawal_needs_a_reason_and_a_move_out(backend: FakeBackend) -> None:
    head = move_in(backend)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.withdraw_move_out(
            backend.uow(), CLERK, WithdrawMoveOut((head.record_id,), "中止", TODAY)
        )
    assert err.value.rule == "no_pending_move_out"
    _move_out(backend, head.record_id)
    with refused(backend), pytest.raises(ValidationError) as verr:
        svc.withdraw_move_out(backend.uow(), CLERK, WithdrawMoveOut((head.record_id,), "  ", TODAY))
    assert (verr.value.field, verr.value.rule) == ("reason", "required")


def test_cancellation_by_authority_restores_the_state_before_the_change(
    backend: FakeBackend,
) -> None:
    head, wife, child = family(backend)
    ids = (head.record_id, wife.record_id, child.record_id)
    svc.record_relocation(
        backend.uow(),
        CLERK,
        RecordRelocation(ids, f"{PREFIX}平尾3丁目1番1号", TODAY, TODAY),
    )
    done = svc.cancel_changes(backend.uow(), SUPERVISOR, CancelChanges(ids, "住所の誤記載"))
    assert [r.address for r in done] == [head.address] * 3
    for before in (head, wife, child):
        assert get(backend, before.record_id) == before
        reasons = [h.change.reason for h in history(backend, before.record_id)]
        assert reasons[-2:] == [ChangeReason.RELOCATION, ChangeReason.CHANGE_CANCELLED]
    note = history(backend, head.record_id)[-1].change.note
    assert note.startswith("住所の誤記載") and "転居" in note
    # the cancellation is itself a change: cancelling it puts the relocation back
    again = svc.cancel_changes(backend.uow(), SUPERVISOR, CancelChanges(ids, "取消の誤り"))
    assert {r.address for r in again} == {f"{PREFIX}平尾3丁目1番1号"}


def test_cancellation_of_a_move_out_after_its_date(backend: FakeBackend) -> None:
    head = move_in(backend)
    _move_out(backend, head.record_id)
    backend.clock.advance(timedelta(days=20))
    (back,) = svc.cancel_changes(
        backend.uow(), SUPERVISOR, CancelChanges((head.record_id,), "転出の事実なし")
    )
    assert back.is_active and back.move_out_planned_on is None and back.removed_on is None


def test_cancellation_is_for_supervisors(backend: FakeBackend) -> None:
    head = move_in(backend)
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        svc.cancel_changes(backend.uow(), CLERK, CancelChanges((head.record_id,), "誤り"))


def test_the_change_that_created_a_record_cannot_be_cancelled(backend: FakeBackend) -> None:
    head = move_in(backend)
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.cancel_changes(backend.uow(), SUPERVISOR, CancelChanges((head.record_id,), "誤り"))
    assert (err.value.field, err.value.rule) == ("record_ids", "first_change")


def test_cancelling_part_of_a_household_change_is_refused(backend: FakeBackend) -> None:
    """Records changed together are undone together: the household rules say so."""
    head, wife, child = family(backend)
    _move_out(
        backend,
        head.record_id,
        new_householder_id=wife.record_id,
        relationships={child.record_id: Relationship.CHILD},
    )
    with refused(backend), pytest.raises(DomainRuleError):
        svc.cancel_changes(
            backend.uow(), SUPERVISOR, CancelChanges((head.record_id,), "転出の事実なし")
        )
    both = (head.record_id, wife.record_id)  # the child's relationship did not change
    svc.cancel_changes(backend.uow(), SUPERVISOR, CancelChanges(both, "転出の事実なし"))
    assert get(backend, head.record_id).relationship is Relationship.HOUSEHOLDER


def test_a_cancelled_move_out_cannot_revive_a_resident_code_in_use(backend: FakeBackend) -> None:
    head = move_in(backend)
    _move_out(backend, head.record_id)
    backend.clock.advance(timedelta(days=30))
    move_in(backend, address=f"{PREFIX}平尾1丁目1番1号")
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.cancel_changes(backend.uow(), SUPERVISOR, CancelChanges((head.record_id,), "誤り"))
    assert err.value.rule == "already_resident"


# -- a card-based move-out undone tells its destination (move_out_withdrawn) -------------------


def test_withdrawing_a_card_move_out_tells_the_destination_and_a_paper_one_nobody(
    backend: FakeBackend,
) -> None:
    _head, wife, child = family(backend)
    backend.give_card(wife.resident_code)
    _move_out(backend, wife.record_id, destination_lg_code=FUJISAWA, card=True)
    _move_out(backend, child.record_id)  # on paper, the same day
    assert get(backend, wife.record_id).card_move_out_lg_code == FUJISAWA
    assert get(backend, child.record_id).card_move_out_lg_code is None
    ids = (wife.record_id, child.record_id)
    svc.withdraw_move_out(backend.uow(), CLERK, WithdrawMoveOut(ids, "転勤の取りやめ", TODAY))
    assert outbox_payloads(backend, "move_out_withdrawn") == [
        {
            "resident_code": wife.resident_code,
            "planned_on": PLANNED.isoformat(),
            "withdrawn_on": TODAY.isoformat(),
            "reason": "move_out_withdrawn",
            "from_lg_code": "132250",
            "to_lg_code": FUJISAWA,
        }
    ]
    assert get(backend, wife.record_id).card_move_out_lg_code is None  # restored with the rest


def test_cancelling_a_card_move_out_by_authority_tells_the_destination(
    backend: FakeBackend,
) -> None:
    head = move_in(backend)
    backend.give_card(head.resident_code)
    _move_out(backend, head.record_id, destination_lg_code=FUJISAWA, card=True)
    svc.cancel_changes(backend.uow(), SUPERVISOR, CancelChanges((head.record_id,), "誤り"))
    (told,) = outbox_payloads(backend, "move_out_withdrawn")
    assert (told["reason"], told["to_lg_code"]) == ("change_cancelled", FUJISAWA)
    # cancelling the cancellation files the move-out again, not another withdrawal
    svc.cancel_changes(backend.uow(), SUPERVISOR, CancelChanges((head.record_id,), "取消の誤り"))
    assert len(outbox_payloads(backend, "move_out_withdrawn")) == 1
    assert get(backend, head.record_id).card_move_out_lg_code == FUJISAWA


def test_a_card_move_out_the_destination_confirmed_is_not_withdrawn_there(
    backend: FakeBackend,
) -> None:
    head = move_in(backend)
    backend.give_card(head.resident_code)
    _move_out(backend, head.record_id, destination_lg_code=FUJISAWA, card=True)
    svc.confirm_move_out(
        backend.uow(), CS, ConfirmMoveOut(head.resident_code, DESTINATION, TODAY, TODAY)
    )
    backend.clock.advance(timedelta(days=20))
    svc.cancel_changes(backend.uow(), SUPERVISOR, CancelChanges((head.record_id,), "誤り"))
    assert outbox_payloads(backend, "move_out_withdrawn") == []
