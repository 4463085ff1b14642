"""Batches: what a batch envelope may carry, and the replies that answer it message by message."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from juki.network import pki
from juki.network.batch import MAX_BATCH_MESSAGES, MESSAGE_BATCH, signed_batch, unpack
from juki.network.envelope import Envelope, EnvelopeError, canonical_json, uuid7
from juki.network.https import reply_from_response, status_code_for
from juki.network.transport import Reply, ReplyStatus

KEY = pki.generate_key()
NOW = datetime(2025, 4, 1, tzinfo=UTC)
RNG = random.Random(5)


def message(n: int, **overrides: Any) -> dict[str, Any]:
    return {
        "message_id": uuid7(NOW, RNG),
        "message_type": "identity_info_changed",
        "schema_version": 2,
        "seq": n,
        "body": {"identity": {"resident_code": f"{n:011d}"}},
    } | overrides


def batch_of(messages: list[Any]) -> Envelope:
    return Envelope(
        message_id=uuid7(NOW, RNG),
        message_type=MESSAGE_BATCH,
        schema_version=1,
        sender="132250",
        recipient="130001",
        created_at=NOW.isoformat(),
        seq=1,
        body={"messages": messages},
    ).signed(KEY)


def signed_bytes(sent: list[dict[str, Any]]) -> bytes:
    header = {
        "protocol": 1,
        "message_id": sent[0]["message_id"],
        "message_type": MESSAGE_BATCH,
        "schema_version": 1,
        "sender": "132250",
        "recipient": "130001",
        "created_at": NOW.isoformat(),
        "seq": sent[0]["seq"],
    }
    queued = [
        (m["message_id"], m["message_type"], m["schema_version"], m["seq"], canonical(m["body"]))
        for m in sent
    ]
    return signed_batch(KEY, header, queued)


def canonical(body: Any) -> str:
    return canonical_json(body).decode()


def test_a_batch_is_signed_as_the_canonical_form_of_its_envelope() -> None:
    """The sender assembles a batch around the bodies as queued; the bytes are exactly the
    canonical encoding of the envelope they parse to, and its signature verifies."""
    sent = [message(7), message(8, body={"名": "髙﨑", "n": [1, None, 2.5]})]
    raw = signed_bytes(sent)
    env = Envelope.from_bytes(raw)
    assert env.has_valid_signature(KEY.public_key())
    assert canonical_json({**env._unsigned(), "signature": env.signature}) == raw
    assert [i.body for i in unpack(env)] == [m["body"] for m in sent]


def test_a_batch_unpacks_into_the_envelopes_its_messages_would_have_been() -> None:
    sent = [message(7), message(8), message(9)]
    env = Envelope.from_bytes(signed_bytes(sent))
    assert env.has_valid_signature(KEY.public_key())
    items = unpack(env)
    assert [i.seq for i in items] == [7, 8, 9]
    assert [i.message_id for i in items] == [m["message_id"] for m in sent]
    assert all(i.sender == "132250" and i.recipient == "130001" for i in items)
    assert items[1].body == sent[1]["body"]


@pytest.mark.parametrize(
    ("messages", "complaint"),
    [
        ([], "one or more"),
        ([message(1), message(3)], "must follow 1"),
        ([message(2), message(1)], "must follow 2"),
        ([message(1, message_id="not-a-uuid")], "message_id"),
        ([message(1, message_type=MESSAGE_BATCH)], "message_type"),
        ([message(1, message_type="Bad Type")], "message_type"),
        ([message(1, seq=-1)], "integer"),
        ([message(1, seq=True)], "integer"),
        ([message(1, schema_version=2**20)], "integer"),
        ([message(1, body=[1])], "body"),
        ([{**message(1), "extra": 1}], "exactly the message fields"),
        ([message(i + 1) for i in range(MAX_BATCH_MESSAGES + 1)], "limit"),
    ],
)
def test_a_malformed_batch_is_refused_naming_the_message_and_field(
    messages: list[Any], complaint: str
) -> None:
    with pytest.raises(EnvelopeError, match=complaint) as caught:
        unpack(batch_of(messages))
    assert caught.value.reason == "malformed"


FIELD_VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=40),
    st.dictionaries(st.text(max_size=3), st.integers()),
)
FIELDS = st.sampled_from(["message_id", "message_type", "schema_version", "seq", "body", "x"])
ANY_MESSAGES = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.dictionaries(FIELDS, FIELD_VALUES), max_size=4),
    st.lists(st.builds(message, st.integers(0, 3)), min_size=1, max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(ANY_MESSAGES)
def test_any_batch_body_unpacks_or_is_refused_as_malformed(messages: Any) -> None:
    """Whatever a signed batch lists, it unpacks into consecutive messages or is refused as
    malformed: never another error (which a node would answer with a 500)."""
    outcome: str | list[int]
    try:
        outcome = [i.seq for i in unpack(batch_of(messages))]
    except EnvelopeError as exc:
        outcome = exc.reason
    if isinstance(outcome, list):
        assert outcome == list(range(outcome[0], outcome[0] + len(outcome)))
    else:
        assert outcome == "malformed"


def test_a_batch_reply_round_trips_over_http_message_by_message() -> None:
    reply = Reply(
        ReplyStatus.APPLIED,
        "batch",
        "3 of 5 messages answered",
        items=(
            Reply(ReplyStatus.APPLIED),
            Reply(ReplyStatus.DUPLICATE, "applied"),
            Reply(ReplyStatus.GAP, "gap", "expected 4", expected_seq=4),
        ),
    )
    status = status_code_for(reply)
    assert status == 200
    back = reply_from_response(status, json.dumps(reply.as_json()).encode())
    assert back == reply


def test_a_batch_reply_keeps_each_detail_short() -> None:
    long = Reply(ReplyStatus.APPLIED, items=(Reply(ReplyStatus.DEAD_LETTER, "schema", "x" * 5000),))
    assert len(long.as_json()["items"][0]["detail"]) == 200  # type: ignore[index]


@pytest.mark.parametrize(
    "items",
    [
        "applied",
        [1, 2],
        [{"status": "applied", "items": [{"status": "applied"}]}],
        [{"status": "no_such_status"}],
    ],
)
def test_a_garbled_batch_reply_means_try_again(items: object) -> None:
    """A reply the sender cannot read may hide what was applied: the sender tries again, and the
    receiver's inbox answers the messages it had as duplicates."""
    from juki.network.transport import TransportError

    body = json.dumps({"status": "applied", "reason": "", "detail": "", "items": items})
    with pytest.raises(TransportError):
        reply_from_response(200, body.encode())
