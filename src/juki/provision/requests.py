"""An agency's lookups, as it sends them: one JSON object per line (a batch is JSONL), checked.

    {"resident_code": "12345678901"}                                    by 住民票コード
    {"resident_code": "12345678901", "as_of": "2020-04-01"}             as it was that day
    {"name_kana": "ヤマダ タロウ", "birth_date": "1980-01-01",
     "sex": "male", "name": "山田太郎", "address": "東京都稲城市"}         by the four items
    … by the four items with "as_of": the person they fitted that day
    … any of them with "items": ["name", "address"]                    only these items

A lookup by the four items (基本4情報) needs the reading and the birth date; the name, sex and
address narrow it (the address as a prefix). `items`, when given, must all be allowed by the
task, or the lookup is refused; without it the answer holds every item the task allows. A bad
line is a `RuleViolation` naming the line, the field and the rule, in English and Japanese; the
other lines are answered all the same. Pure: the caller reads the file or the request body.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

from juki.core.errors import RuleViolation, ValidationError
from juki.core.identifiers import ResidentCode
from juki.core.text import is_variation_selector, normalize_kana, validate_kana, validate_name
from juki.provision.model import Item

MAX_LINE_CHARS: Final = 2000
MAX_BATCH: Final = 10_000  # lines in one request; `juki provide` sends a longer file in parts
KEYS: Final = frozenset(
    {"resident_code", "name_kana", "name", "birth_date", "sex", "address", "as_of", "items"}
)
SEXES: Final = ("male", "female")


class Lookup(StrEnum):
    RESIDENT_CODE = "resident_code"  # 住民票コードによる検索
    BASIC_ITEMS = "basic_items"  # 基本4情報による検索


@dataclass(frozen=True, slots=True)
class LookupRequest:
    """One lookup, checked: `line` is its line in the agency's file (1 for a single lookup)."""

    line: int
    lookup: Lookup
    resident_code: str | None = None
    name_kana_key: str | None = None  # normalize_kana of the reading
    name_key: str | None = None  # name_key of the name, when given
    birth_date: date | None = None
    sex: str | None = None
    address_key: str | None = None  # address_key of the address prefix, when given
    as_of: date | None = None
    items: frozenset[Item] | None = None  # None: every item the task allows


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    field: str
    rule: str
    message_en: str
    message_ja: str

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "error": {
                "field": self.field,
                "rule": self.rule,
                "message": self.message_en,
                "msg_ja": self.message_ja,
            },
        }


def name_key(name: str) -> str:
    """A name as compared in a lookup: without variation selectors (葛󠄂 and 葛 are one
    character to a matching rule, though never to a certificate) and without spaces."""
    return "".join(c for c in name if not is_variation_selector(c) and not c.isspace())


def address_key(address: str) -> str:
    """An address as compared in a lookup: NFKC (全角/半角 digits and letters alike), and
    without spaces. Only for comparing: the answer carries the address as stored."""
    return "".join(c for c in unicodedata.normalize("NFKC", address) if not c.isspace())


def _bad(field: str, rule: str, en: str, ja: str) -> ValidationError:
    return ValidationError(field, rule, en, ja)


def _day(obj: dict[str, Any], field: str) -> date | None:
    value = obj.get(field)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(
            field, "date", "must be a date YYYY-MM-DD", "日付は YYYY-MM-DD で指定してください"
        ) from None


def _text(obj: dict[str, Any], field: str, max_len: int) -> str | None:
    value = obj.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(field, "type", "must be a string", "文字列で指定してください")
    return validate_name(field, value, max_len)


def _items(obj: dict[str, Any]) -> frozenset[Item] | None:
    value = obj.get("items")
    if value is None:
        return None
    known = set(Item)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v in known for v in value)
    ):
        raise _bad(
            "items",
            "item",
            f"must be a non-empty list of: {', '.join(Item)}",
            "items は本人確認情報の項目名の一覧で指定してください",
        )
    return frozenset(Item(v) for v in value)


def _by_code(obj: dict[str, Any], line: int) -> LookupRequest:
    code = obj["resident_code"]
    if not isinstance(code, str):
        raise _bad("resident_code", "type", "must be a string", "文字列で指定してください")
    extra = sorted(k for k in ("name_kana", "name", "birth_date", "sex", "address") if k in obj)
    if extra:
        raise _bad(
            extra[0],
            "one_lookup",
            "a lookup is by resident_code or by the four items, not both",
            "住民票コードと基本4情報は同時に指定できません",
        )
    return LookupRequest(
        line,
        Lookup.RESIDENT_CODE,
        resident_code=ResidentCode.parse(code).value,
        as_of=_day(obj, "as_of"),
        items=_items(obj),
    )


def _by_basic_items(obj: dict[str, Any], line: int) -> LookupRequest:
    kana = obj.get("name_kana")
    if not isinstance(kana, str):
        raise _bad(
            "name_kana",
            "required",
            "resident_code, or name_kana and birth_date, is required",
            "住民票コード、又は氏名のフリガナと生年月日を指定してください",
        )
    reading = normalize_kana(validate_kana("name_kana", kana.replace("\u3000", " ")))
    birth_date = _day(obj, "birth_date")
    if birth_date is None:
        raise _bad("birth_date", "required", "birth_date is required", "生年月日を指定してください")
    sex = obj.get("sex")
    if sex is not None and sex not in SEXES:
        raise _bad("sex", "choice", "must be male or female", "性別は male か female です")
    name = _text(obj, "name", 64)
    address = _text(obj, "address", 200)
    return LookupRequest(
        line,
        Lookup.BASIC_ITEMS,
        name_kana_key=reading,
        name_key=None if name is None else name_key(name),
        birth_date=birth_date,
        sex=sex,
        address_key=None if address is None else address_key(address),
        as_of=_day(obj, "as_of"),
        items=_items(obj),
    )


def parse_object(obj: object, line: int) -> LookupRequest:
    """One lookup from its JSON object; a fault is a `RuleViolation` (its field unprefixed)."""
    if not isinstance(obj, dict):
        raise _bad(
            "line", "object", "must be a JSON object", "JSON のオブジェクトで指定してください"
        )
    unknown = sorted(str(k) for k in obj if k not in KEYS)
    if unknown:
        shown = "".join(c for c in unknown[0] if c.isprintable())[:40]
        raise _bad(
            shown or "(key)",
            "unknown_key",
            f"unknown key; known: {', '.join(sorted(KEYS))}",
            "指定できない項目です",
        )
    if "resident_code" in obj:
        return _by_code(obj, line)
    return _by_basic_items(obj, line)


def parse_line(text: str, line: int) -> LookupRequest:
    if len(text) > MAX_LINE_CHARS:
        raise _bad(
            "line",
            "length",
            f"a line is at most {MAX_LINE_CHARS} characters",
            f"1行は{MAX_LINE_CHARS}文字以内です",
        )
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise _bad("line", "json", f"not JSON: {str(exc)[:80]}", "JSON として読めません") from None
    return parse_object(obj, line)


def parse_lines(
    lines: Iterable[str], first_line: int = 1
) -> tuple[list[LookupRequest], list[BadLine]]:
    """Every line checked: the good ones as lookups, each bad one as its fault (blank lines
    are skipped, but counted, so line numbers stay the file's)."""
    good: list[LookupRequest] = []
    bad: list[BadLine] = []
    for n, text in enumerate(lines, start=first_line):
        if not text.strip():
            continue
        try:
            good.append(parse_line(text, n))
        except RuleViolation as exc:
            bad.append(BadLine(n, exc.field, exc.rule, exc.message_en, exc.message_ja))
    return good, bad
