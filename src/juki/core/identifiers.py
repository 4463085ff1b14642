"""Check-digit identifiers: 住民票コード, 個人番号 (My Number) and 全国地方公共団体コード.

Each is a frozen value type that can only hold a valid code, so code past the edge never has to
re-check one. Only ASCII digits are accepted: full-width digits (``１２３``) look right on screen
but would silently create a second spelling of the same key in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from juki.core.errors import ValidationError

_ASCII_DIGITS = frozenset("0123456789")


def _require_digits(field: str, label_en: str, label_ja: str, text: str, length: int) -> str:
    """Reject anything but exactly ``length`` ASCII digits; never echo the input (it may be PII)."""
    for position, char in enumerate(text, start=1):
        if char not in _ASCII_DIGITS:
            kind_en = "a non-ASCII digit" if char.isdigit() else "a non-digit character"
            kind_ja = "全角数字など半角以外の数字" if char.isdigit() else "数字以外の文字"
            raise ValidationError(
                field,
                "digits",
                f"{label_en} must be ASCII digits 0-9; found {kind_en} at position {position}",
                f"{label_ja}は半角数字で入力してください（{position}文字目に{kind_ja}があります）",
            )
    if len(text) != length:
        raise ValidationError(
            field,
            "length",
            f"{label_en} must be {length} digits; found {len(text)}",
            f"{label_ja}は{length}桁で入力してください（入力は{len(text)}桁）",
        )
    return text


def _mod11_check(body: str) -> int:
    """The 11 − (Σ Pn×Qn mod 11) rule shared by 個人番号 and 住民票コード.

    Pn is the n-th digit from the right; Qn cycles 2..7 (n ≤ 6 → n+1, n ≥ 7 → n−5). A remainder
    of 0 or 1 would give 11 or 10, which do not fit in one digit, so both become 0.
    """
    total = sum(
        int(digit) * (n + 1 if n <= 6 else n - 5) for n, digit in enumerate(reversed(body), start=1)
    )
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


@dataclass(frozen=True, slots=True, repr=False)
class _CheckedCode:
    """Shared machinery: a fixed number of ASCII digits whose last digit is a check digit."""

    value: str

    FIELD: ClassVar[str]
    LENGTH: ClassVar[int]
    LABEL_EN: ClassVar[str]
    LABEL_JA: ClassVar[str]

    def __post_init__(self) -> None:
        _require_digits(self.FIELD, self.LABEL_EN, self.LABEL_JA, self.value, self.LENGTH)
        expected = self._compute(self.value[:-1])
        found = int(self.value[-1])
        if found != expected:
            raise ValidationError(
                self.FIELD,
                "check_digit",
                f"{self.LABEL_EN} check digit should be {expected}; found {found}",
                f"{self.LABEL_JA}の検査用数字が正しくありません（正しくは{expected}、入力は{found}）",
            )

    @staticmethod
    def _compute(body: str) -> int:
        raise NotImplementedError

    @classmethod
    def _require_body(cls, body: str) -> str:
        return _require_digits(
            cls.FIELD,
            f"{cls.LABEL_EN} without its check digit",
            f"{cls.LABEL_JA}（検査用数字を除く）",
            body,
            cls.LENGTH - 1,
        )

    @classmethod
    def parse(cls, text: str) -> Self:
        """Validate a full code exactly as given (no trimming, no full-width folding)."""
        return cls(text)

    @classmethod
    def complete(cls, body: str) -> Self:
        """Append the check digit to a body; how new codes are minted."""
        body = cls._require_body(body)
        return cls(body + str(cls._compute(body)))

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


@dataclass(frozen=True, slots=True, repr=False)
class ResidentCode(_CheckedCode):
    """住民票コード: 11 digits, the last a mod-11 check digit over the 10-digit body."""

    FIELD: ClassVar[str] = "resident_code"
    LENGTH: ClassVar[int] = 11
    LABEL_EN: ClassVar[str] = "resident code"
    LABEL_JA: ClassVar[str] = "住民票コード"

    @staticmethod
    def _compute(body: str) -> int:
        return _mod11_check(body)

    @staticmethod
    def check_digit(body: str) -> int:
        """Check digit for a 10-digit body (weights 2,3,4,5,6,7,2,3,4,5 from the right)."""
        return _mod11_check(ResidentCode._require_body(body))


@dataclass(frozen=True, slots=True, repr=False)
class MyNumber(_CheckedCode):
    """個人番号: 12 digits, the last a mod-11 check digit over the 11-digit body.

    ``repr`` masks all but the last four digits so that a stray log line or traceback does not
    leak specific personal information (特定個人情報); ``str`` and ``value`` give the full number.
    """

    FIELD: ClassVar[str] = "my_number"
    LENGTH: ClassVar[int] = 12
    LABEL_EN: ClassVar[str] = "My Number"
    LABEL_JA: ClassVar[str] = "個人番号"

    @staticmethod
    def _compute(body: str) -> int:
        return _mod11_check(body)

    @staticmethod
    def check_digit(body: str) -> int:
        """Check digit for an 11-digit body (weights 2..7,2..6 from the right)."""
        return _mod11_check(MyNumber._require_body(body))

    def __repr__(self) -> str:
        return f"MyNumber('********{self.value[-4:]}')"


def _lg_check(body: str) -> int:
    total = sum(int(digit) * weight for digit, weight in zip(body, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


@dataclass(frozen=True, slots=True, repr=False)
class LgCode(_CheckedCode):
    """全国地方公共団体コード: prefecture (2) + municipality (3), i.e. the JIS code, + check digit.

    The check digit is (11 − Σ mod 11) mod 10 with weights 6,5,4,3,2 from the left; the final
    mod 10 folds remainders 0 and 10 together, so it catches fewer typos than the mod-11 codes.
    """

    FIELD: ClassVar[str] = "lg_code"
    LENGTH: ClassVar[int] = 6
    LABEL_EN: ClassVar[str] = "local government code"
    LABEL_JA: ClassVar[str] = "地方公共団体コード"

    @staticmethod
    def _compute(body: str) -> int:
        return _lg_check(body)

    @staticmethod
    def check_digit(body: str) -> int:
        """Check digit for a 5-digit JIS code."""
        return _lg_check(LgCode._require_body(body))

    @property
    def prefecture_code(self) -> str:
        """The two-digit prefecture (都道府県) code, e.g. ``"13"`` for Tokyo."""
        return self.value[:2]

    @property
    def jis_code(self) -> str:
        """The five-digit JIS X 0401/0402 code, i.e. the code without its check digit."""
        return self.value[:5]


class IdentifierKind(StrEnum):
    """The identifier kinds the CLI can check or complete, spelled as on its command line."""

    RESIDENT_CODE = "resident-code"
    MY_NUMBER = "my-number"
    LG_CODE = "lg-code"


Identifier = ResidentCode | MyNumber | LgCode

_TYPES: dict[IdentifierKind, type[ResidentCode] | type[MyNumber] | type[LgCode]] = {
    IdentifierKind.RESIDENT_CODE: ResidentCode,
    IdentifierKind.MY_NUMBER: MyNumber,
    IdentifierKind.LG_CODE: LgCode,
}


def _kind(kind: IdentifierKind | str) -> IdentifierKind:
    try:
        return IdentifierKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in IdentifierKind)
        raise ValidationError(
            "kind",
            "unknown_kind",
            f"unknown identifier kind {kind!r}; expected one of {choices}",
            f"識別子の種類が正しくありません（{choices} のいずれか）",
        ) from None


def parse_identifier(kind: IdentifierKind | str, text: str) -> Identifier:
    """Parse ``text`` as the given kind of identifier."""
    return _TYPES[_kind(kind)].parse(text)


def complete_identifier(kind: IdentifierKind | str, body: str) -> Identifier:
    """Append the check digit to ``body`` for the given kind of identifier."""
    return _TYPES[_kind(kind)].complete(body)
