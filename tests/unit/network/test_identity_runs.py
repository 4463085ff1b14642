"""A run of identity_info changes as messages of many: one municipality's, in order, each message
within what a batch carries, and refused whole when any change is malformed or of another
municipality."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from juki.network.envelope import canonical_json
from juki.network.identity_runs import (
    IDENTITY_INFO_CHANGES,
    MAX_CHANGES,
    RUN_BYTES,
    IdentityInfoChanges,
    pack,
    up_messages,
)
from juki.network.messages import (
    IdentityInfoBody,
    IdentityInfoChanged,
    SchemaError,
    body_of,
    parse_body,
)
from support.identities import identity_info

INAGI, FUCHU = "132250", "132063"


def person(
    i: int, lg_code: str = INAGI, address: str = "東京都稲城市東長沼1番地"
) -> IdentityInfoBody:
    return identity_info(i, lg_code=lg_code, address=address)


def body(lg_code: str, changes: list[IdentityInfoBody]) -> dict[str, Any]:
    return {"lg_code": lg_code, "changes": [body_of(c) for c in changes]}


def test_a_message_of_changes_parses_and_keeps_their_order() -> None:
    people = [person(i) for i in range(3)]
    parsed = parse_body(IDENTITY_INFO_CHANGES, 1, body(INAGI, people))
    assert isinstance(parsed, IdentityInfoChanges)
    assert [c.resident_code for c in parsed.changes] == [p.resident_code for p in people]


def test_every_change_must_be_of_the_messages_municipality() -> None:
    with pytest.raises(SchemaError, match=r"changes\[1\]\.lg_code 132063 is not 132250"):
        parse_body(IDENTITY_INFO_CHANGES, 1, body(INAGI, [person(0), person(1, FUCHU)]))


def test_an_empty_or_oversized_message_is_refused() -> None:
    with pytest.raises(SchemaError, match="changes"):
        parse_body(IDENTITY_INFO_CHANGES, 1, body(INAGI, []))
    one = body_of(person(0))
    with pytest.raises(SchemaError, match="changes"):
        parse_body(
            IDENTITY_INFO_CHANGES, 1, {"lg_code": INAGI, "changes": [one] * (MAX_CHANGES + 1)}
        )


def test_one_malformed_change_refuses_the_whole_message() -> None:
    bad = body(INAGI, [person(0), person(1)])
    bad["changes"][1]["resident_code"] = "1234567890X"  # not a resident code
    with pytest.raises(SchemaError, match=r"changes\.1\.resident_code"):
        parse_body(IDENTITY_INFO_CHANGES, 1, bad)


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
        max_leaves=12,
    )
)
def test_any_other_body_is_a_schema_error_never_a_crash(junk: Any) -> None:
    for candidate in (junk, {"lg_code": INAGI, "changes": junk}, {"lg_code": junk, "changes": []}):
        if not isinstance(candidate, dict):
            continue
        with pytest.raises(SchemaError):
            parse_body(IDENTITY_INFO_CHANGES, 1, candidate)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=1500),
    max_bytes=st.sampled_from([2_000, 20_000, RUN_BYTES]),
    long_address=st.booleans(),
)
def test_packing_keeps_every_change_once_in_order_within_the_limits(
    n: int, max_bytes: int, long_address: bool
) -> None:
    address = "東京都稲城市" + ("大字百村字長い地名" * 20 if long_address else "東長沼1番地")
    people = [person(i, address=address) for i in range(n)]
    packed = pack(INAGI, people, max_bytes)
    assert [c for m in packed for c in m.changes] == people
    for message in packed:
        assert len(message.changes) <= MAX_CHANGES
        assert len(canonical_json(body_of(message))) <= max_bytes
    assert all(len(m.changes) > 0 for m in packed)


def test_a_change_too_large_for_any_message_is_an_error_not_a_lost_change() -> None:
    with pytest.raises(ValueError, match="cannot fit"):
        pack(INAGI, [person(0)], 100)


def test_a_change_alone_goes_as_identity_info_changed_and_a_run_per_municipality_in_order() -> None:
    alone = IdentityInfoChanged(identity=person(0))
    assert up_messages([alone]) == [alone]
    run = [person(0), person(1), person(2, FUCHU), person(3)]
    messages = up_messages([IdentityInfoChanged(identity=p) for p in run])
    assert [(m.lg_code, len(m.changes)) for m in messages] == [(INAGI, 2), (FUCHU, 1), (INAGI, 1)]  # type: ignore[attr-defined]
    assert [c for m in messages for c in m.changes] == run  # type: ignore[attr-defined]
