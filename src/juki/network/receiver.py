"""Receiving: every check before the body is looked at, then apply exactly once.

Order of checks (each refusal is logged with its reason and changes nothing): size, shape and
signature presence, recipient, sender in the directory and active, signature, freshness, replay
(message id already in the inbox: acknowledged, not applied again), sequence (a gap asks the sender
for the missing number). Then the body's schema and the handler, in one transaction with the inbox
row; a genuine message that cannot be applied goes to the dead-letter list.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

import sqlalchemy as sa
import structlog

from juki.core.clock import Clock
from juki.core.errors import RuleViolation
from juki.network import authority, store
from juki.network.authority import NotAuthorised
from juki.network.batch import MAX_BATCH_ENVELOPE_BYTES, MESSAGE_BATCH
from juki.network.directory import Directory
from juki.network.envelope import MAX_ENVELOPE_BYTES, Envelope, EnvelopeError
from juki.network.messages import LINK_SKIP, LinkSkip, MessageBody, SchemaError, parse_body
from juki.network.transport import Reply, ReplyStatus

log = structlog.get_logger("juki.network.receiver")

Handler = Callable[[sa.Connection, Envelope, Any], None]
# Applies several admitted messages of one type at once (a batch's run of identity_info): all
# or nothing; when it raises, the receiver applies them one by one to find the one at fault.
BatchHandler = Callable[[sa.Connection, Sequence[tuple[Envelope, Any]]], None]
# Writes a message's inbox row: at once for a message alone, with its batch's for a batch.
Record = Callable[[Envelope, str], None]

UNAUTHORISED: Final = "unauthorised"
# Failures of the database itself (down, locked, disk full): the message is not at fault, so it
# is not acknowledged and the sender tries again. Anything else a handler raises is the message's
# own (a schema, a rule, a constraint it breaks) and makes it a dead letter.
TRANSIENT: Final = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


class NetworkEvents(Protocol):
    """What a node reports about its traffic (Prometheus in production, nothing in tests)."""

    def received(self, message_type: str, outcome: str, count: int = 1) -> None: ...

    def refused(self, reason: str) -> None: ...


class NoEvents:
    def received(self, message_type: str, outcome: str, count: int = 1) -> None:
        return None

    def refused(self, reason: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    """`max_bytes`: a message alone, a query; `max_batch_bytes`: a batch of messages.

    `large_at_once`: how many requests larger than a message alone (large batches) are parsed
    and applied at once; another waits up to `large_wait` for its turn, then is answered
    `unavailable` (busy) and sent again later. A parsed 4 MiB batch holds about 25 MB (ADR
    0010), and every prefecture draining into national at once after a 離脱 would otherwise be
    one each per request thread. On SQLite they are applied one at a time anyway (one writer);
    PostgreSQL gains nothing from more than its cores."""

    freshness: timedelta = timedelta(minutes=5)
    max_bytes: int = MAX_ENVELOPE_BYTES
    max_batch_bytes: int = MAX_BATCH_ENVELOPE_BYTES
    large_at_once: int = 4
    large_wait: timedelta = timedelta(seconds=5)


class Receiver:
    def __init__(
        self,
        engine: sa.Engine,
        node_id: str,
        directory: Callable[[], Directory],
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        is_disconnected: Callable[[], bool] = lambda: False,
        events: NetworkEvents | None = None,
        config: ReceiverConfig | None = None,
        batch_handlers: Mapping[str, BatchHandler] | None = None,
    ) -> None:
        self.engine = engine
        self.node_id = node_id
        self.directory = directory
        self.clock = clock
        self.handlers = dict(handlers)
        self.batch_handlers = dict(batch_handlers or {})
        self.is_disconnected = is_disconnected
        self.events: NetworkEvents = events or NoEvents()
        self.config = config or ReceiverConfig()
        self._large = threading.BoundedSemaphore(self.config.large_at_once)

    # -- refusals ----------------------------------------------------------------------------

    def refuse(
        self,
        reason: str,
        detail: str,
        sender: str = "?",
        message_id: str = "?",
        what: str = "message",
    ) -> Reply:
        """Count, log and record a refusal (a query's too), and the reply that says why."""
        log.warning(
            f"{what} refused", node=self.node_id, reason=reason, detail=detail, sender=sender
        )
        self.events.refused(reason)
        try:
            with self.engine.begin() as conn:
                store.record_refusal(
                    conn,
                    sender=sender,
                    message_id=message_id,
                    reason=reason,
                    detail=detail,
                    now=self.clock.now(),
                )
        except sa.exc.SQLAlchemyError:
            log.error("could not record refusal", node=self.node_id, reason=reason)
        return Reply(ReplyStatus.REFUSED, reason, detail)

    def read_limit(self, *, batch: bool) -> int:
        """The most of a request's body this node reads: a batch may be larger than a message
        alone (the messages door), a query may not."""
        return max(self.config.max_bytes, self.config.max_batch_bytes if batch else 0)

    def check(
        self, raw: bytes, tls_peer: str | None = None, *, batch: bool = False
    ) -> Envelope | Reply:
        """Every check before the body is looked at; also run on queries and their answers.
        Only where a batch may come (`batch`: the messages door) may the envelope be larger
        than a message alone, and then only a batch.

        `tls_peer` is the node the connection's client certificate names, where the transport
        knows it (`juki.nodes.tls_peers`): the envelope must be signed by that same node."""
        if self.is_disconnected():
            return Reply(
                ReplyStatus.UNAVAILABLE, "recipient_disconnected", f"{self.node_id} 離脱中"
            )
        limit = self.read_limit(batch=batch)
        try:
            env = Envelope.from_bytes(raw, max_bytes=limit)
        except EnvelopeError as exc:
            sender, mid = _claimed(raw)
            return self.refuse(exc.reason, exc.detail, sender, mid)
        who = {"sender": env.sender, "message_id": env.message_id}
        if env.message_type != MESSAGE_BATCH and len(raw) > self.config.max_bytes:
            # only a batch may be larger: what is alone here could not be retried anywhere
            detail = f"{len(raw)} bytes, limit {self.config.max_bytes} (a batch: {limit})"
            return self.refuse("oversized", detail, **who)
        if env.recipient != self.node_id:
            return self.refuse("misaddressed", f"addressed to {env.recipient}", **who)
        directory = self.directory()
        entry = directory.get(env.sender)
        if entry is None:
            return self.refuse("unknown_sender", f"{env.sender} is not in the directory", **who)
        if not directory.is_active(env.sender):
            return self.refuse("sender_disconnected", f"{env.sender} is disconnected", **who)
        if not env.has_valid_signature(directory.public_key(env.sender)):
            return self.refuse("bad_signature", "signature does not verify", **who)
        if tls_peer is not None and tls_peer != env.sender:
            return self.refuse(
                "sender_mismatch",
                f"the connection's certificate names {tls_peer}, the envelope {env.sender}",
                **who,
            )
        now = self.clock.now()
        age = now - env.created
        if age > self.config.freshness:
            return self.refuse("stale", f"signed {age} ago", **who)
        if -age > self.config.freshness:
            return self.refuse("future", f"signed {-age} ahead of this node's clock", **who)
        return env

    # -- receiving ---------------------------------------------------------------------------

    def receive(self, raw: bytes, tls_peer: str | None = None) -> Reply:
        if len(raw) <= self.config.max_bytes:
            return self._receive(raw, tls_peer)
        if not self._large.acquire(timeout=self.config.large_wait.total_seconds()):
            log.warning("large batch turned away: busy", node=self.node_id, size=len(raw))
            self.events.refused("busy")
            detail = f"{self.config.large_at_once} large batches are being applied"
            return Reply(ReplyStatus.UNAVAILABLE, "busy", detail)
        try:
            return self._receive(raw, tls_peer)
        finally:
            self._large.release()

    def _receive(self, raw: bytes, tls_peer: str | None) -> Reply:
        checked = self.check(raw, tls_peer, batch=True)
        if isinstance(checked, Reply):
            return checked
        env = checked
        try:
            if env.message_type == MESSAGE_BATCH:
                return apply_batch(self, env)
            return self._apply(env)
        except sa.exc.SQLAlchemyError as exc:
            log.error(
                "could not apply", node=self.node_id, message_id=env.message_id, error=str(exc)
            )
            return Reply(ReplyStatus.UNAVAILABLE, "storage", type(exc).__name__)

    def _apply(self, env: Envelope) -> Reply:
        now = self.clock.now()
        replayed_after: int | None = None
        with self.engine.begin() as conn:
            seen = store.inbox_outcome(conn, env.sender, env.message_id)
            if seen is not None:
                self.events.received(env.message_type, "duplicate")
                return Reply(ReplyStatus.DUPLICATE, seen)
            last = store.last_received(conn, env.sender)
            if env.seq > last + 1:
                return Reply(ReplyStatus.GAP, "gap", f"expected {last + 1}", expected_seq=last + 1)
            if env.seq <= last and env.message_type == LINK_SKIP:
                # Nothing left to skip: this number was used already. Acknowledged so the
                # sender stops, and not recorded (it applied nothing).
                return Reply(ReplyStatus.DUPLICATE, "skip_past", f"last {last}")
            if env.seq <= last:
                replayed_after = last
            else:
                reply = self._apply_in(conn, env, now)
        if replayed_after is not None:
            # Refused outside the transaction: SQLite has one writer at a time.
            return self.refuse(
                "replay",
                f"sequence {env.seq} already used (last {replayed_after})",
                env.sender,
                env.message_id,
            )
        self.events.received(env.message_type, reply.status.value)
        return reply

    def _apply_in(self, conn: sa.Connection, env: Envelope, now: datetime) -> Reply:
        record = _recorder(conn, now)
        if env.message_type == LINK_SKIP:
            return self.skip(env, record)
        try:
            body = self.admit(env)
        except Exception as exc:  # any failure of one message must not stall its link
            return self.turned_away(conn, env, exc, now, record)
        return self.run_one(conn, env, body, now, record)

    def admit(self, env: Envelope) -> Any:
        """The body, parsed, for a type this node takes from this sender; raises
        `NotAuthorised`, `SchemaError` or the schema's own error otherwise."""
        body = parse_body(env.message_type, env.schema_version, dict(env.body))
        if env.message_type not in self.handlers:
            raise SchemaError("unhandled", f"{self.node_id} does not take {env.message_type}")
        denied = authority.refusal(env, body, self.directory(), self.node_id)
        if denied is not None:
            raise NotAuthorised(denied)
        return body

    def turned_away(
        self, conn: sa.Connection, env: Envelope, exc: Exception, now: datetime, record: Record
    ) -> Reply:
        """A message `admit` would not take: refused if its sender may not send it, else a
        dead letter (it is genuine, but cannot be applied)."""
        if isinstance(exc, TRANSIENT):
            raise exc  # the database, not the message: the sender retries
        if isinstance(exc, NotAuthorised):
            return self.unauthorised(conn, env, exc.detail, now)
        return self._dead(conn, env, exc, now, record)

    def run_one(
        self, conn: sa.Connection, env: Envelope, body: Any, now: datetime, record: Record
    ) -> Reply:
        """Apply one admitted message in a savepoint: applied, a dead letter, or refused."""
        try:
            with conn.begin_nested():
                self.handlers[env.message_type](conn, env, body)
        except NotAuthorised as exc:
            return self.unauthorised(conn, env, exc.detail, now)
        except TRANSIENT:
            raise  # the database, not the message: the sender retries
        except Exception as exc:  # any failure of one message must not stall its link
            return self._dead(conn, env, exc, now, record)
        record(env, "applied")
        return Reply(ReplyStatus.APPLIED)

    def _dead(
        self, conn: sa.Connection, env: Envelope, exc: Exception, now: datetime, record: Record
    ) -> Reply:
        reason, detail = _reason(exc)
        store.add_dead_letter(
            conn,
            direction="in",
            message_id=env.message_id,
            peer=env.sender,
            seq=env.seq,
            message_type=env.message_type,
            schema_version=env.schema_version,
            body=dict(env.body),
            reason=reason,
            detail=detail,
            now=now,
        )
        record(env, "dead_letter")
        log.warning("dead letter", node=self.node_id, message_id=env.message_id, reason=reason)
        return Reply(ReplyStatus.DEAD_LETTER, reason, detail)

    def unauthorised(self, conn: sa.Connection, env: Envelope, detail: str, now: datetime) -> Reply:
        """A signed message its sender may not send: refused like a bad signature, and recorded
        with the rule it broke. Its number is not used up: the sender gives the message up (a
        dead letter there) and a `link_skip` takes the number, as for any permanent refusal."""
        log.warning(
            "message refused",
            node=self.node_id,
            reason=UNAUTHORISED,
            detail=detail,
            sender=env.sender,
            message_type=env.message_type,
        )
        self.events.refused(UNAUTHORISED)
        store.record_refusal(
            conn,
            sender=env.sender,
            message_id=env.message_id,
            reason=UNAUTHORISED,
            detail=f"{env.message_type}: {detail}",
            now=now,
        )
        return Reply(ReplyStatus.REFUSED, UNAUTHORISED, detail)

    def skip(self, env: Envelope, record: Record) -> Reply:
        """The sender gave up on this number (it holds the message as a dead letter): record the
        number as skipped, so the link goes on and the inbox shows what never came."""
        try:
            notice = parse_body(env.message_type, env.schema_version, dict(env.body))
        except SchemaError as exc:
            return Reply(ReplyStatus.REFUSED, "malformed", exc.detail)
        assert isinstance(notice, LinkSkip)
        record(env, "skipped")
        log.warning(
            "sender skipped a message",
            node=self.node_id,
            sender=env.sender,
            seq=env.seq,
            skipped_message_id=notice.skipped_message_id,
            skipped_type=notice.skipped_message_type,
            refusal=notice.refusal,
        )
        return Reply(ReplyStatus.APPLIED, "skipped")

    def replay_dead_letter(self, dead_letter_id: int) -> Reply:
        """Apply an incoming dead letter again, after an administrator fixed its cause."""
        from juki.network.tables import net_dead_letters

        now = self.clock.now()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(net_dead_letters).where(
                    (net_dead_letters.c.dead_letter_id == dead_letter_id)
                    & (net_dead_letters.c.direction == "in")
                    & net_dead_letters.c.replayed_at.is_(None)
                )
            ).first()
            if row is None:
                return Reply(
                    ReplyStatus.REFUSED, "not_found", f"no open dead letter {dead_letter_id}"
                )
            env = Envelope(
                message_id=row.message_id,
                message_type=row.message_type,
                schema_version=row.schema_version,
                sender=row.peer,
                recipient=self.node_id,
                created_at=now.isoformat(),
                seq=row.seq,
                body=json.loads(row.body),
            )
            try:
                body: MessageBody = parse_body(env.message_type, env.schema_version, dict(env.body))
                handler = self.handlers[env.message_type]
                with conn.begin_nested():
                    handler(conn, env, body)
            except TRANSIENT:
                raise
            except Exception as exc:  # reported to the administrator, not raised
                return Reply(ReplyStatus.DEAD_LETTER, "still_failing", _reason(exc)[1])
            conn.execute(
                net_dead_letters.update()
                .where(net_dead_letters.c.dead_letter_id == dead_letter_id)
                .values(replayed_at=now.isoformat())
            )
        return Reply(ReplyStatus.APPLIED, "replayed")


def apply_batch(receiver: Receiver, batch: Envelope) -> Reply:
    from juki.network.batch_receiver import BatchRun  # it builds on this module

    return BatchRun(receiver, batch).apply()


def _recorder(conn: sa.Connection, now: datetime) -> Record:
    def record(env: Envelope, outcome: str) -> None:
        store.record_received(conn, env, outcome, now)

    return record


def _reason(exc: Exception) -> tuple[str, str]:
    """The dead letter's reason: the schema's or the domain's own, else the exception's class."""
    if isinstance(exc, SchemaError):
        return exc.reason, exc.detail[:2000]
    if isinstance(exc, RuleViolation):
        return exc.rule[:32], f"{exc} — {exc.message_ja}"[:2000]
    return type(exc).__name__[:32], str(exc)[:2000] or type(exc).__name__


def _claimed(raw: bytes) -> tuple[str, str]:
    """Best-effort sender and id of a message that failed to parse, for the refusal log."""
    try:
        data = json.loads(raw[:MAX_ENVELOPE_BYTES])
        return str(data.get("sender", "?"))[:64], str(data.get("message_id", "?"))[:64]
    except (ValueError, AttributeError, UnicodeDecodeError):
        return "?", "?"
