"""Receiving a batch: each message through the checks it would pass alone, in one transaction.

The batch's envelope has passed the receiver's checks (size, recipient, sender in the directory
and connected, signature, freshness); then each message in order: an id already in the inbox is
acknowledged again and not applied; a number past the next is a gap; a number already used is a
replay; the body's schema, a handler for its type and the sender's authority for that type
(`juki.network.authority`), exactly as for a message alone. The first message that is not
acknowledged ends the batch: the ones before it commit with their inbox rows and the link's
number in one transaction, the ones after it are not looked at, and the reply says so message by
message. A crash before the commit leaves nothing; the sender sends the batch again.

A run of admitted messages goes to the node's batch handlers in one savepoint when its types
have them (identity_info and 附票本人確認情報: a few statements for the run, not a few per
message; such types touch state of their own, so a run mixing them is applied type by type); if
that raises, the savepoint is rolled back and the run applied message by message in its order,
which finds the one at fault and makes it a dead letter, as it would have been alone.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from juki.network import batch_store, store
from juki.network.batch import unpack
from juki.network.envelope import Envelope, EnvelopeError
from juki.network.messages import LINK_SKIP
from juki.network.receiver import TRANSIENT, Receiver
from juki.network.transport import Reply, ReplyStatus

# Set in a connection's `info` while it applies a batch (to the batch's id): what the
# connection is doing, for whoever watches its statements (the simulator crashes a node here).
APPLYING_BATCH: Final = "juki.applying_batch"


class BatchRun:
    """One batch being applied: its replies so far and the inbox rows to write with them."""

    def __init__(self, receiver: Receiver, batch: Envelope) -> None:
        self.receiver = receiver
        self.batch = batch
        self.replies: list[Reply] = []
        self.received: list[tuple[Envelope, str]] = []
        self.run: list[tuple[Envelope, Any]] = []  # admitted, waiting to be applied together

    def record(self, env: Envelope, outcome: str) -> None:
        self.received.append((env, outcome))

    def apply(self) -> Reply:
        receiver, batch = self.receiver, self.batch
        try:
            items = unpack(batch)
        except EnvelopeError as exc:
            return receiver.refuse(exc.reason, exc.detail, batch.sender, batch.message_id)
        now = receiver.clock.now()
        with receiver.engine.begin() as conn:
            conn.info[APPLYING_BATCH] = batch.message_id
            try:
                replayed = self._apply_all(conn, items, now)
                batch_store.record_received(conn, self.received, now)
            finally:
                conn.info.pop(APPLYING_BATCH, None)
        if replayed is not None:  # refused outside the transaction: SQLite has one writer
            env, last = replayed
            self.replies.append(
                receiver.refuse(
                    "replay",
                    f"sequence {env.seq} already used (last {last})",
                    env.sender,
                    env.message_id,
                )
            )
        counted = Counter(
            (env.message_type, reply.status.value)
            for env, reply in zip(items, self.replies, strict=False)
        )
        for (message_type, outcome), count in counted.items():  # one update per kind, not each
            receiver.events.received(message_type, outcome, count)
        return Reply(
            ReplyStatus.APPLIED,
            "batch",
            f"{len(self.replies)} of {len(items)} messages answered",
            items=tuple(self.replies),
        )

    def _apply_all(
        self, conn: sa.Connection, items: list[Envelope], now: datetime
    ) -> tuple[Envelope, int] | None:
        """Apply in order until one is not acknowledged; a replay (refused after the
        transaction) is returned with the link's last number."""
        receiver, sender = self.receiver, self.batch.sender
        seen = batch_store.inbox_outcomes(conn, sender, [i.message_id for i in items])
        last = store.last_received(conn, sender)
        for env in items:
            if env.message_id in seen:
                if not self._flush(conn, now):
                    return None
                self.replies.append(Reply(ReplyStatus.DUPLICATE, seen[env.message_id]))
                continue
            if env.seq > last + 1:
                self._flush(conn, now)
                self.replies.append(
                    Reply(ReplyStatus.GAP, "gap", f"expected {last + 1}", expected_seq=last + 1)
                )
                return None
            if env.seq <= last and env.message_type == LINK_SKIP:
                if not self._flush(conn, now):
                    return None
                self.replies.append(Reply(ReplyStatus.DUPLICATE, "skip_past", f"last {last}"))
                continue
            if env.seq <= last:
                return None if not self._flush(conn, now) else (env, last)
            last = env.seq
            if not self._joins_run(env) and not self._flush(conn, now):
                return None
            if env.message_type == LINK_SKIP:
                if not self._flush(conn, now):
                    return None
                if not self._answered(receiver.skip(env, self.record)):
                    return None
                continue
            try:
                admitted = receiver.admit(env)
            except Exception as exc:  # any failure of one message must not stall its link
                if not self._flush(conn, now):
                    return None
                if not self._answered(receiver.turned_away(conn, env, exc, now, self.record)):
                    return None
                continue
            self.run.append((env, admitted))
        self._flush(conn, now)
        return None

    def _answered(self, reply: Reply) -> bool:
        self.replies.append(reply)
        return reply.acknowledged

    def _joins_run(self, env: Envelope) -> bool:
        """Whether `env` may wait with the run: of its type, or both of types applied together
        (each such type has a batch handler and touches state of its own, so a run holding
        several is applied type by type, each in its order)."""
        if not self.run:
            return True
        together = self.receiver.batch_handlers
        first = self.run[0][0].message_type
        return env.message_type == first or (env.message_type in together and first in together)

    def _flush(self, conn: sa.Connection, now: datetime) -> bool:
        """Apply the waiting run: together when its types have batch handlers, else (or when
        that fails) one by one. False when one was refused: the batch ends there."""
        run, self.run = self.run, []
        if not run:
            return True
        receiver = self.receiver
        by_type: dict[str, list[tuple[Envelope, Any]]] = {}
        for env, body in run:
            by_type.setdefault(env.message_type, []).append((env, body))
        if len(run) > 1 and all(t in receiver.batch_handlers for t in by_type):
            try:
                with conn.begin_nested():
                    for message_type, of_type in by_type.items():
                        receiver.batch_handlers[message_type](conn, of_type)
            except TRANSIENT:
                raise
            except Exception:  # noqa: S110 - one by one below finds the message at fault
                pass
            else:
                for env, _ in run:
                    self.record(env, "applied")
                    self.replies.append(Reply(ReplyStatus.APPLIED))
                return True
        for env, body in run:
            if not self._answered(receiver.run_one(conn, env, body, now, self.record)):
                return False
        return True
