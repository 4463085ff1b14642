"""A node's door for other nodes (`/net/v1/*`: messages, queries, the directory) and its
service routes (`/health`, `/metrics`).

The network routes are `public` at the HTTP level: the server requires a client certificate
issued by the network root (mutual TLS, enforced by the runner's TLS settings), and each
envelope's signature names the sending node, which the receiver checks before anything else.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from juki.network.https import (
    DIRECTORY_PATH,
    ENVELOPE_CONTENT_TYPE,
    MESSAGES_PATH,
    QUERIES_PATH,
    status_code_for,
)
from juki.network.transport import Reply
from juki.nodes.metrics import NodeMetrics
from juki.nodes.national import NationalNode
from juki.nodes.node import Node
from juki.nodes.tls_peers import PeerCertificates
from juki.web.auth import PUBLIC


async def read_limited(request: Request, limit: int) -> bytes:
    """At most `limit + 1` bytes of the body: enough for the receiver to refuse an oversized
    message (and log it) without this node ever holding more than that."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break  # the rest is never read
    return b"".join(chunks)[: limit + 1]


def network_router(node: Node) -> APIRouter:
    router = APIRouter(tags=["network"])

    def tls_peer(request: Request) -> str | Reply | None:
        """The node the connection's client certificate names, where the server records it
        (`juki.nodes.tls_peers`, as `juki node run` does); a connection it cannot name is
        refused there. An app served without it (tests in one process) binds nothing."""
        peers: PeerCertificates | None = getattr(request.app.state, "tls_peers", None)
        if peers is None:
            return None
        client = request.client
        named = peers.node_of((client.host, client.port) if client else None)
        if named is None:
            return node.receiver.refuse(
                "no_client_certificate", "the connection presented no node certificate"
            )
        return named

    @router.post(
        MESSAGES_PATH,
        dependencies=[PUBLIC],
        responses={
            200: {"description": "applied, duplicate or dead_letter (acknowledged)"},
            400: {"description": "refused: malformed, unsigned or misaddressed"},
            403: {"description": "refused: unknown or disconnected sender, bad signature …"},
            409: {"description": "gap: send `expected_seq` first"},
            413: {"description": "refused: oversized"},
            503: {"description": "unavailable: disconnected (離脱) or storage trouble"},
        },
    )
    async def receive_message(request: Request) -> JSONResponse:
        """One signed envelope from another node (mutual TLS + envelope signature): a message,
        or a batch of them (larger; each message in it no larger than it could be alone)."""
        raw = await read_limited(request, node.receiver.read_limit(batch=True))
        peer = tls_peer(request)
        if isinstance(peer, Reply):
            return JSONResponse(status_code=status_code_for(peer), content=peer.as_json())
        reply = await run_in_threadpool(node.receiver.receive, raw, peer)
        return JSONResponse(status_code=status_code_for(reply), content=reply.as_json())

    @router.post(
        QUERIES_PATH,
        dependencies=[PUBLIC],
        responses={
            200: {
                "description": "the signed answer envelope (広域交付: certificate content)",
                "content": {ENVELOPE_CONTENT_TYPE: {}},
            },
            400: {"description": "refused: malformed, unsigned or misaddressed"},
            403: {"description": "refused: unknown or disconnected sender, bad signature, replay"},
            413: {"description": "refused: oversized"},
            503: {"description": "unavailable: disconnected (離脱) or storage trouble"},
        },
    )
    async def answer_query(request: Request) -> Response:
        """One signed question from another node, answered at once with a signed envelope."""
        raw = await read_limited(request, node.receiver.read_limit(batch=False))
        peer = tls_peer(request)
        if isinstance(peer, Reply):
            return JSONResponse(status_code=status_code_for(peer), content=peer.as_json())
        started = time.perf_counter()
        answer = await run_in_threadpool(node.answer, raw, peer)
        if isinstance(answer, Reply):
            return JSONResponse(status_code=status_code_for(answer), content=answer.as_json())
        # how long the answer took to make (a kiosk certificate: open, check, render, sign,
        # seal), for the asking node's timing (`HttpsTransport.last_server_timing`); no content
        took = f"answer;dur={(time.perf_counter() - started) * 1000:.1f}"
        return Response(answer, media_type=ENVELOPE_CONTENT_TYPE, headers={"server-timing": took})

    if isinstance(node, NationalNode):
        national = node

        @router.get(DIRECTORY_PATH, dependencies=[PUBLIC])
        def directory() -> Response:
            """The directory of nodes, signed by the network root; nodes verify it themselves."""
            return Response(national.directory_bytes(), media_type="application/json")

    return router


def service_router(node: Node, metrics: NodeMetrics) -> APIRouter:
    router = APIRouter(tags=["service"])

    @router.get("/health", dependencies=[PUBLIC])
    def health() -> JSONResponse:
        """Liveness (死活監視): the node's database answers."""
        try:
            with node.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return JSONResponse(
                status_code=503, content={"status": "unavailable", "node_id": node.node_id}
            )
        return JSONResponse({"status": "ok", "node_id": node.node_id, "kind": node.kind.value})

    @router.get("/metrics", dependencies=[PUBLIC])
    def prometheus_metrics() -> Response:
        """Prometheus text format: traffic counters and queue gauges."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
