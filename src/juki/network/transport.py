"""How envelopes move between nodes: one interface, an in-memory and an HTTPS implementation.

The in-memory transport calls the recipient's receiver directly; unit tests and the simulator use
it, and the simulator wraps it to drop, duplicate, delay and reorder.

`send` delivers a message and returns only an acknowledgement. `query` is the synchronous
request/response path for a question someone waits for at a counter (広域交付): the request and
the answer are both signed envelopes, and the answer is returned as bytes for the asking node
to verify itself. A query is never retried here: the clerk decides whether to ask again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

MAX_ITEM_DETAIL: Final = 200  # a batch reply's detail per message: the reply stays small


class ReplyStatus(StrEnum):
    APPLIED = "applied"  # applied now
    DUPLICATE = "duplicate"  # applied before; acknowledged again, not applied again
    DEAD_LETTER = "dead_letter"  # genuine but cannot be applied; kept for an administrator
    GAP = "gap"  # the receiver expects an earlier sequence number first
    REFUSED = "refused"  # failed a security check (signature, recipient, directory …)
    UNAVAILABLE = "unavailable"  # try again later (disconnected, overloaded, disk full)


ACKNOWLEDGED = frozenset({ReplyStatus.APPLIED, ReplyStatus.DUPLICATE, ReplyStatus.DEAD_LETTER})


@dataclass(frozen=True, slots=True)
class Reply:
    status: ReplyStatus
    reason: str = ""
    detail: str = ""
    expected_seq: int | None = None
    # A batch's answer (`juki.network.batch`): one reply per message, in order, up to and
    # including the first one not acknowledged; the messages after it were not looked at.
    items: tuple[Reply, ...] = ()

    @property
    def acknowledged(self) -> bool:
        return self.status in ACKNOWLEDGED

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "status": self.status.value,
            "reason": self.reason,
            "detail": self.detail,
            "expected_seq": self.expected_seq,
        }
        if self.items:
            out["items"] = [
                {**r.as_json(), "detail": r.detail[:MAX_ITEM_DETAIL]} for r in self.items
            ]
        return out

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Reply:
        expected = data.get("expected_seq")
        items = data.get("items", [])
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and "items" not in i for i in items
        ):
            raise ValueError("items must be a list of replies, none of them a batch's")
        return cls(
            status=ReplyStatus(str(data["status"])),
            reason=str(data.get("reason", "")),
            detail=str(data.get("detail", "")),
            expected_seq=int(expected) if isinstance(expected, int) else None,
            items=tuple(cls.from_json(i) for i in items),
        )


class TransportError(Exception):
    """The message may or may not have arrived: the sender must try again."""


class QueryRefused(Exception):
    """The recipient read the query and would not answer it (its `Reply` says why)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(f"{reply.status.value}: {reply.reason} {reply.detail}".strip())
        self.reply = reply


class Transport(Protocol):
    def send(self, recipient: str, endpoint: str, payload: bytes) -> Reply: ...


class QueryTransport(Protocol):
    def query(self, recipient: str, endpoint: str, payload: bytes) -> bytes:
        """The recipient's signed answer; `QueryRefused` when it refused the request, and
        `TransportError` when it could not be reached or its answer did not arrive."""
        ...


Receive = Callable[[bytes], Reply]
# A node's answer to a query: the signed answer envelope, or the `Reply` refusing the request.
Answer = Callable[[bytes], "bytes | Reply"]


class MemoryTransport:
    """Delivers by calling the recipient's receiver in the same process."""

    def __init__(self) -> None:
        self._receivers: dict[str, Receive] = {}
        self._answers: dict[str, Answer] = {}

    def register(self, node_id: str, receive: Receive) -> None:
        self._receivers[node_id] = receive

    def register_answer(self, node_id: str, answer: Answer) -> None:
        self._answers[node_id] = answer

    def unregister(self, node_id: str) -> None:
        self._receivers.pop(node_id, None)
        self._answers.pop(node_id, None)

    def send(self, recipient: str, endpoint: str, payload: bytes) -> Reply:
        receive = self._receivers.get(recipient)
        if receive is None:
            raise TransportError(f"{recipient} is not reachable")
        return receive(payload)

    def query(self, recipient: str, endpoint: str, payload: bytes) -> bytes:
        answer = self._answers.get(recipient)
        if answer is None:
            raise TransportError(f"{recipient} is not reachable")
        result = answer(payload)
        if isinstance(result, Reply):
            raise QueryRefused(result)
        return result
