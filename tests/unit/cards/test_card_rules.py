"""The PIN rules (hypothesis): 4 digits for the 利用者証明用 PIN, 6–16 of A–Z/0–9 mixing both for
the 署名用 password, 3 and 5 wrong tries to the lock, signing from 15."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.cards.model import KeyKind
from juki.cards.rules import (
    MAX_TRIES,
    CardLocked,
    TryCounter,
    WrongPin,
    check_auth_pin,
    check_signing_password,
    signing_allowed,
)
from juki.core.errors import DomainRuleError, ValidationError
from juki.registry.model import age_on

UPPER_DIGITS = string.ascii_uppercase + string.digits


@given(st.text(alphabet=string.digits, min_size=4, max_size=4))
def test_four_digits_are_an_auth_pin(pin: str) -> None:
    assert check_auth_pin(pin) == pin


@given(st.text(max_size=8))
def test_anything_but_four_ascii_digits_is_refused_naming_the_field(pin: str) -> None:
    if len(pin) == 4 and all(ch in string.digits for ch in pin):
        return
    with pytest.raises(ValidationError) as err:
        check_auth_pin(pin)
    assert (err.value.field, err.value.rule) == ("pin", "auth_pin_format")
    assert "数字4桁" in err.value.message_ja


def test_full_width_digits_are_not_an_auth_pin() -> None:
    with pytest.raises(ValidationError):
        check_auth_pin("１２３４")


@given(
    st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=8),
    st.text(alphabet=string.digits, min_size=1, max_size=8),
    st.randoms(use_true_random=False),
)
def test_letters_and_digits_mixed_6_to_16_are_a_signing_password(
    letters: str, digits: str, rnd: object
) -> None:
    chars = list(letters + digits)
    rnd.shuffle(chars)  # type: ignore[attr-defined]
    password = "".join(chars)
    if 6 <= len(password) <= 16:
        assert check_signing_password(password) == password
    else:
        with pytest.raises(ValidationError) as err:
            check_signing_password(password)
        assert err.value.rule == "signing_password_length"


@given(st.text(max_size=20))
def test_a_signing_password_is_refused_unless_every_rule_holds(password: str) -> None:
    ok = (
        6 <= len(password) <= 16
        and all(ch in UPPER_DIGITS for ch in password)
        and any(ch.isdigit() for ch in password)
        and any(ch.isalpha() for ch in password)
    )
    if ok:
        assert check_signing_password(password) == password
        return
    with pytest.raises(ValidationError) as err:
        check_signing_password(password)
    assert err.value.field == "signing_password"
    assert err.value.rule in {
        "signing_password_length",
        "signing_password_characters",
        "signing_password_mix",
    }
    assert "署名用電子証明書の暗証番号" in err.value.message_ja


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("ABCDEF", "signing_password_mix"),
        ("123456", "signing_password_mix"),
        ("abc123", "signing_password_characters"),
        ("ABC12", "signing_password_length"),
        ("ABCDEFGH123456789", "signing_password_length"),
    ],
)
def test_each_signing_rule_has_its_code(password: str, rule: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_signing_password(password)
    assert err.value.rule == rule


@given(st.sampled_from(list(KeyKind)), st.lists(st.booleans(), max_size=12))
def test_the_counter_locks_after_the_limit_of_wrong_tries_in_a_row(
    kind: KeyKind, tries: list[bool]
) -> None:
    counter = TryCounter.fresh(kind)
    wrong_in_a_row = 0
    for right in tries:
        if wrong_in_a_row >= MAX_TRIES[kind]:
            with pytest.raises(CardLocked):
                counter.after(right)
            continue
        counter = counter.after(right)
        wrong_in_a_row = 0 if right else wrong_in_a_row + 1
        assert counter.left == MAX_TRIES[kind] - wrong_in_a_row
        if right:
            counter.raise_if_wrong(right)
        elif counter.locked:
            with pytest.raises(CardLocked):
                counter.raise_if_wrong(right)
        else:
            with pytest.raises(WrongPin) as err:
                counter.raise_if_wrong(right)
            assert err.value.tries_left == counter.left


def test_the_limits_are_three_and_five() -> None:
    assert (MAX_TRIES[KeyKind.AUTH], MAX_TRIES[KeyKind.SIGNING]) == (3, 5)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)))
def test_signing_only_from_the_fifteenth_birthday(birth: date) -> None:
    on = date(2031, 6, 15)
    if age_on(birth, on) >= 15:
        signing_allowed(birth, on)
    else:
        with pytest.raises(DomainRuleError) as err:
            signing_allowed(birth, on)
        assert err.value.rule == "signing_under_15"


def test_fifteen_on_the_birthday_not_the_day_before() -> None:
    birth = date(2010, 4, 2)
    with pytest.raises(DomainRuleError):
        signing_allowed(birth, date(2025, 4, 1))
    signing_allowed(birth, date(2025, 4, 2))
