"""Envelopes: signatures cover everything, parsing is strict, ids are UUIDv7."""

from __future__ import annotations

import base64
import dataclasses
import json
import random
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from juki.network import pki
from juki.network.envelope import Envelope, EnvelopeError, canonical_json, signed_around, uuid7

KEY = pki.generate_key()
NOW = datetime(2025, 4, 1, tzinfo=UTC)


def envelope(**overrides: object) -> Envelope:
    base = Envelope(
        message_id=uuid7(NOW, random.Random(1)),
        message_type="move_in_notice",
        schema_version=1,
        sender="142051",
        recipient="132250",
        created_at=NOW.isoformat(),
        seq=3,
        body={"resident_code": "24727059608", "new_address": "神奈川県藤沢市辻堂1番地"},
    )
    return dataclasses.replace(base, **overrides).signed(KEY)  # type: ignore[arg-type]


def test_round_trip_and_signature() -> None:
    env = envelope()
    parsed = Envelope.from_bytes(env.to_bytes())
    assert parsed == env
    assert parsed.has_valid_signature(KEY.public_key())
    assert not parsed.has_valid_signature(pki.generate_key().public_key())


# ECDSA signatures vary in length: sign once so every example sees the same bytes.
SIGNED = envelope()
RAW = SIGNED.to_bytes()


@settings(max_examples=80)
@given(st.integers(0, len(RAW) - 1), st.integers(1, 255))
def test_any_changed_byte_breaks_the_signature_or_the_parse(index: int, delta: int) -> None:
    raw = bytearray(RAW)
    raw[index] = (raw[index] + delta) % 256
    try:
        parsed = Envelope.from_bytes(bytes(raw))
    except EnvelopeError:
        return
    assert parsed != SIGNED
    assert not parsed.has_valid_signature(KEY.public_key())


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[]", "malformed"),
        (b"not json", "malformed"),
        (b"{" + b" " * 300_000 + b"}", "oversized"),
    ],
)
def test_bad_shapes(raw: bytes, reason: str) -> None:
    with pytest.raises(EnvelopeError) as err:
        Envelope.from_bytes(raw)
    assert err.value.reason == reason


def test_lone_surrogate_escape_is_malformed() -> None:
    raw = envelope().to_bytes().replace("辻堂".encode(), b"\\udca2")
    with pytest.raises(EnvelopeError) as err:
        Envelope.from_bytes(raw)
    assert err.value.reason == "malformed"


@pytest.mark.parametrize(
    "overrides",
    [
        {"schema_version": 2**15},  # past any version, and past what the dead letter stores
        {"seq": 2**63},  # past BIGINT
        {"message_type": "\x00"},  # PostgreSQL stores no NUL
        {"message_type": "Move In"},
        {"sender": "14205\x00"},
        {"recipient": "132250/.."},
        {"created_at": "2025-04-01T10:00:00"},  # no offset: cannot be compared with the clock
        {"created_at": "0001-01-01"},
    ],
    ids=["version", "seq", "type-nul", "type-shape", "sender", "recipient", "naive", "date"],
)
def test_a_header_no_log_can_hold_is_malformed_before_the_signature(
    overrides: dict[str, object],
) -> None:
    """Every header value must fit the inbox, dead-letter and refusal logs on both databases
    and be comparable with the receiver's clock; a signed one that does not is refused as
    malformed (the no-500 property of /net/v1 found each)."""
    with pytest.raises(EnvelopeError) as err:
        Envelope.from_bytes(envelope(**overrides).to_bytes())
    assert err.value.reason == "malformed"


def test_missing_signature_is_unsigned() -> None:
    import json

    data = json.loads(envelope().to_bytes())
    del data["signature"]
    with pytest.raises(EnvelopeError) as err:
        Envelope.from_bytes(json.dumps(data).encode())
    assert err.value.reason == "unsigned"


def test_uuid7_is_time_ordered_and_versioned() -> None:
    rng = random.Random(5)
    a = uuid7(NOW, rng)
    b = uuid7(datetime(2025, 4, 2, tzinfo=UTC), rng)
    assert uuid.UUID(a).version == 7
    assert a < b
    assert uuid7(NOW, random.Random(9)) == uuid7(NOW, random.Random(9))


def test_a_signed_envelope_encodes_as_the_canonical_form_and_a_changed_copy_anew() -> None:
    """`to_bytes` reuses the bytes just signed; a copy changed after signing is encoded from
    its own fields (so a tampered copy is sent as tampered, and fails its signature)."""
    env = envelope()
    full = {**env._unsigned(), "signature": env.signature}
    assert env.to_bytes() == canonical_json(full)
    tampered = dataclasses.replace(env, seq=99)
    assert tampered.signed_bytes is None
    parsed = Envelope.from_bytes(tampered.to_bytes())
    assert parsed.seq == 99
    assert not parsed.has_valid_signature(KEY.public_key())


def test_a_received_envelope_is_verified_on_the_bytes_as_sent() -> None:
    """The receiver need not encode a large batch again: the bytes up to the signature field
    are what the sender signed."""
    parsed = Envelope.from_bytes(RAW)
    assert parsed.signed_bytes == SIGNED.signing_bytes()
    assert parsed.has_valid_signature(KEY.public_key())


def test_bytes_not_in_canonical_form_are_checked_on_the_canonical_encoding() -> None:
    """A sender whose JSON is spaced or ordered otherwise, signing the canonical form: still
    genuine; and a signature over the spaced bytes themselves holds for what they say."""
    spaced = json.dumps(json.loads(RAW), ensure_ascii=False, indent=1).encode()
    assert spaced != RAW
    parsed = Envelope.from_bytes(spaced)
    assert parsed == SIGNED
    assert parsed.has_valid_signature(KEY.public_key())
    unsigned = spaced[: spaced.rindex(b',\n "signature"')] + b"\n}"
    resigned = unsigned[:-1] + b',"signature":"' + base64.b64encode(pki.sign(KEY, unsigned)) + b'"}'
    assert Envelope.from_bytes(resigned).has_valid_signature(KEY.public_key())


def test_a_signature_moved_onto_other_bytes_fails() -> None:
    """The bytes before the signature field are the ones checked: changing them breaks it."""
    tampered = RAW.replace("辻堂".encode(), "藤沢".encode())
    parsed = Envelope.from_bytes(tampered)
    assert parsed.signed_bytes is not None
    assert not parsed.has_valid_signature(KEY.public_key())


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=30),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
            max_leaves=10,
        ),
        max_size=6,
    )
)
def test_an_envelope_signed_around_its_queued_body_is_its_canonical_form(
    body: dict[str, object],
) -> None:
    """The sender assembles a message around the body as the outbox keeps it (canonical JSON):
    the bytes are the canonical encoding of the envelope they parse to, signed."""
    header = {
        "protocol": 1,
        "message_id": uuid7(NOW, random.Random(3)),
        "message_type": "identity_info_changes",
        "schema_version": 1,
        "sender": "132250",
        "recipient": "130001",
        "created_at": NOW.isoformat(),
        "seq": 9,
    }
    try:
        queued = canonical_json(body)
    except UnicodeEncodeError:  # a lone surrogate: never queued (canonical JSON cannot hold it)
        return
    raw = signed_around(KEY, header, queued)
    env = Envelope.from_bytes(raw)
    assert env.has_valid_signature(KEY.public_key())
    assert env.body == body
    assert canonical_json({**env._unsigned(), "signature": env.signature}) == raw
