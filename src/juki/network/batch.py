"""A signed batch: many messages of one link in one envelope, one signature, one request.

One signature and one request per message capped delivery at a few dozen messages a second
(issue 15). A batch is an envelope of type `message_batch` whose body lists the messages, each
with its own id, type, schema version and sequence number: the batch's signature covers them
all, and the receiver takes each one through the same checks (replay, order, schema, the
sender's authority for its type) as a message sent alone, in one transaction, answering one
reply per message. A batch is a way to carry messages, not a message: it has no sequence
number of its own, nothing records it, and no handler sees it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from juki.network import pki
from juki.network.envelope import (
    MAX_SCHEMA_VERSION,
    MAX_SEQ,
    MESSAGE_TYPE_RE,
    Envelope,
    EnvelopeError,
    canonical_json,
    signed_around,
)

MESSAGE_BATCH: Final = "message_batch"
BATCH_VERSION: Final = 1
# At most this many messages per batch, and this many bytes of their bodies and headers
# (counted generously). A batch may be larger than a message alone (256 KiB), each message in it
# no larger than it could be alone (`MAX_MESSAGE_BODY_BYTES`): a message retried goes alone.
# About 6,500 identity_info fit (16 runs); each node commits once per batch, and at 4 MiB a
# backlog drained twice as fast as at 256 KiB (ADR 0010, `python -m bench network
# --processes`). A receiver reads no more than this of a request to its messages path.
MAX_BATCH_MESSAGES: Final = 1024
MAX_BATCH_ENVELOPE_BYTES: Final = 4 * 1024 * 1024
MAX_BATCH_BODY_BYTES: Final = MAX_BATCH_ENVELOPE_BYTES - 4096  # the envelope's fields: 4 KiB
ITEM_OVERHEAD_BYTES: Final = 200  # a message's header fields inside the batch: at most 192


def signed_batch(
    key: pki.PrivateKey,
    header: Mapping[str, Any],
    messages: Sequence[tuple[str, str, int, int, str]],
) -> bytes:
    """The canonical bytes of a signed batch envelope (`header`: every envelope field but body
    and signature) of (message id, type, schema version, seq, body as canonical JSON) messages,
    assembled around the bodies as queued: what `Envelope(...).signed(key).to_bytes()` gives
    for the decoded bodies (a test holds them equal), without decoding and encoding each body
    again."""
    items = b",".join(
        b'{"body":%s,"message_id":%s,"message_type":%s,"schema_version":%d,"seq":%d}'
        % (body.encode(), _quoted(mid), _quoted(kind), version, seq)
        for mid, kind, version, seq, body in messages
    )
    return signed_around(key, header, b'{"messages":[' + items + b"]}")


def _quoted(text: str) -> bytes:
    """`canonical_json(text)`, directly for the plain ASCII a message id or type is."""
    if _PLAIN.fullmatch(text):
        return b'"' + text.encode("ascii") + b'"'
    return canonical_json(text)


_PLAIN: Final = re.compile(r"[A-Za-z0-9_.:-]*")
_ITEM_FIELDS: Final = frozenset({"message_id", "message_type", "schema_version", "seq", "body"})
_CANONICAL_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def unpack(batch: Envelope) -> list[Envelope]:
    """The messages of a checked batch, each as the envelope it would have been alone (the
    batch's sender, recipient, time and signature): `EnvelopeError` if any is malformed.

    Sequence numbers must rise by one from message to message: a batch is one stretch of its
    link, so the receiver's order checks see what they would see one message at a time."""
    items = batch.body.get("messages")
    if not isinstance(items, list) or not items:
        raise EnvelopeError("malformed", "a batch must list one or more messages")
    if len(items) > MAX_BATCH_MESSAGES:
        raise EnvelopeError("malformed", f"{len(items)} messages, limit {MAX_BATCH_MESSAGES}")
    out: list[Envelope] = []
    for i, item in enumerate(items):
        where = f"messages[{i}]"
        if not isinstance(item, dict) or item.keys() != _ITEM_FIELDS:
            raise EnvelopeError("malformed", f"{where} must hold exactly the message fields")
        env = Envelope(
            message_id=_message_id(item.get("message_id"), where),
            message_type=_message_type(item.get("message_type"), where),
            schema_version=_bounded(item.get("schema_version"), MAX_SCHEMA_VERSION, where),
            sender=batch.sender,
            recipient=batch.recipient,
            created_at=batch.created_at,
            seq=_bounded(item.get("seq"), MAX_SEQ, where),
            body=_object(item.get("body"), where),
            signature=batch.signature,
        )
        if out and env.seq != out[-1].seq + 1:
            raise EnvelopeError("malformed", f"{where}.seq must follow {out[-1].seq}")
        out.append(env)
    return out


def _message_id(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) > 36:
        raise EnvelopeError("malformed", f"{where}.message_id must be a UUID")
    if _CANONICAL_UUID.fullmatch(value):  # as every node writes them; else as uuid.UUID reads
        return value
    try:
        uuid.UUID(value)
    except ValueError as exc:
        raise EnvelopeError("malformed", f"{where}.message_id must be a UUID") from exc
    return value


def _message_type(value: object, where: str) -> str:
    if not isinstance(value, str) or not MESSAGE_TYPE_RE.fullmatch(value) or value == MESSAGE_BATCH:
        raise EnvelopeError("malformed", f"{where}.message_type must name a message type")
    return value


def _bounded(value: object, maximum: int, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise EnvelopeError("malformed", f"{where}: an integer from 0 to {maximum}")
    return value


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EnvelopeError("malformed", f"{where}.body must be an object")
    return value
