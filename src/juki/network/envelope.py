"""The envelope every message travels in: who, to whom, when, which in the link's order, signed.

The signature covers the canonical JSON of every field but itself, so any change to header or body
is caught. The receiver checks it (and recipient, directory status, freshness, replay) before it
even looks at the body.
"""

from __future__ import annotations

import base64
import json
import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

import orjson
from cryptography.hazmat.primitives.asymmetric import ec

from juki.network import pki

PROTOCOL_VERSION: Final = 1
# A message alone, a query or an answer: at most this; a batch of messages may be larger
# (`juki.network.batch.MAX_BATCH_ENVELOPE_BYTES`), each message in it no larger than this allows.
MAX_ENVELOPE_BYTES: Final = 256 * 1024
MAX_MESSAGE_BODY_BYTES: Final = MAX_ENVELOPE_BYTES - 4096  # the envelope's own fields fit in 4 KiB
# What the header may hold, checked before the signature: every value fits the columns the inbox,
# dead-letter and refusal logs keep it in (on SQLite and PostgreSQL alike: no NUL, no integer
# past BIGINT), so a signed message of any body is recorded, never an error of the database.
MAX_SCHEMA_VERSION: Final = 2**15 - 1
MAX_SEQ: Final = 2**63 - 1
MESSAGE_TYPE_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
NODE_ID_RE: Final = re.compile(r"[A-Za-z0-9_.-]{1,16}")
HEADER_FIELDS: Final = (
    "protocol",
    "message_id",
    "message_type",
    "schema_version",
    "sender",
    "recipient",
    "created_at",
    "seq",
)


class EnvelopeError(Exception):
    """Why a message was refused: a short code for logs and metrics, and a human sentence."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def uuid7(now: datetime, rng: random.Random) -> str:
    """A UUIDv7 (RFC 9562): time-ordered, from the caller's clock and random source.

    Taking both as parameters keeps message ids reproducible in the simulator.
    """
    ms = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    value = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62)
    value |= rng.getrandbits(62)
    return str(uuid.UUID(int=value))


_SIGNATURE_FIELD: Final = b',"signature":"'
# A JSON escape of a UTF-16 surrogate: the only way a lone surrogate (which cannot be encoded,
# so cannot have been signed) gets into a parsed envelope; canonical JSON writes none.
_ESCAPED_SURROGATE: Final = re.compile(rb"\\u[dD][89a-fA-F]")
# A datetime or a dataclass orjson would write where the standard library refuses: it hands
# them back, and so refuses them too (a UUID it still writes; no caller passes one).
_ORJSON: Final = (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8 as it is: the bytes a signature covers. orjson writes
    them, an order of magnitude faster than the standard library and byte for byte the same
    for everything a message holds (strings, integers, booleans, null, lists, objects: a
    property test holds the two equal). What orjson refuses (an integer past 64 bits, a lone
    surrogate, a key that is not a string) goes to the standard library, which writes it or
    refuses it as it always did. No message holds a float (a test holds that no schema has
    one): orjson would write an exponent without its plus sign and NaN as null, where the
    standard library differs."""
    try:
        return orjson.dumps(value, option=_ORJSON)
    except orjson.JSONEncodeError:
        return json.dumps(
            value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")


def signed_around(key: pki.PrivateKey, header: Mapping[str, Any], body: bytes) -> bytes:
    """The bytes of `Envelope(**header, body=json.loads(body)).signed(key).to_bytes()` for a
    body already in canonical JSON (as the outbox keeps it), assembled around it: a message of
    many changes is a quarter of a megabyte, and decoding and encoding it again to send it cost
    more than signing it. `header` holds every field but body and signature; canonical JSON
    puts "body" first and "signature" last."""
    shell = canonical_json({**header, "body": 0})
    opening = b'{"body":0,'
    if not shell.startswith(opening):
        raise ValueError("the envelope's fields must sort after its body")
    unsigned = b'{"body":' + body + b"," + shell[len(opening) :]
    signature = base64.b64encode(pki.sign(key, unsigned))
    return unsigned[:-1] + b',"signature":"' + signature + b'"}'


@dataclass(frozen=True, slots=True)
class Envelope:
    message_id: str
    message_type: str
    schema_version: int
    sender: str
    recipient: str
    created_at: str
    seq: int
    body: Mapping[str, Any] = field(default_factory=dict)
    signature: str = ""
    protocol: int = PROTOCOL_VERSION
    # The bytes `signed` signed, kept so `to_bytes` need not encode a large batch a second time;
    # not an argument, so `dataclasses.replace` (any change) leaves a copy without them.
    signed_bytes: bytes | None = field(default=None, init=False, compare=False, repr=False)

    def _unsigned(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(self, name) for name in HEADER_FIELDS}
        out["body"] = dict(self.body)
        return out

    def signing_bytes(self) -> bytes:
        return canonical_json(self._unsigned())

    def signed(self, key: pki.PrivateKey) -> Envelope:
        unsigned = self.signing_bytes()
        sig = pki.sign(key, unsigned)
        out = replace(self, signature=base64.b64encode(sig).decode("ascii"))
        object.__setattr__(out, "signed_bytes", unsigned)
        return out

    def has_valid_signature(self, public_key: ec.EllipticCurvePublicKey) -> bool:
        if not self.signature:
            return False
        try:
            sig = base64.b64decode(self.signature, validate=True)
        except ValueError:
            return False
        if base64.b64encode(sig).decode("ascii") != self.signature:
            return False  # only the canonical encoding: no two spellings of one signature
        # The bytes received, when they end in the signature field as canonical JSON does:
        # a signature over exactly the bytes parsed holds for what was parsed, so the envelope
        # need not be encoded again; else (or when that fails) its canonical encoding.
        if self.signed_bytes is not None and pki.verify(public_key, sig, self.signed_bytes):
            return True
        return pki.verify(public_key, sig, self.signing_bytes())

    def to_bytes(self) -> bytes:
        if self.signed_bytes is not None and self.signed_bytes.endswith(b"}"):
            # "signature" sorts after every other field: the canonical form is the signed
            # bytes with it appended (a test holds the two ways to the same bytes)
            return self.signed_bytes[:-1] + b',"signature":"' + self.signature.encode() + b'"}'
        data = self._unsigned()
        data["signature"] = self.signature
        return canonical_json(data)

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at)

    @classmethod
    def from_bytes(cls, raw: bytes, *, max_bytes: int = MAX_ENVELOPE_BYTES) -> Envelope:
        if len(raw) > max_bytes:
            raise EnvelopeError("oversized", f"{len(raw)} bytes, limit {max_bytes}")
        try:
            # Strict UTF-8 first: json.loads(bytes) would let lone surrogates through. The
            # standard library, not orjson: orjson reads an integer past 64 bits as a float.
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise EnvelopeError("malformed", f"not UTF-8 JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise EnvelopeError("malformed", "envelope is not an object")
        expected = {*HEADER_FIELDS, "body", "signature"}
        if set(data) != expected:
            missing = sorted(expected - set(data))
            extra = sorted(set(data) - expected)
            if missing == ["signature"] and not extra:
                raise EnvelopeError("unsigned", "no signature")
            raise EnvelopeError("malformed", f"fields missing {missing}, unexpected {extra}")
        if data["protocol"] != PROTOCOL_VERSION:
            raise EnvelopeError("malformed", f"protocol {data['protocol']!r} not supported")
        try:
            env = cls(
                message_id=_str(data, "message_id", 36),
                message_type=_match(data, "message_type", MESSAGE_TYPE_RE),
                schema_version=_int(data, "schema_version", MAX_SCHEMA_VERSION),
                sender=_match(data, "sender", NODE_ID_RE),
                recipient=_match(data, "recipient", NODE_ID_RE),
                created_at=_str(data, "created_at", 40),
                seq=_int(data, "seq", MAX_SEQ),
                body=_body(data),
                signature=_str(data, "signature", 200, allow_empty=True),
            )
            uuid.UUID(env.message_id)
            if env.created.utcoffset() is None:  # parses, or raises ValueError
                raise ValueError("created_at must carry its offset from UTC")
            if _ESCAPED_SURROGATE.search(raw):
                env.signing_bytes()  # a lone surrogate from a JSON escape cannot be signed
        except (TypeError, ValueError) as exc:
            raise EnvelopeError("malformed", str(exc)) from exc
        if not env.signature:
            raise EnvelopeError("unsigned", "empty signature")
        # The bytes as sent, up to their signature field: what the sender signed when it sent
        # canonical JSON (every node does), checked first without encoding the envelope again.
        cut = raw.rfind(_SIGNATURE_FIELD)
        if cut > 0 and raw[cut:] == _SIGNATURE_FIELD + env.signature.encode() + b'"}':
            object.__setattr__(env, "signed_bytes", raw[:cut] + b"}")
        return env


def _str(data: Mapping[str, Any], name: str, max_len: int, *, allow_empty: bool = False) -> str:
    value = data[name]
    if not isinstance(value, str) or len(value) > max_len or (not value and not allow_empty):
        raise ValueError(f"{name} must be a string of at most {max_len} characters")
    return value


def _match(data: Mapping[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = data[name]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{name} must match {pattern.pattern}")
    return value


def _int(data: Mapping[str, Any], name: str, maximum: int) -> int:
    value = data[name]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise ValueError(f"{name} must be an integer from 0 to {maximum}")
    return value


def _body(data: Mapping[str, Any]) -> Mapping[str, Any]:
    body = data["body"]
    if not isinstance(body, dict):
        raise ValueError("body must be an object")
    return body
