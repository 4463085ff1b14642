"""The portal's pure rules: which oplog entries are an operator's view, what a correction request
may say, and the card holder's sessions at the relay (no database)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.clock import JST, FixedClock
from juki.core.errors import ValidationError
from juki.portal.rules import (
    CORRECTION_MAX,
    HolderSessions,
    SessionEnded,
    check_correction,
    is_operator_view,
    items_ja,
    role_ja,
)
from juki.security.permissions import NODE_ROLES, Role


def test_only_a_persons_view_of_a_record_counts_as_an_operator_view() -> None:
    assert is_operator_view("counter_clerk", "view_record")
    assert is_operator_view("registry_supervisor", "view_record")
    assert not is_operator_view("counter_clerk", "record_relocation")
    for role in NODE_ROLES:
        assert not is_operator_view(role.value, "view_record"), role
    assert not is_operator_view("not_a_role", "view_record")


def test_every_persons_role_has_a_japanese_name() -> None:
    for role in Role:
        if role not in NODE_ROLES:
            assert role_ja(role.value) != role.value, role
    assert role_ja("unknown") == "unknown"
    assert items_ja("name,address,my_number") == "氏名・住所・個人番号"
    assert items_ja("address,my_number,name,x") == "氏名・住所・個人番号・x"  # as recorded: sorted
    assert items_ja("") == "なし"


def test_a_correction_is_kept_as_written() -> None:
    assert check_correction("  住所の番地が違います\n（正しくは2番地）  ") == (
        "住所の番地が違います\n（正しくは2番地）"
    )


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "required"),
        ("   \n", "required"),
        ("x" * (CORRECTION_MAX + 1), "length"),
        ("誤り\x00", "characters"),
        ("誤り\ud800", "characters"),
        ("\ufdd0", "characters"),
    ],
)
def test_a_bad_correction_names_the_field_and_the_rule(text: str, rule: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_correction(text)
    assert (refused.value.field, refused.value.rule) == ("text", rule)
    assert refused.value.message_ja


@given(st.text(max_size=500))
def test_any_text_is_accepted_within_the_rule_or_refused_with_a_reason(text: str) -> None:
    refused: ValidationError | None = None
    try:
        kept = check_correction(text)
    except ValidationError as exc:
        refused = exc
    if refused is None:
        assert 1 <= len(kept) <= CORRECTION_MAX
    else:
        assert refused.field == "text" and refused.rule in {"required", "length", "characters"}


def test_a_session_names_its_card_until_it_ends_or_expires() -> None:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    sessions = HolderSessions(clock.now, timedelta(minutes=15))
    token, opened = sessions.open("CARD-1", "132250")
    other, _ = sessions.open("CARD-2", "142051")
    assert token != other and len(token) == 43
    assert sessions.holder(token) == opened and opened.card_serial == "CARD-1"
    assert sessions.holder(other).card_serial == "CARD-2"
    with pytest.raises(SessionEnded):
        sessions.holder("x" * 43)
    assert sessions.end(other) and not sessions.end(other)
    with pytest.raises(SessionEnded):
        sessions.holder(other)
    clock.advance(timedelta(minutes=15))
    with pytest.raises(SessionEnded):
        sessions.holder(token)
    assert len(sessions) == 0
