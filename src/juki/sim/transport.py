"""The wire, made unreliable: drop, duplicate, reorder and delay on the simulated clock.

`FaultyTransport` wraps the in-process `MemoryTransport` and implements the same `Transport`
interface the delivery worker already uses, so the worker and the receiver under test are the
real ones. A message held back (delayed, reordered, or the second copy of a duplicate) waits in
a heap keyed by simulated time; the simulator releases it when the clock gets there. The sender
of a held message is told the attempt timed out, as an HTTP client would be, and retries on its
own schedule: the receiver then sees the same message twice and must apply it once.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from juki.core.clock import Clock
from juki.network.transport import (
    MemoryTransport,
    QueryRefused,
    Reply,
    ReplyStatus,
    TransportError,
)
from juki.sim.faults import Durations, FaultRates, SimCrash
from juki.sim.trace import Trace


@dataclass(order=True)
class _Held:
    at: datetime
    seq: int
    sender: str = field(compare=False)
    recipient: str = field(compare=False)
    endpoint: str = field(compare=False)
    payload: bytes = field(compare=False)
    why: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class _About:
    message_id: str
    message_type: str
    seq: int
    person: str | None

    def keys(self, sender: str, recipient: str) -> list[str]:
        """Traffic is filed by message, link and person; a node's own trail keeps only what
        happened to the node (crashes, faults), so it stays short enough to read."""
        out = [f"msg:{self.message_id}", f"link:{sender}>{recipient}"]
        if self.person:
            out.append(f"person:{self.person}")
        return out


def _about(payload: bytes) -> _About:
    try:
        data: dict[str, Any] = json.loads(payload)
        body = data.get("body") or {}
        person = body.get("resident_code") or (body.get("identity") or {}).get("resident_code")
        return _About(str(data["message_id"]), str(data["message_type"]), int(data["seq"]), person)
    except (ValueError, KeyError, TypeError, AttributeError):
        return _About("?", "?", -1, None)


class SenderLink:
    """The transport as one node's delivery worker sees it: it knows who is sending."""

    def __init__(self, wire: FaultyTransport, sender: str) -> None:
        self.wire = wire
        self.sender = sender

    def send(self, recipient: str, endpoint: str, payload: bytes) -> Reply:
        return self.wire.send_from(self.sender, recipient, endpoint, payload)


class QueryLink:
    """The query transport as one node sees it (`Node.ask`): its synchronous questions (the
    kiosk relay's, the card CA's) cross the same faulty wire as its messages."""

    def __init__(self, wire: FaultyTransport, sender: str) -> None:
        self.wire = wire
        self.sender = sender

    def query(self, recipient: str, endpoint: str, payload: bytes) -> bytes:
        return self.wire.query_from(self.sender, recipient, endpoint, payload)


class FaultyTransport:
    def __init__(
        self,
        clock: Clock,
        rng: random.Random,
        rates: FaultRates,
        trace: Trace,
        *,
        durations: Durations | None = None,
    ) -> None:
        self.clock = clock
        self.rng = rng
        self.rates = rates
        self.trace = trace
        self.durations = durations or Durations()
        self.inner = MemoryTransport()
        self.active = rates.any()
        self.partitions: dict[frozenset[str], datetime] = {}
        self.crash_after_send: set[str] = set()
        self.replies: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()
        self.refused: list[tuple[str, str]] = []  # (message id, reason) of every refusal
        self.injected: Counter[str] = Counter()
        self.gaps: list[tuple[str, str, str, int | None]] = []  # sender, recipient, id, expected
        self._held: list[_Held] = []
        # Faults on queries draw from their own rng, set by the workload that asks them (the
        # kiosk's), so runs that ask nothing keep their course; None: queries are not faulted.
        self.query_rng: random.Random | None = None
        self._held_seq = 0
        # set by the simulator: a node received something (it may have work now); a node died
        self.on_delivered: Callable[[str], None] = lambda node_id: None
        self.on_crash: Callable[[SimCrash], None] = lambda crash: None

    def sender(self, node_id: str) -> SenderLink:
        return SenderLink(self, node_id)

    def querier(self, node_id: str) -> QueryLink:
        return QueryLink(self, node_id)

    # -- partitions -----------------------------------------------------------------------------

    def partition(self, a: str, b: str, until: datetime) -> None:
        self.partitions[frozenset((a, b))] = until

    def partitioned(self, a: str, b: str) -> bool:
        until = self.partitions.get(frozenset((a, b)))
        if until is None:
            return False
        if until <= self.clock.now():
            del self.partitions[frozenset((a, b))]
            return False
        return True

    # -- sending --------------------------------------------------------------------------------

    def send_from(self, sender: str, recipient: str, endpoint: str, payload: bytes) -> Reply:
        about = _about(payload)
        keys = about.keys(sender, recipient)
        what = f"{sender}→{recipient} {about.message_type}#{about.seq} {about.message_id[-12:]}"
        if about.person:
            what += f" person {about.person}"
            self.trace.link(f"person:{about.person}", f"msg:{about.message_id}")
        if self.active:
            if self.partitioned(sender, recipient):
                self._note(keys, f"{what}: partitioned")
                raise TransportError("partitioned")
            fault = self._roll()
            if fault == "drop":
                self._note(keys, f"{what}: dropped")
                raise TransportError("dropped")
            if fault in ("delay", "reorder"):
                self._hold(sender, recipient, endpoint, payload, fault, keys, what)
                raise TransportError("timed out")
            if fault == "duplicate":
                reply = self._deliver(sender, recipient, endpoint, payload, keys, what)
                self._hold(sender, recipient, endpoint, payload, "duplicate", keys, what)
                return self._after_send(sender, reply)
            if fault == "drop_reply":
                self._deliver(sender, recipient, endpoint, payload, keys, what)
                self._note(keys, f"{what}: reply lost")
                raise TransportError("reply lost")
        reply = self._deliver(sender, recipient, endpoint, payload, keys, what)
        return self._after_send(sender, reply)

    # -- queries --------------------------------------------------------------------------------

    def query_from(self, sender: str, recipient: str, endpoint: str, payload: bytes) -> bytes:
        """A synchronous question under the faults that apply to one: a partition or a lost
        request is never answered; a lost, delayed or held-back answer was made (the recipient
        acted on it) but never arrives; a duplicate is asked twice, the first answer counts."""
        about = _about(payload)
        keys = about.keys(sender, recipient)
        what = f"{sender}→{recipient} {about.message_type} (query) {about.message_id[-12:]}"
        rng = self.query_rng
        fault = None
        if self.active and rng is not None:
            if self.partitioned(sender, recipient):
                self._note(keys, f"{what}: partitioned")
                raise TransportError("partitioned")
            fault = self._roll(rng)
        if fault == "drop":
            self._note(keys, f"{what}: dropped")
            raise TransportError("dropped")
        answer = self._ask(recipient, endpoint, payload, keys, what)
        if fault in ("drop_reply", "delay", "reorder"):
            self._note(keys, f"{what}: answer lost ({fault})")
            raise TransportError("timed out waiting for the answer")
        if fault == "duplicate":
            with contextlib.suppress(TransportError, QueryRefused):
                self._ask(recipient, endpoint, payload, keys, f"{what} (duplicate)")
        return answer

    def _ask(
        self, recipient: str, endpoint: str, payload: bytes, keys: list[str], what: str
    ) -> bytes:
        try:
            answer = self.inner.query(recipient, endpoint, payload)
        except SimCrash as crash:
            self._note(keys, f"{what}: {recipient} crashed while answering")
            self.on_crash(crash)
            raise TransportError(f"{recipient} went away") from None
        except TransportError:
            self._note(keys, f"{what}: {recipient} unreachable")
            raise
        except QueryRefused as exc:
            self._note(keys, f"{what}: refused {exc.reply.reason}")
            raise
        self._note(keys, f"{what}: answered")
        return answer

    def _roll(self, rng: random.Random | None = None) -> str | None:
        r = (rng or self.rng).random()
        rates = self.rates
        for name in ("drop", "delay", "reorder", "duplicate", "drop_reply"):
            p: float = getattr(rates, name)
            if r < p:
                self.injected[name] += 1
                return name
            r -= p
        return None

    def _after_send(self, sender: str, reply: Reply) -> Reply:
        if sender in self.crash_after_send:
            self.crash_after_send.discard(sender)
            raise SimCrash(sender, "after send, before the acknowledgement was recorded")
        return reply

    def _deliver(
        self, sender: str, recipient: str, endpoint: str, payload: bytes, keys: list[str], what: str
    ) -> Reply:
        try:
            reply = self.inner.send(recipient, endpoint, payload)
        except SimCrash as crash:
            self._note(keys, f"{what}: {recipient} crashed while applying it")
            self.on_crash(crash)
            raise TransportError(f"{recipient} went away") from None
        except TransportError:
            self._note(keys, f"{what}: {recipient} unreachable")
            raise
        self.replies[reply.status.value] += 1
        if reply.status is ReplyStatus.GAP:
            self.gaps.append((sender, recipient, _about(payload).message_id, reply.expected_seq))
        if reply.status is ReplyStatus.REFUSED:
            self.refusals[reply.reason] += 1
            self.refused.append((_about(payload).message_id, reply.reason))
        self._note(keys, f"{what}: {reply.status.value} {reply.reason}".rstrip())
        self.on_delivered(recipient)
        return reply

    def _note(self, keys: list[str], text: str) -> None:
        self.trace.add(self.clock.now(), text, keys)

    # -- messages held back ---------------------------------------------------------------------

    def _hold(
        self,
        sender: str,
        recipient: str,
        endpoint: str,
        payload: bytes,
        why: str,
        keys: list[str],
        what: str,
    ) -> None:
        if why == "reorder":
            delay = timedelta(milliseconds=self.rng.randint(1, 3000))
        else:
            lo, hi = self.durations.delay
            span = (hi - lo).total_seconds()
            delay = lo + timedelta(seconds=span * self.rng.random() ** 3)
        self._held_seq += 1
        at = self.clock.now() + delay
        heapq.heappush(
            self._held, _Held(at, self._held_seq, sender, recipient, endpoint, payload, why)
        )
        self._note(keys, f"{what}: held back ({why}) until {at.isoformat(timespec='seconds')}")

    def next_release(self) -> datetime | None:
        return self._held[0].at if self._held else None

    def release_due(self) -> int:
        """Deliver every held message whose time has come; its reply goes nowhere."""
        now = self.clock.now()
        released = 0
        while self._held and self._held[0].at <= now:
            held = heapq.heappop(self._held)
            about = _about(held.payload)
            keys = about.keys(held.sender, held.recipient)
            what = (
                f"{held.sender}→{held.recipient} {about.message_type}#{about.seq} "
                f"{about.message_id[-12:]} ({held.why}, late)"
            )
            released += 1
            if self.partitioned(held.sender, held.recipient):
                self._note(keys, f"{what}: lost in a partition")
                continue
            try:
                self._deliver(held.sender, held.recipient, held.endpoint, held.payload, keys, what)
            except TransportError:
                continue
        return released

    def held(self) -> int:
        return len(self._held)
