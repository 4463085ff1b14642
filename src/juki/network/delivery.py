"""Sending: the outbox is drained in order per link, one batch per step, until acknowledged.

A step sends the link's next message and as many of those queued right behind it as fit in one
signed batch (`juki.network.batch`): one message alone when the queue is short, full batches
when there is a backlog, so a quiet network adds no wait and a busy one pays one signature and
one request for many messages. The receiver answers each message of a batch; the acknowledged
ones are settled together and the first one that was not is settled as if sent alone. A message
whose last attempt failed is sent alone until it is through, so a fault stays with its message.

Retries are not a loop here: a failed attempt writes its next attempt time (exponential backoff
with full jitter, from the node's seeded random source) into the outbox row, so a crash or a
restart loses no schedule, and the simulator can drive `step()` one message at a time under its
own clock. Nothing here reads the wall clock or sleeps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
import structlog

from juki.core.clock import Clock
from juki.network import batch_store, pki, store
from juki.network.batch import (
    BATCH_VERSION,
    MAX_BATCH_BODY_BYTES,
    MAX_BATCH_MESSAGES,
    MESSAGE_BATCH,
    signed_batch,
)
from juki.network.directory import Directory, DirectoryError, NodeStatus
from juki.network.envelope import (
    MAX_ENVELOPE_BYTES,
    MAX_MESSAGE_BODY_BYTES,
    PROTOCOL_VERSION,
    signed_around,
    uuid7,
)
from juki.network.transport import Reply, ReplyStatus, Transport, TransportError
from juki.storage.engine import SNAPSHOT_READ

log = structlog.get_logger("juki.network.delivery")

# A refusal that retrying cannot cure: the message itself is wrong.
PERMANENT_REFUSALS: Final = frozenset(
    {
        "malformed",
        "unsigned",
        "oversized",
        "bad_signature",
        "misaddressed",
        "replay",
        "unauthorised",
        "sender_mismatch",
    }
)


@dataclass(frozen=True, slots=True)
class Backoff:
    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        ceiling: timedelta = min(self.cap, self.base * (2 ** min(attempts, 20)))
        return ceiling * rng.random()


@dataclass(frozen=True, slots=True)
class _Settling:
    """A batch acknowledged whole, being marked delivered by the settler: its link's messages
    up to `last_seq` are not sent again meanwhile."""

    future: Future[None]
    peer: str
    last_seq: int


@dataclass(frozen=True, slots=True)
class StepResult:
    message_id: str
    peer: str
    seq: int
    outcome: str  # the reply status, or "error"


class DeliveryWorker:
    def __init__(
        self,
        engine: sa.Engine,
        node_id: str,
        key: pki.PrivateKey,
        directory: Callable[[], Directory],
        transport: Transport,
        clock: Clock,
        rng: random.Random,
        *,
        is_disconnected: Callable[[], bool] = lambda: False,
        backoff: Backoff | None = None,
        max_batch: int = MAX_BATCH_MESSAGES,
    ) -> None:
        self.engine = engine
        self.node_id = node_id
        self.key = key
        self.directory = directory
        self.transport = transport
        self.clock = clock
        self.rng = rng
        self.is_disconnected = is_disconnected
        self.backoff = backoff or Backoff()
        self.max_batch = max_batch
        # Peers that refused a batch larger than a message alone as oversized (a node from
        # before ADR 0010): batches to them no larger than that, for this process's life.
        self._small_batches: set[str] = set()
        self._reader = engine
        self._settler: ThreadPoolExecutor | None = None
        self._settling: _Settling | None = None

    def settle_behind(self) -> None:
        """Mark acknowledged batches delivered on a thread of their own while the next batch
        goes (a node process; the simulator and the in-process network step synchronously).

        On SQLite the write lock is the node's: its receiver holds it for a whole batch, and
        a worker that waited for it to settle the last batch, and again to read the next,
        left the next level idle that long (2.8 s of a 17 s drain of 100 k, docs/scale.md).
        Here the worker reads on a snapshot and sends on; the settler waits for the lock.
        Exactly once holds as before: a batch acknowledged but not yet settled when the
        process dies is sent again, and the receiver answers each message a duplicate."""
        self._reader = self.engine.execution_options(**SNAPSHOT_READ)
        if self._settler is None:
            self._settler = ThreadPoolExecutor(1, thread_name_prefix=f"settle-{self.node_id}")

    def close(self) -> None:
        """Wait for the batch being settled, if any, and stop the settler."""
        self._join()
        if self._settler is not None:
            self._settler.shutdown(wait=True)
            self._settler = None

    @staticmethod
    def _blocked(directory: Directory) -> frozenset[str]:
        """Peers not to send to now: disconnected ones (their traffic waits here)."""
        return frozenset(e.node_id for e in directory.entries if e.status is not NodeStatus.ACTIVE)

    def step(self) -> StepResult | None:
        """Send the next due message, with those queued behind it, if any; return what
        happened to the first."""
        if self.is_disconnected():
            return None
        directory = self.directory()
        now = self.clock.now()
        with self._reader.connect() as conn:
            msg = self._due(conn, now, self._blocked(directory))
            if msg is None and self._settling is not None:
                # nothing due but what is being settled: once it is, read again
                conn.rollback()
                self._join()
                msg = store.next_due(conn, now, self._blocked(directory))
            if msg is None:
                return None
            limit = (
                MAX_MESSAGE_BODY_BYTES if msg.peer in self._small_batches else MAX_BATCH_BODY_BYTES
            )
            batch = (
                batch_store.following(conn, msg, self.max_batch, limit)
                if self.max_batch > 1 and msg.attempts == 0
                else [msg]
            )
        try:
            endpoint = directory.require(msg.peer).endpoint
        except DirectoryError as exc:
            return self._failed(msg, "unknown_peer", str(exc))
        if len(batch) > 1:
            return self._send_batch(batch, endpoint)
        header = self._header(msg, msg.message_type, msg.schema_version, now)
        payload = signed_around(self.key, header, msg.raw_body.encode())
        try:
            reply = self.transport.send(msg.peer, endpoint, payload)
        except TransportError as exc:
            return self._failed(msg, "transport", str(exc))
        return self._settle(msg, reply)

    def _due(
        self, conn: sa.Connection, now: datetime, blocked: frozenset[str]
    ) -> store.Outgoing | None:
        """The next due message (`store.next_due`), past what the settler is marking
        delivered: that link goes on behind it if its next message is due, else None."""
        msg = store.next_due(conn, now, blocked)
        settling = self._settling
        if msg is None or settling is None:
            return msg
        if msg.peer != settling.peer or msg.seq > settling.last_seq:
            return msg
        return batch_store.due_after(conn, settling.peer, settling.last_seq, now)

    def _join(self) -> None:
        """Wait for the batch being settled. Should marking it have failed, its messages
        stay pending: they are sent again and answered as duplicates, never applied twice."""
        settling, self._settling = self._settling, None
        if settling is None:
            return
        try:
            settling.future.result()
        except Exception:
            log.exception("settling an acknowledged batch failed", node=self.node_id)

    def _mark_delivered(self, acked: list[tuple[store.Outgoing, str]]) -> None:
        with self.engine.begin() as conn:
            batch_store.mark_delivered(conn, acked, self.clock.now())

    def next_attempt_at(self) -> datetime | None:
        """When `step` will have a message to send if nothing new is queued (a retry waiting out
        its backoff), or None: how long an idle node may sleep."""
        if self.is_disconnected():
            return None
        # on the snapshot when settling behind: a read that need not wait for the write lock
        with self._reader.connect() as conn:
            return store.next_attempt_at(conn, self._blocked(self.directory()))

    def _send_batch(self, batch: list[store.Outgoing], endpoint: str) -> StepResult:
        """One signed envelope for the whole batch (named by its first message's id); each
        acknowledged message is settled, then the first one that was not, as if sent alone. A
        batch not taken at all (refused whole, unreachable) fails its first message only: it
        goes alone next time, so a fault is found on the message that has it."""
        head, now = batch[0], self.clock.now()
        payload = signed_batch(
            self.key,
            self._header(head, MESSAGE_BATCH, BATCH_VERSION, now),
            [(m.message_id, m.message_type, m.schema_version, m.seq, m.raw_body) for m in batch],
        )
        try:
            reply = self.transport.send(head.peer, endpoint, payload)
        except TransportError as exc:
            return self._failed(head, "transport", str(exc))
        if (
            not reply.items
            and reply.reason == "oversized"
            and len(payload) > MAX_ENVELOPE_BYTES
            and head.peer not in self._small_batches
        ):
            # a receiver that takes no batch larger than a message alone: nothing failed, the
            # same messages go again at once in batches it takes (ADR 0010, upgrade order)
            self._small_batches.add(head.peer)
            log.warning("peer takes only small batches", node=self.node_id, peer=head.peer)
            return StepResult(head.message_id, head.peer, head.seq, "oversized")
        if not reply.items:
            return self._failed(head, reply.reason or reply.status.value, reply.detail)
        acked: list[tuple[store.Outgoing, str]] = []
        for m, r in zip(batch, reply.items, strict=False):
            if not r.acknowledged:
                break
            acked.append((m, r.status.value))
        self._join()  # settled in the order they were sent
        if self._settler is not None and len(acked) == len(batch):
            future = self._settler.submit(self._mark_delivered, acked)
            self._settling = _Settling(future, head.peer, batch[-1].seq)
            return StepResult(head.message_id, head.peer, head.seq, reply.items[0].status.value)
        self._mark_delivered(acked)
        if len(acked) < min(len(batch), len(reply.items)):
            self._settle(batch[len(acked)], reply.items[len(acked)])
        return StepResult(head.message_id, head.peer, head.seq, reply.items[0].status.value)

    def _header(
        self, head: store.Outgoing, message_type: str, version: int, now: datetime
    ) -> dict[str, Any]:
        """Every envelope field but body and signature, for `head` (a message alone, or the
        first of a batch): signed at each attempt, so freshness is per attempt."""
        return {
            "protocol": PROTOCOL_VERSION,
            "message_id": head.message_id,
            "message_type": message_type,
            "schema_version": version,
            "sender": self.node_id,
            "recipient": head.peer,
            "created_at": now.isoformat(),
            "seq": head.seq,
        }

    def _settle(self, msg: store.Outgoing, reply: Reply) -> StepResult:
        self._join()
        now = self.clock.now()
        result = StepResult(msg.message_id, msg.peer, msg.seq, reply.status.value)
        if reply.acknowledged:
            with self.engine.begin() as conn:
                store.mark_delivered(conn, msg.outbox_id, reply.status.value, now)
            return result
        if reply.status is ReplyStatus.GAP and reply.expected_seq is not None:
            with self.engine.begin() as conn:
                rewound = store.rewind(conn, msg.peer, reply.expected_seq, now)
            log.warning(
                "gap",
                node=self.node_id,
                peer=msg.peer,
                expected=reply.expected_seq,
                rewound=rewound,
            )
            return result
        if reply.status is ReplyStatus.REFUSED and reply.reason in PERMANENT_REFUSALS:
            with self.engine.begin() as conn:
                skipped = store.mark_dead(
                    conn, msg, reply.reason, reply.detail, now, uuid7(now, self.rng)
                )
            log.error(
                "dead letter",
                node=self.node_id,
                peer=msg.peer,
                seq=msg.seq,
                reason=reply.reason,
                link_skip_queued=skipped,
            )
            return result
        self._failed(msg, reply.reason or reply.status.value, reply.detail)
        return result

    def _failed(self, msg: store.Outgoing, reason: str, detail: str) -> StepResult:
        self._join()
        now = self.clock.now()
        attempts = msg.attempts + 1
        next_at = now + self.backoff.delay(attempts, self.rng)
        with self.engine.begin() as conn:
            store.mark_retry(conn, msg.outbox_id, attempts, next_at, f"{reason}: {detail}")
        return StepResult(msg.message_id, msg.peer, msg.seq, "error")

    def drain(self, limit: int = 10_000) -> int:
        """Send until nothing is due (or `limit` steps): for tests and the simulator."""
        sent = 0
        while sent < limit and self.step() is not None:
            sent += 1
        return sent
