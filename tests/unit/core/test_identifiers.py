"""Identifiers: worked examples, error rules and the exact strength of each check digit."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.errors import JukiError, RuleViolation, ValidationError
from juki.core.identifiers import (
    IdentifierKind,
    LgCode,
    MyNumber,
    ResidentCode,
    complete_identifier,
    parse_identifier,
)

CheckedType = type[MyNumber] | type[ResidentCode] | type[LgCode]


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def mod11_sum(body: str) -> int:
    """Σ Pn×Qn straight from the statutory wording: Pn is the n-th digit from the right."""
    total = 0
    for n in range(1, len(body) + 1):
        p = int(body[-n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    return total


def lg_sum(body: str) -> int:
    return sum(int(d) * w for d, w in zip(body, (6, 5, 4, 3, 2), strict=True))


def rule_of(cls: CheckedType, text: str) -> str:
    with pytest.raises(ValidationError) as info:
        cls.parse(text)
    return info.value.rule


# --- worked examples ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["123456789018", "454972364860"])
def test_my_number_examples(text: str) -> None:
    number = MyNumber.parse(text)
    assert number.value == text
    assert str(number) == text
    assert MyNumber.check_digit(text[:-1]) == int(text[-1])
    assert MyNumber.complete(text[:-1]) == number


@pytest.mark.parametrize("text", ["24727059608", "24846016224", "25208017643"])
def test_resident_code_examples(text: str) -> None:
    code = ResidentCode.parse(text)
    assert str(code) == text
    assert ResidentCode.check_digit(text[:-1]) == int(text[-1])
    assert ResidentCode.complete(text[:-1]) == code


@pytest.mark.parametrize(
    ("text", "municipality"),
    [
        ("132250", "稲城市"),
        ("352063", "防府市"),
        ("142051", "藤沢市"),
        ("132292", "西東京市"),
        ("202011", "長野市"),
    ],
)
def test_lg_code_examples(text: str, municipality: str) -> None:
    code = LgCode.parse(text)
    assert str(code) == text, municipality
    assert code.prefecture_code == text[:2]
    assert code.jis_code == text[:5]
    assert LgCode.check_digit(text[:5]) == int(text[5])
    assert LgCode.complete(text[:5]) == code


def test_lg_code_remainder_fold() -> None:
    # remainder 0 → 1, remainder 1 → 0, remainder 10 → 1
    assert lg_sum("00000") % 11 == 0
    assert LgCode.check_digit("00000") == 1
    assert lg_sum("00006") % 11 == 1
    assert LgCode.check_digit("00006") == 0
    assert lg_sum("00005") % 11 == 10
    assert LgCode.check_digit("00005") == 1


def test_mod11_remainders_zero_and_one_give_zero() -> None:
    assert mod11_sum("00000000000") % 11 == 0
    assert MyNumber.check_digit("00000000000") == 0
    assert mod11_sum("00000000006") % 11 == 1
    assert MyNumber.check_digit("00000000006") == 0
    assert ResidentCode.check_digit("0000000006") == 0


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "field", "good"),
    [
        (MyNumber, "my_number", "123456789018"),
        (ResidentCode, "resident_code", "24727059608"),
        (LgCode, "lg_code", "132250"),
    ],
)
def test_error_rules(cls: CheckedType, field: str, good: str) -> None:
    assert rule_of(cls, good[:-1]) == "length"
    assert rule_of(cls, good + "0") == "length"
    assert rule_of(cls, "") == "length"
    assert rule_of(cls, "１２３") == "digits"
    full_width = good.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert rule_of(cls, full_width) == "digits"
    assert rule_of(cls, good[:-1] + "x") == "digits"
    assert rule_of(cls, " " + good[1:]) == "digits"
    wrong = str((int(good[-1]) + 1) % 10)
    assert rule_of(cls, good[:-1] + wrong) == "check_digit"
    with pytest.raises(ValidationError) as info:
        cls.parse(good[:-1] + wrong)
    assert info.value.field == field
    assert f"should be {good[-1]}; found {wrong}" in info.value.message_en
    assert str(info.value).startswith(f"{field}: ")
    assert str(info.value).endswith("[check_digit]")
    assert info.value.message_ja


@pytest.mark.parametrize("cls", [MyNumber, ResidentCode, LgCode])
def test_complete_and_check_digit_validate_body(cls: CheckedType) -> None:
    body_len = cls.LENGTH - 1
    for bad, rule in [("1" * cls.LENGTH, "length"), ("１" * body_len, "digits")]:
        with pytest.raises(ValidationError) as info:
            cls.complete(bad)
        assert (info.value.field, info.value.rule) == (cls.FIELD, rule)
        with pytest.raises(ValidationError) as info:
            cls.check_digit(bad)
        assert info.value.rule == rule


def test_errors_do_not_echo_the_number() -> None:
    for text in ["123456789019", "12345678901", "12345678901８"]:
        with pytest.raises(ValidationError) as info:
            MyNumber.parse(text)
        assert "12345678901" not in str(info.value)
        assert "12345678901" not in info.value.message_ja


def test_error_hierarchy_and_pickling() -> None:
    with pytest.raises(ValidationError) as info:
        MyNumber.parse("1")
    assert isinstance(info.value, RuleViolation)
    assert isinstance(info.value, JukiError)
    copy = pickle.loads(pickle.dumps(info.value))  # noqa: S301 - our own object
    assert (copy.field, copy.rule, str(copy)) == (info.value.field, "length", str(info.value))


def test_value_semantics() -> None:
    number = MyNumber.parse("123456789018")
    assert repr(number) == "MyNumber('********9018')"
    assert repr(ResidentCode.parse("24727059608")) == "ResidentCode('24727059608')"
    assert number == MyNumber("123456789018")
    assert hash(number) == hash(MyNumber("123456789018"))
    plain: object = "123456789018"
    assert number != plain
    assert {LgCode.parse("132250"), LgCode.parse("132250")} == {LgCode("132250")}
    with pytest.raises(AttributeError):
        number.value = "454972364860"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        MyNumber("123456789019")  # the constructor validates too


def test_cli_helpers() -> None:
    assert parse_identifier(IdentifierKind.MY_NUMBER, "123456789018") == MyNumber("123456789018")
    assert parse_identifier("resident-code", "24727059608") == ResidentCode("24727059608")
    assert parse_identifier("lg-code", "132250") == LgCode("132250")
    assert complete_identifier("lg-code", "13225") == LgCode("132250")
    assert complete_identifier(IdentifierKind.RESIDENT_CODE, "2472705960").value == "24727059608"
    assert str(complete_identifier("my-number", "45497236486")) == "454972364860"
    assert [k.value for k in IdentifierKind] == ["resident-code", "my-number", "lg-code"]
    with pytest.raises(ValidationError) as info:
        parse_identifier("passport", "123")
    assert (info.value.field, info.value.rule) == ("kind", "unknown_kind")


# --- properties -------------------------------------------------------------------------------


@given(digits(11))
def test_my_number_every_body_completes(body: str) -> None:
    number = MyNumber.complete(body)
    assert number.value[:-1] == body
    assert MyNumber.parse(number.value) == number
    remainder = mod11_sum(body) % 11
    assert MyNumber.check_digit(body) == (0 if remainder <= 1 else 11 - remainder)


@given(digits(10))
def test_resident_code_every_body_completes(body: str) -> None:
    code = ResidentCode.complete(body)
    assert code.value[:-1] == body
    assert ResidentCode.parse(code.value) == code
    remainder = mod11_sum(body) % 11
    assert ResidentCode.check_digit(body) == (0 if remainder <= 1 else 11 - remainder)


@given(digits(5))
def test_lg_code_every_body_completes(body: str) -> None:
    code = LgCode.complete(body)
    assert code.value[:-1] == body
    assert LgCode.parse(code.value) == code
    assert LgCode.check_digit(body) == (11 - lg_sum(body) % 11) % 10


def single_digit_changes(code: str) -> list[tuple[int, str]]:
    return [(i, code[:i] + d + code[i + 1 :]) for i in range(len(code)) for d in "0123456789"
            if d != code[i]]  # fmt: skip


def outcome(cls: CheckedType, text: str) -> str | None:
    """The rule that rejects ``text``, or None when it parses."""
    try:
        cls.parse(text)
    except ValidationError as exc:
        return exc.rule
    return None


def accepted(cls: CheckedType, text: str) -> bool:
    rule = outcome(cls, text)
    assert rule in (None, "check_digit")
    return rule is None


# Why single-digit errors are *not* always caught: every weight is non-zero mod 11, so changing one
# body digit always changes the remainder, but the check digit maps two remainders to the same
# digit ({0, 1} → 0 for the mod-11 codes; {0, 10} → 1 for LgCode because of the final mod 10).
# A change is missed exactly when it moves the remainder between those two values.


@pytest.mark.parametrize(("cls", "n"), [(MyNumber, 11), (ResidentCode, 10)])
@given(data=st.data())
def test_mod11_single_digit_changes(cls: CheckedType, n: int, data: st.DataObject) -> None:
    body = data.draw(digits(n))
    code = cls.complete(body).value
    before = mod11_sum(body) % 11
    for i, changed in single_digit_changes(code):
        if i == n:  # the check digit itself: always caught
            assert not accepted(cls, changed)
        else:
            after = mod11_sum(changed[:-1]) % 11
            assert after != before
            assert accepted(cls, changed) == ({before, after} == {0, 1})


@given(digits(5))
def test_lg_code_single_digit_changes(body: str) -> None:
    code = LgCode.complete(body).value
    before = lg_sum(body) % 11
    for i, changed in single_digit_changes(code):
        if i == 5:
            assert not accepted(LgCode, changed)
        else:
            after = lg_sum(changed[:-1]) % 11
            assert accepted(LgCode, changed) == ({before, after} == {0, 10})


def test_undetected_single_digit_changes_exist() -> None:
    # Concrete instances of the blind spots described above.
    pairs: list[tuple[CheckedType, str, str]] = [
        (MyNumber, "000000000000", "000000000060"),  # remainder 0 → 1 (6 × weight 2 = 12)
        (ResidentCode, "00000000000", "00000000060"),
        (LgCode, "000001", "000051"),  # remainder 0 → 10 (5 × weight 2 = 10)
    ]
    for cls, original, typo in pairs:
        assert accepted(cls, original)
        assert accepted(cls, typo)


@pytest.mark.parametrize("cls", [MyNumber, ResidentCode, LgCode])
@given(text=st.text(max_size=14))
def test_parse_accepts_only_ascii_digits(cls: CheckedType, text: str) -> None:
    if any(c not in "0123456789" for c in text):
        expected: str | None = "digits"
    elif len(text) != cls.LENGTH:
        expected = "length"
    elif cls.check_digit(text[:-1]) != int(text[-1]):
        expected = "check_digit"
    else:
        expected = None
    assert outcome(cls, text) == expected
    if expected is None:
        assert cls.parse(text).value == text
    else:
        with pytest.raises(ValidationError) as info:
            cls.parse(text)
        assert info.value.field == cls.FIELD
