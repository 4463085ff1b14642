"""What every node is: an identity, a database, the directory, a receiver and a delivery worker.

The same objects run in a node's own process (over HTTPS) and, many at once, inside the
simulator (over the in-memory transport): nothing here reads the wall clock, sleeps, or builds
anything at import time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import sqlalchemy as sa
import structlog
from cryptography import x509

from juki.core.clock import Clock
from juki.core.ports import OpLogEntry, Outcome
from juki.network import batch_store, pki, store
from juki.network.delivery import DeliveryWorker
from juki.network.directory import Directory, DirectoryError, NodeKind
from juki.network.envelope import Envelope, uuid7
from juki.network.messages import (
    CURRENT_VERSION,
    MessageBody,
    OplogCheckpoint,
    body_of,
    type_of,
)
from juki.network.receiver import (
    BatchHandler,
    Handler,
    NetworkEvents,
    NoEvents,
    Receiver,
)
from juki.network.transport import QueryTransport, Reply, ReplyStatus, Transport
from juki.nodes import checkpoints, queries
from juki.nodes.digest import Digest
from juki.nodes.identity import copies_digest
from juki.nodes.queries import QueryHandler
from juki.security.actors import Actor
from juki.security.store import append_entry, chain_head
from juki.storage.standby import Standby

log = structlog.get_logger("juki.nodes")

DIRECTORY_KEY = "directory"
DISCONNECTED_KEY = "disconnected"
LAST_CHECK_KEY = "last_digest_check"


@dataclass(frozen=True)
class NodeIdentity:
    node_id: str
    kind: NodeKind
    key: pki.PrivateKey
    certificate: x509.Certificate


class Node:
    kind: ClassVar[NodeKind]
    # How often the node signs a checkpoint of its oplog chain head and sends it to its parent
    # (when the chain grew since the last one); None: only on demand (`checkpoint`).
    checkpoint_interval: timedelta | None = None
    # A hot standby provision reads from (`juki.storage.standby`); None: the node's database.
    standby: Standby | None = None
    _next_checkpoint_at: datetime | None = None

    def __init__(
        self,
        *,
        engine: sa.Engine,
        identity: NodeIdentity,
        root: x509.Certificate,
        transport: Transport,
        clock: Clock,
        rng: random.Random,
        fetch_directory: Callable[[], bytes] | None = None,
        events: NetworkEvents | None = None,
        query_transport: QueryTransport | None = None,
    ) -> None:
        if identity.kind is not self.kind:
            raise ValueError(f"{identity.node_id} is a {identity.kind}, not a {self.kind}")
        self.engine = engine
        self.identity = identity
        self.node_id = identity.node_id
        self.root = root
        self.clock = clock
        self.rng = rng
        self.fetch_directory = fetch_directory
        self.query_transport = query_transport
        self.events: NetworkEvents = events or NoEvents()
        self._directory: Directory | None = None
        self._disconnected: bool | None = None
        self.receiver = Receiver(
            engine,
            self.node_id,
            self.directory,
            clock,
            self.handlers(),
            is_disconnected=self.is_disconnected,
            events=self.events,
            batch_handlers=self.batch_handlers(),
        )
        self.worker = DeliveryWorker(
            engine,
            self.node_id,
            identity.key,
            self.directory,
            transport,
            clock,
            rng,
            is_disconnected=self.is_disconnected,
        )

    # -- what a kind adds ------------------------------------------------------------------

    def handlers(self) -> Mapping[str, Handler]:
        return {}

    def batch_handlers(self) -> Mapping[str, BatchHandler]:
        """Handlers that apply a batch's run of one type at once (`juki.network.batch_receiver`)."""
        return {}

    def pump(self) -> int:
        """Work the node does on its own (a CS forwarding its registry's changes)."""
        return 0

    def digests(self) -> list[Digest]:
        with self.engine.connect() as conn:
            return [copies_digest(conn, lg) for lg in self.covered_lg_codes()]

    def covered_lg_codes(self) -> list[str]:
        directory = self.directory()
        return [e.node_id for e in directory.of_kind(NodeKind.MUNICIPALITY)]

    # -- directory ---------------------------------------------------------------------------

    def directory(self) -> Directory:
        if self._directory is None:
            with self.engine.connect() as conn:
                raw = store.get_state(conn, DIRECTORY_KEY)
            if raw is None:
                self.refresh_directory()
                if self._directory is None:
                    raise DirectoryError(f"{self.node_id} has no directory yet")
            else:
                self._directory = Directory.from_bytes(raw.encode(), self.root, self.clock.now())
        return self._directory

    def install_directory(self, raw: bytes) -> bool:
        """Keep a newer directory if the root signed it; an older or forged one changes nothing."""
        candidate = Directory.from_bytes(raw, self.root, self.clock.now())
        current = self._directory
        if current is None:
            with self.engine.connect() as conn:
                stored = store.get_state(conn, DIRECTORY_KEY)
            if stored is not None:
                current = Directory.from_bytes(stored.encode(), self.root, self.clock.now())
        if current is not None and candidate.serial <= current.serial:
            self._directory = current
            return False
        if candidate.get(self.node_id) is None:
            raise DirectoryError(f"the directory does not list {self.node_id}")
        with self.engine.begin() as conn:
            store.set_state(conn, DIRECTORY_KEY, candidate.to_bytes().decode())
        self._directory = candidate
        return True

    def refresh_directory(self) -> bool:
        """Fetch and keep a newer directory; False when there is none or it failed. A failed
        write (disk full) is a failed refresh like a failed fetch: the old directory stays in
        use and the next refresh tries again, so callers' loops never die of it."""
        if self.fetch_directory is None:
            return False
        try:
            return self.install_directory(self.fetch_directory())
        except (DirectoryError, OSError, sa.exc.SQLAlchemyError) as exc:
            log.warning("directory refresh failed", node=self.node_id, error=str(exc))
            return False

    @property
    def parent(self) -> str | None:
        return self.directory().require(self.node_id).parent

    # -- disconnect (離脱) --------------------------------------------------------------------

    def is_disconnected(self) -> bool:
        if self._disconnected is None:
            with self.engine.connect() as conn:
                self._disconnected = store.get_state(conn, DISCONNECTED_KEY) == "1"
        return self._disconnected

    def set_disconnected(
        self,
        disconnected: bool,
        by: Actor | None = None,
        record: Callable[[sa.Connection], str] | None = None,
    ) -> None:
        """離脱 or back; with `by`, the oplog says who did it, in the same transaction, and
        `record` (the decision, `juki.nodes.disconnection`) is written there too, its return
        value the oplog entry's detail."""
        with self.engine.begin() as conn:
            store.set_state(conn, DISCONNECTED_KEY, "1" if disconnected else "0")
            detail = record(conn) if record is not None else ""
            if by is not None:
                action = "disconnect_node" if disconnected else "reconnect_node"
                self.log_operation(conn, by, action, self.node_id, detail=detail)
        self._disconnected = disconnected
        log.info("disconnect" if disconnected else "reconnect", node=self.node_id)

    # -- sending and stepping ----------------------------------------------------------------

    def send(self, conn: sa.Connection, peer: str, message: MessageBody) -> None:
        """Queue a message in the caller's transaction (the transactional outbox)."""
        name = type_of(message)
        store.enqueue(
            conn,
            peer=peer,
            message_type=name,
            schema_version=CURRENT_VERSION[name],
            body=body_of(message),
            message_id=uuid7(self.clock.now(), self.rng),
            now=self.clock.now(),
        )

    def send_many(self, conn: sa.Connection, peer: str, messages: Sequence[MessageBody]) -> None:
        """Queue several messages for `peer` in the caller's transaction, in order: as `send`
        one by one, with one read and one write of the link for them all."""
        now = self.clock.now()
        queued = []
        for message in messages:
            name = type_of(message)
            queued.append((name, CURRENT_VERSION[name], body_of(message), uuid7(now, self.rng)))
        batch_store.enqueue(conn, peer, queued, now)

    def replay_dead_letter(self, dead_letter_id: int) -> Reply:
        """An administrator's replay: an incoming dead letter is applied again; an outgoing one
        is queued again for its peer (a new message id and sequence number)."""
        with self.engine.connect() as conn:
            direction = store.dead_letter_direction(conn, dead_letter_id)
        if direction != "out":
            return self.receiver.replay_dead_letter(dead_letter_id)
        now = self.clock.now()
        with self.engine.begin() as conn:
            seq = store.requeue_dead_letter(conn, dead_letter_id, uuid7(now, self.rng), now)
        if seq is None:
            return Reply(ReplyStatus.REFUSED, "not_found", f"no open dead letter {dead_letter_id}")
        log.info("dead letter queued again", node=self.node_id, dead_letter=dead_letter_id, seq=seq)
        return Reply(ReplyStatus.APPLIED, "queued", f"sequence {seq}")

    def step(self) -> bool:
        """Do one unit of work: forward local changes, else a checkpoint when one is due, else
        send one batch (a node process sends on a thread of its own: `juki.nodes.runner`)."""
        return self.step_local() or self.worker.step() is not None

    def step_local(self) -> bool:
        return bool(self.pump()) or self.maybe_checkpoint()

    def next_due(self) -> datetime | None:
        """When there is work without anything new arriving (a retry, a checkpoint), or None:
        the stepper of an idle node sleeps until then, or until it is woken."""
        due = (self.worker.next_attempt_at(), self.next_local_due())
        return min((d for d in due if d is not None), default=None)

    def next_local_due(self) -> datetime | None:
        return self._next_checkpoint_at if self.checkpoint_interval is not None else None

    # -- the operation log: entries, checkpoints ---------------------------------------------

    def log_operation(
        self,
        conn: sa.Connection,
        by: Actor,
        action: str,
        target: str,
        outcome: Outcome = "ok",
        detail: str = "",
        *,
        my_number_shown: bool = False,
    ) -> None:
        """Append an entry to this node's oplog in the caller's transaction (node administration,
        lookups, checkpoints received)."""
        append_entry(
            conn,
            OpLogEntry(
                at=self.clock.now(),
                actor_id=by.actor_id,
                role=by.role.value,
                terminal_id=by.terminal_id,
                action=action,
                target=target[:400],
                outcome=outcome,
                detail=detail[:500],
                purpose=by.purpose[:200],
                my_number_shown=my_number_shown,
            ),
        )

    def checkpoint(self) -> OplogCheckpoint:
        """Sign the chain head now, keep it, and send it to the parent (national has none)."""
        parent = self.parent  # before the transaction: it may read the directory
        with self.engine.begin() as conn:
            signed = checkpoints.make_checkpoint(
                conn, self.node_id, self.identity.key, self.clock.now()
            )
            if parent is not None:
                self.send(conn, parent, signed)
        log.info("oplog checkpoint", node=self.node_id, seq=signed.seq)
        return signed

    def maybe_checkpoint(self) -> bool:
        """A checkpoint when the interval has passed and the chain grew since the last one."""
        if self.checkpoint_interval is None:
            return False
        now = self.clock.now()
        if self._next_checkpoint_at is not None and now < self._next_checkpoint_at:
            return False
        self._next_checkpoint_at = now + self.checkpoint_interval
        with self.engine.connect() as conn:
            last = checkpoints.last_own_seq(conn)
            head, _ = chain_head(conn)
        if head <= (last if last is not None else 0):  # nothing new since (or nothing yet)
            return False
        self.checkpoint()
        return True

    def _on_checkpoint(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        """A child's checkpoint (authority checked it is the child's own, to its parent)."""
        checkpoint: OplogCheckpoint = body
        cert = pki.cert_from_pem(self.directory().require(env.sender).certificate_pem)
        checkpoints.keep_child_checkpoint(
            conn, checkpoint, cert, self.node_id, self.identity.key, self.clock.now()
        )
        self.log_operation(
            conn,
            Actor.system(self.node_id),
            "countersign_oplog_checkpoint",
            f"{checkpoint.node_id}:{checkpoint.seq}",
        )

    def drain(self, limit: int = 100_000) -> int:
        done = 0
        while done < limit and self.step():
            done += 1
        return done

    # -- queries: a signed question, a signed answer, while someone waits ---------------------

    def query_handlers(self) -> Mapping[str, QueryHandler]:
        return {}

    def answer(self, raw: bytes, tls_peer: str | None = None) -> bytes | Reply:
        """Answer a query envelope, or say why not (`juki.nodes.queries.answer`)."""
        return queries.answer(self, raw, tls_peer)

    def ask(
        self, peer: str, question: MessageBody, answer_type: str
    ) -> tuple[Envelope, Envelope, Any]:
        """Send a signed question and return (question, answer envelope, answer body)
        (`juki.nodes.queries.ask`)."""
        return queries.ask(self, peer, question, answer_type)

    # -- operations -------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        now = self.clock.now()
        with self.engine.connect() as conn:
            queues = store.queues(conn)
            dead = store.dead_letter_count(conn)
            last_check = store.get_state(conn, LAST_CHECK_KEY)
        oldest = [q.oldest_created_at for q in queues if q.oldest_created_at]
        oldest_age = (
            (now - min(datetime.fromisoformat(o) for o in oldest)).total_seconds()
            if oldest
            else None
        )
        try:
            serial: int | None = self.directory().serial
        except DirectoryError:
            serial = None
        return {
            "node_id": self.node_id,
            "kind": self.kind.value,
            "disconnected": self.is_disconnected(),
            "directory_serial": serial,
            "queues": {q.peer: q.pending for q in queues},
            "pending": sum(q.pending for q in queues),
            "oldest_undelivered_age_s": oldest_age,
            "dead_letters": dead,
            "last_digest_check": last_check,
        }

    def record_check(self, summary: str) -> None:
        with self.engine.begin() as conn:
            store.set_state(conn, LAST_CHECK_KEY, summary)
