"""Characters no request may carry, in any string, wherever it is: body, path or query.

NUL cannot be stored by PostgreSQL (`text` refuses it, after SQLite took it without a word);
a lone surrogate cannot be encoded as UTF-8 for either database; a noncharacter (U+FDD0–U+FDEF
and the last two code points of every plane, U+FFFE, U+FFFF …) is reserved for a program's
internal use and has no place in a name or an address. Each is refused at the edge as a 422 that
names the field and the rule (`forbidden_character`), before a transaction starts, so the
database never sees it and the two databases behave alike. Everything else a field may or may
not hold (other controls, variation selectors, kana) is the domain's rule (`juki.core.text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from juki.core.text import is_noncharacter

FORBIDDEN_CHARACTER: Final = "forbidden_character"
MESSAGE_JA: Final = "使用できない文字（NUL、サロゲート、非文字）が含まれています"


def is_forbidden(c: str) -> bool:
    """NUL, a surrogate code point, or one of the 66 Unicode noncharacters."""
    return c == "\x00" or "\ud800" <= c <= "\udfff" or is_noncharacter(c)


def first_forbidden(text: str) -> int | None:
    """The 1-based position of the first forbidden character, or None."""
    for position, c in enumerate(text, start=1):
        if is_forbidden(c):
            return position
    return None


def _refuse(text: str, position: int) -> PydanticCustomError:
    return PydanticCustomError(
        FORBIDDEN_CHARACTER,
        "forbidden character U+{code} at position {position} (NUL, surrogate or noncharacter)",
        {"code": f"{ord(text[position - 1]):04X}", "position": position},
    )


def clean_text(value: str) -> str:
    """A pydantic after-validator for one string."""
    position = first_forbidden(value)
    if position is not None:
        raise _refuse(value, position)
    return value


def clean_value(value: Any) -> Any:
    """The same check through a parsed JSON value: strings, list items, dict keys and values."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            clean_value(key)
            clean_value(item)
    elif isinstance(value, list | tuple):
        for item in value:
            clean_value(item)
    return value


CleanStr = Annotated[str, AfterValidator(clean_text)]
"""A string without NUL, surrogates or noncharacters: for path and query parameters."""
