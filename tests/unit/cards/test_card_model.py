"""The card's lifecycle and what a change of identity_info revokes."""

from __future__ import annotations

from datetime import date

import pytest

from juki.cards import model
from juki.cards.model import AbolitionReason, Backend, CardStatus, KeyKind, revocations_for
from juki.core.errors import DomainRuleError

ON = date(2025, 4, 1)


def _issued() -> model.Card:
    card = model.apply("CARD-1", "12345678901", "132250", Backend.SOFT, ON, [])
    return model.issue(card, ON, date(2030, 4, 1), "a1", "s1")


def test_the_lifecycle_apply_issue_suspend_resume_renew_abolish() -> None:
    card = model.apply("CARD-1", "12345678901", "132250", Backend.SOFT, ON, [])
    assert card.status is CardStatus.APPLIED
    issued = model.issue(card, ON, date(2030, 4, 1), "a1", None)
    assert issued.status is CardStatus.ISSUED and issued.signing_cert_serial is None
    suspended = model.suspend(issued)
    with pytest.raises(DomainRuleError) as err:
        model.renew(suspended, date(2031, 1, 1), "a2", None)
    assert err.value.rule == "card_state" and "一時停止中" in err.value.message_ja
    renewed = model.renew(model.resume(suspended), date(2031, 1, 1), "a2", "s2")
    assert (renewed.auth_cert_serial, renewed.signing_cert_serial) == ("a2", "s2")
    gone = model.abolish(renewed, ON, AbolitionReason.RETURNED)
    assert gone.status is CardStatus.ABOLISHED and not gone.live
    with pytest.raises(DomainRuleError):
        model.abolish(gone, ON, AbolitionReason.LOST)


def test_one_live_card_per_resident() -> None:
    with pytest.raises(DomainRuleError) as err:
        model.apply("CARD-2", "12345678901", "132250", Backend.SOFT, ON, [_issued()])
    assert err.value.rule == "card_exists"
    old = model.abolish(_issued(), ON, AbolitionReason.LOST)
    assert model.apply("CARD-2", "12345678901", "132250", Backend.SOFT, ON, [old]).live


def test_continued_use_moves_the_link_within_ninety_days() -> None:
    card = _issued()
    moved = model.continue_use(card, "142051", ON, date(2025, 6, 30))
    assert (moved.lg_code, moved.continued_from) == ("142051", "132250")
    with pytest.raises(DomainRuleError) as err:
        model.continue_use(card, "142051", ON, date(2025, 7, 1))
    assert err.value.rule == "continued_use_late"
    with pytest.raises(DomainRuleError):
        model.continue_use(card, "132250", ON, ON)


@pytest.mark.parametrize(
    ("items", "reason", "revoked"),
    [
        (frozenset({"name"}), "name_change", {KeyKind.SIGNING}),
        (frozenset({"address"}), "relocation", {KeyKind.SIGNING}),
        (frozenset({"birth_date"}), "correction_by_authority", {KeyKind.SIGNING}),
        (frozenset({"sex"}), "correction_by_authority", {KeyKind.SIGNING}),
        (frozenset(), "death", {KeyKind.AUTH, KeyKind.SIGNING}),
        (frozenset({"address"}), "emigration", {KeyKind.AUTH, KeyKind.SIGNING}),
        (frozenset(), "household_change", set()),
        (frozenset({"my_number"}), "my_number_assigned", set()),
    ],
)
def test_what_each_change_revokes(
    items: frozenset[str], reason: str, revoked: set[KeyKind]
) -> None:
    assert revocations_for(items, reason) == revoked
