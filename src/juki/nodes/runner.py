"""`juki node run`: one node in its own process, serving HTTPS with mutual TLS.

A municipality also serves its public listener (ordinary TLS, no client certificate) on
`public_port`: certificate verification for anyone, in a second uvicorn server on a thread.

Three things run: uvicorn serving the node app, a stepper thread that forwards local changes
(and writes checkpoints), and a sender thread that delivers the outbox a batch at a time, so a
CS forwarding a large run of registry changes sends the first of them meanwhile. The network
code never sleeps or reads the wall clock; the waiting happens here (an `Event.wait` when there
is nothing to do), so the same network code runs under the simulator's clock elsewhere.

An idle node sleeps until there is work: it is woken, not polled. A request that may have
written something (every method but GET, HEAD and OPTIONS: a filed event, a message received,
an administrator's command) wakes both when it has been answered; a commit by another
process on the node's database (a `juki` command on it) wakes them through the database watch
(`juki.storage.watch`: LISTEN/NOTIFY on PostgreSQL, `data_version` read every 0.2 s on
SQLite); a retry waiting out its backoff or a checkpoint falls due at a time the node knows
(`Node.next_local_due`, `DeliveryWorker.next_attempt_at`), and neither sleeps longer than
that; work the stepper forwards wakes the sender. Between them, an idle wait
doubles from 50 ms up to 30 s, a safety net for work nothing announced. Polling every 50 ms
cost an idle node about 5% of a core (`python -m bench idle`).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Final, TextIO

import structlog
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from juki.core.settings import Settings
from juki.network.https import MIN_TLS_VERSION
from juki.nodes.apps import create_node_app, create_public_app
from juki.nodes.bootstrap import bootstrap, close_node
from juki.nodes.config import NodeConfig
from juki.nodes.cs_pump import pump_batch
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.node import Node
from juki.nodes.tls_peers import PeerCertificates, recording_protocol
from juki.storage.watch import DatabaseWatch

IDLE_WAIT: Final = 0.05  # seconds to wait when there is nothing to send, at first
MAX_IDLE_WAIT: Final = 30.0  # the idle waits double up to this: work not announced waits this
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
ERROR_WAIT: Final = 1.0  # after an unexpected error in a step (the database is busy, …)
# Seconds between directory refreshes. A changed directory is pushed at once (`juki network
# disconnect|reconnect` has every node refresh); the periodic fetch catches a node that missed it.
DIRECTORY_REFRESH: Final = 60.0
GATHER_CHANGES: Final = 6144  # a CS's sender waits for this many changes' steps (`Gather`)

log = structlog.get_logger("juki.nodes.runner")


def configure_logging(path: Path, node_id: str) -> TextIO:
    """JSON lines to the node's log file, from structlog and from the standard library."""
    stream = path.open("a", encoding="utf-8", buffering=1)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(node=node_id)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per message is too many
    return stream


class Stepper:
    """Calls `node.step()` (or the `step` given) until told to stop; waits when idle, longer the
    longer it is idle, until woken (`wake`) or until `due` says work falls due."""

    def __init__(
        self,
        node: Node,
        *,
        idle_wait: float = IDLE_WAIT,
        max_idle_wait: float = MAX_IDLE_WAIT,
        error_wait: float = ERROR_WAIT,
        refresh_every: float | None = DIRECTORY_REFRESH,
        monotonic: Callable[[], float] = time.monotonic,
        step: Callable[[], bool] | None = None,
        due: Callable[[], datetime | None] | None = None,
        name: str = "stepper",
    ) -> None:
        self.node = node
        self.step = step or node.step
        self.due = due or node.next_due
        self.idle_wait = idle_wait
        self.max_idle_wait = max_idle_wait
        self.error_wait = error_wait
        self.refresh_every = refresh_every
        self.monotonic = monotonic
        self.stop = threading.Event()
        self.woken = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"{name}-{node.node_id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wake(self) -> None:
        """There may be work: step now (from any thread)."""
        self.woken.set()

    def request_stop(self) -> None:
        self.stop.set()
        self.woken.set()

    def join(self, timeout: float | None = None) -> None:
        self.request_stop()
        self.thread.join(timeout)

    def _idle(self, wait: float, due_in: float) -> float:
        """Wait up to `wait` (less if work falls due sooner) or until woken; the next idle wait."""
        if self.woken.wait(min(wait, due_in)):
            self.woken.clear()
            return self.idle_wait
        return min(wait * 2, self.max_idle_wait)

    def _until_due(self) -> float:
        """Seconds until the node has work that nothing will announce (a retry, a checkpoint);
        never less than `IDLE_WAIT`, so a due time in the past cannot spin the loop."""
        due = self.due()
        if due is None:
            return math.inf
        return max((due - self.node.clock.now()).total_seconds(), IDLE_WAIT)

    def _run(self) -> None:
        next_refresh = self.monotonic()
        wait = self.idle_wait
        while not self.stop.is_set():
            try:
                if self.refresh_every is not None and self.monotonic() >= next_refresh:
                    next_refresh = self.monotonic() + self.refresh_every
                    self.node.refresh_directory()
                if self.step():
                    wait = self.idle_wait
                    continue
                due_in = self._until_due()
            except Exception as exc:  # keep delivering after a transient fault; say so
                log.exception("step failed", error=str(exc))
                self.stop.wait(self.error_wait)
                continue
            wait = self._idle(wait, due_in)


class Gather:
    """While the stepper is forwarding a run of local changes (a CS forwarding a seeded, loaded
    or reconnected population, `PUMP_BATCH` a step), the sender waits for `steps` more of
    them, for the forwarding to end, or `linger` seconds, whichever comes first, before it
    sends: the run goes up in batches of some 6,000 changes or more (`GATHER_CHANGES`; a
    batch holds up to 4 MiB, about 9,000), not one for each step of 1,024 (PostgreSQL), each of
    which every level pays a request, a signature and a commit for. A change on a quiet
    network is forwarded in one step, and the sender goes as soon as the next finds nothing
    more."""

    def __init__(
        self,
        *,
        steps: int = 6,
        linger: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.steps = steps
        self.linger = linger
        self.monotonic = monotonic
        self._changed = threading.Condition()
        self._forwarding = False
        self._forwarded = 0

    def stepped(self, forwarded: bool) -> None:
        """The stepper's last step forwarded something (or found nothing to forward)."""
        with self._changed:
            self._forwarding = forwarded
            self._forwarded += forwarded
            self._changed.notify_all()

    def wait(self) -> None:
        with self._changed:
            start, deadline = self._forwarded, self.monotonic() + self.linger
            while self._forwarding and self._forwarded - start < self.steps:
                left = deadline - self.monotonic()
                if left <= 0:
                    return
                self._changed.wait(left)


class WakeOnWrite:
    """ASGI middleware: after a request that may have written (any method but GET, HEAD,
    OPTIONS) has been answered, wake the stepper."""

    def __init__(self, app: ASGIApp, wake: Callable[[], None]) -> None:
        self.app = app
        self.wake = wake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http" and scope.get("method") not in SAFE_METHODS:
                self.wake()


def _server_ssl_context(
    config: uvicorn.Config, default: Callable[[], ssl.SSLContext]
) -> ssl.SSLContext:
    """uvicorn's context (certificate, key, CA, CERT_REQUIRED) with TLS 1.2 as the floor."""
    ctx = default()
    ctx.minimum_version = MIN_TLS_VERSION
    return ctx


def trusts_proxy_headers() -> bool:
    """Rate limits and the oplog count the peer's address: forwarded headers are believed only
    from a proxy named in FORWARDED_ALLOW_IPS (uvicorn would otherwise trust any loopback
    client's X-Forwarded-For, and a local client could pick its address)."""
    return "FORWARDED_ALLOW_IPS" in os.environ


def public_server(config: NodeConfig, node: Node, settings: Settings) -> uvicorn.Server | None:
    """A municipality's public listener: ordinary TLS with the node's certificate and no client
    certificate asked for, serving certificate verification alone (`create_public_app`)."""
    if config.public_port is None or not isinstance(node, MunicipalityNode):
        return None
    app = create_public_app(node.engine, config.certificate_settings(settings), clock=node.clock)
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.public_port,
            proxy_headers=trusts_proxy_headers(),
            ssl_certfile=config.certificate,
            ssl_keyfile=config.key,
            ssl_cert_reqs=ssl.CERT_NONE,
            ssl_context_factory=_server_ssl_context,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
        )
    )


def node_server(config: NodeConfig, app: FastAPI) -> uvicorn.Server:
    """The node's mutual-TLS server: client certificates from the network root required, and
    each connection's certificate recorded so the envelope's sender is bound to it."""
    peers = PeerCertificates()
    app.state.tls_peers = peers
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            ssl_certfile=config.certificate,
            ssl_keyfile=config.key,
            ssl_ca_certs=config.root_certificate,
            ssl_cert_reqs=ssl.CERT_REQUIRED,
            ssl_context_factory=_server_ssl_context,
            http=recording_protocol(peers),
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
        )
    )


def run_node(config_path: Path, settings: Settings) -> int:
    config = NodeConfig.load(config_path)
    if config.softhsm2_conf:  # read by SoftHSM2 when the card module is first loaded
        os.environ["SOFTHSM2_CONF"] = config.softhsm2_conf
    stream = configure_logging(Path(config.log), config.node_id)
    node = bootstrap(config)
    node.worker.settle_behind()  # the sender goes on while the last batch is settled
    app = create_node_app(node, config, settings)
    gather = Gather(steps=max(1, GATHER_CHANGES // pump_batch(node.engine.dialect.name)))

    def send() -> bool:
        gather.wait()
        return node.worker.step() is not None

    sender = Stepper(
        node, step=send, due=node.worker.next_attempt_at, refresh_every=None, name="sender"
    )

    def step_local() -> bool:
        try:
            forwarded = node.step_local()
        except BaseException:
            gather.stepped(False)  # the sender waits for no more of it
            raise
        gather.stepped(forwarded)
        if forwarded:
            sender.wake()  # what was forwarded is queued for it
        return forwarded

    stepper = Stepper(node, step=step_local, due=node.next_local_due)

    def wake() -> None:
        stepper.wake()
        sender.wake()

    app.add_middleware(WakeOnWrite, wake=wake)
    watch = DatabaseWatch(node.engine, wake) if DatabaseWatch.supported(node.engine) else None
    public = public_server(config, node, settings)
    server = node_server(config, app)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # uvicorn handles the signal while serving and raises it again once it has shut
        # down; this handler then only makes sure the stepper stops too.
        stepper.request_stop()
        sender.request_stop()
        server.should_exit = True
        if public is not None:
            public.should_exit = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("node starting", endpoint=config.endpoint, kind=config.kind.value)
    stepper.start()
    sender.start()
    if watch is not None:
        watch.start()
    public_thread = None
    if public is not None:
        public_thread = threading.Thread(target=public.run, name="public-listener", daemon=True)
        public_thread.start()
    try:
        server.run()
    finally:
        if public is not None and public_thread is not None:
            public.should_exit = True
            public_thread.join(timeout=10)
        stepper.join(timeout=30)
        sender.join(timeout=30)
        if watch is not None:
            watch.join(timeout=10)
        close_node(node)
        log.info("node stopped")
        stream.close()
    return 0 if server.started else 1
