"""The kiosk's coin box (pure): a short payment is refused, change is what was put in beyond
the charge, a payment given up returns every coin, and only accepted coins go in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.errors import ValidationError
from juki.kiosk.coinbox import DENOMINATIONS, MAX_INSERTED_YEN, Payment, PaymentShort, Till

COINS = st.lists(st.sampled_from(DENOMINATIONS), max_size=12)


@given(fee=st.integers(0, 3000), coins=COINS)
def test_a_payment_is_refused_exactly_when_short_and_change_is_the_rest(
    fee: int, coins: list[int]
) -> None:
    payment = Payment(fee)
    for coin in coins:
        payment.insert(coin)
    paid = sum(coins)
    if paid < fee:
        with pytest.raises(PaymentShort) as refused:
            payment.check_enough()
        assert refused.value.short == fee - paid and "不足" in refused.value.message_ja
        assert payment.refund() == paid and payment.total == 0
    else:
        payment.check_enough()
        assert payment.settle(fee) == paid - fee and payment.total == 0


@given(charged=st.integers(0, 600))
def test_a_spoiled_copy_not_charged_comes_back_as_change(charged: int) -> None:
    payment = Payment(600)
    payment.insert(1000)
    assert payment.settle(charged) == 1000 - charged


@pytest.mark.parametrize("coin", [1, 5, 20, 2000, 0, -100])
def test_only_the_accepted_coins_go_in(coin: int) -> None:
    with pytest.raises(ValidationError) as refused:
        Payment(300).insert(coin)
    assert refused.value.field == "coin" and refused.value.rule == "denomination"


def test_no_more_than_the_limit_goes_in_and_the_till_counts_only_charges() -> None:
    payment = Payment(300)
    for _ in range(MAX_INSERTED_YEN // 1000):
        payment.insert(1000)
    with pytest.raises(ValidationError):
        payment.insert(10)
    with pytest.raises(ValueError, match="cannot charge"):
        payment.settle(payment.total + 1)
    till = Till()
    till.take(0)
    till.take(300)
    assert (till.takings_yen, till.sales) == (300, 1)
