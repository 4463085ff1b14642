"""The characters no request may carry (juki.web.text), in every string of a body or parameter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError, field_validator

from juki.web.text import CleanStr, clean_value, first_forbidden, is_forbidden

FORBIDDEN = ["\x00", "\ud800", "\udfff", "\ufdd0", "\ufdef", "\ufffe", "\uffff", "\U0001fffe"]
ALLOWED = ["\x01", "\ufdcf", "\ufdf0", "\ufffd", "\U000e0102", "\U0010fffd", "山"]


@pytest.mark.parametrize("c", FORBIDDEN)
def test_forbidden_characters(c: str) -> None:
    assert is_forbidden(c)
    assert first_forbidden(f"ab{c}") == 3


@pytest.mark.parametrize("c", ALLOWED)
def test_allowed_characters(c: str) -> None:
    assert not is_forbidden(c)
    assert first_forbidden(f"ab{c}") is None


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00")))
def test_clean_text_of_storable_text(text: str) -> None:
    """Anything UTF-8 can carry, without NUL and noncharacters, passes unchanged."""
    if not any(is_forbidden(c) for c in text):
        assert clean_value(text) == text


class Inner(BaseModel):
    name: CleanStr


class Body(BaseModel):
    inner: Inner
    items: list[Any] = []
    table: dict[str, Any] = {}

    @field_validator("items", "table", mode="after")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        return clean_value(value)


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"inner": {"name": "山\x00田"}}, ("inner", "name")),
        ({"inner": {"name": "x"}, "items": [1, ["\ufffe"]]}, ("items",)),
        ({"inner": {"name": "x"}, "table": {"\ud800": 1}}, ("table",)),
        ({"inner": {"name": "x"}, "table": {"k": {"k2": "\uffff"}}}, ("table",)),
    ],
)
def test_refused_where_it_is(data: dict[str, Any], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        Body.model_validate(data)
    (error,) = info.value.errors()
    assert error["type"] == "forbidden_character"
    assert error["loc"] == loc
