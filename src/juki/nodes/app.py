"""The ASGI app of one node: the network door, health and metrics, and the admin API.

Who may call what:
- `/net/v1/*` is for other nodes. The server requires a client certificate issued by the network
  root (mutual TLS, enforced by the runner's TLS settings), and each envelope's signature names
  the sending node; the routes themselves are therefore marked `public`.
- `/health` and `/metrics` are `public` too (a monitor with a console certificate reads them).
- `/admin/v1/*` needs the node's admin token (`Authorization: Bearer …`): status, digests,
  disconnect/reconnect, dead letters, repair, and on the national node the directory status
  and the first version of the agencies' lookups (protected by the admin token until the
  provision issue brings agencies, permitted tasks and disclosure).
- A municipality also serves its registry API under `/registry` for counter terminals,
  with operator tokens as everywhere else.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import date
from typing import Annotated, Any, Final, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from juki.core.errors import JukiError
from juki.network.directory import DirectoryError, NodeStatus
from juki.network.https import (
    DIRECTORY_PATH,
    ENVELOPE_CONTENT_TYPE,
    MESSAGES_PATH,
    QUERIES_PATH,
    status_code_for,
)
from juki.network.transport import Reply, ReplyStatus
from juki.nodes.config import NodeConfig, token_sha256
from juki.nodes.metrics import NodeMetrics
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.national import NationalNode
from juki.nodes.node import Node
from juki.nodes.wide_area import CsContentSource
from juki.settings import Settings
from juki.storage.tables import net_dead_letters, outbox
from juki.web.auth import PUBLIC
from juki.web.errors import install_error_handlers
from juki.web.registry_api import create_registry_app

ADMIN_PREFIX: Final = "/admin/v1"
MAX_TOKEN_LEN: Final = 256
DEAD_LETTER_LIMIT: Final = 500


# -- the admin marker -------------------------------------------------------------------------


class AdminAuthenticationRequired(JukiError):
    """No admin token, or the wrong one."""

    message_en = "the node's admin token is required"
    message_ja = "このノードの管理者トークンが必要です"


_admin_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="adminToken",
    description="The node's admin token (管理者トークン), from DIR/<node id>/admin-token.",
)


def admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_bearer)],
) -> None:
    """Marker and check: the caller holds this node's admin token.

    Only the token's SHA-256 is configured; comparing digests in constant time leaks nothing
    about the token through timing.
    """
    expected: str = request.app.state.admin_token_sha256
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AdminAuthenticationRequired()
    token = credentials.credentials
    if not token or len(token) > MAX_TOKEN_LEN:
        raise AdminAuthenticationRequired()
    if not hmac.compare_digest(token_sha256(token), expected):
        raise AdminAuthenticationRequired()


ADMIN: Final = Depends(admin)


async def _on_admin_unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=401,
        content={
            "detail": AdminAuthenticationRequired.message_en,
            "type": "authentication_required",
            "msg_ja": AdminAuthenticationRequired.message_ja,
        },
        headers={"WWW-Authenticate": "Bearer"},
    )


def _not_found(what: str, detail_ja: str) -> JSONResponse:
    return JSONResponse(
        status_code=404, content={"detail": what, "type": "not_found", "msg_ja": detail_ja}
    )


# -- request bodies ------------------------------------------------------------------------------


class CheckResultIn(BaseModel):
    summary: Annotated[str, Field(min_length=1, max_length=4000)]


class NodeStatusIn(BaseModel):
    status: NodeStatus


# -- routes ----------------------------------------------------------------------------------------


async def _read_limited(request: Request, limit: int) -> bytes:
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


def _network_router(node: Node) -> APIRouter:
    router = APIRouter(tags=["network"])
    limit = node.receiver.config.max_bytes

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
        """One signed envelope from another node (mutual TLS + envelope signature)."""
        raw = await _read_limited(request, limit)
        reply = await run_in_threadpool(node.receiver.receive, raw)
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
        raw = await _read_limited(request, limit)
        answer = await run_in_threadpool(node.answer, raw)
        if isinstance(answer, Reply):
            return JSONResponse(status_code=status_code_for(answer), content=answer.as_json())
        return Response(answer, media_type=ENVELOPE_CONTENT_TYPE)

    if isinstance(node, NationalNode):
        national = node

        @router.get(DIRECTORY_PATH, dependencies=[PUBLIC])
        def directory() -> Response:
            """The directory of nodes, signed by the network root; nodes verify it themselves."""
            return Response(national.directory_bytes(), media_type="application/json")

    return router


def _service_router(node: Node, metrics: NodeMetrics) -> APIRouter:
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


def node_status(node: Node) -> dict[str, Any]:
    """`Node.status()`, plus registry changes the municipality's CS has not forwarded yet."""
    status = node.status()
    status["name"] = node.directory().require(node.node_id).name
    if isinstance(node, MunicipalityNode):
        with node.engine.connect() as conn:
            status["registry_outbox"] = int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(outbox.c.delivered_at.is_(None))
                ).scalar_one()
            )
    else:
        status["registry_outbox"] = 0
    return status


def _admin_router(node: Node) -> APIRouter:
    router = APIRouter(prefix=ADMIN_PREFIX, tags=["admin"], dependencies=[ADMIN])

    @router.get("/status")
    def status() -> dict[str, Any]:
        """Queues, oldest undelivered age, dead letters, disconnect flag, last digest check."""
        return node_status(node)

    @router.get("/digests")
    def digests() -> list[dict[str, Any]]:
        """Count and hash of identity_info per municipality this node holds."""
        return [d.as_json() for d in node.digests()]

    @router.post("/disconnect")
    def disconnect() -> dict[str, Any]:
        """離脱: stop sending and receiving; traffic waits in the outboxes."""
        node.set_disconnected(True)
        return {"node_id": node.node_id, "disconnected": True}

    @router.post("/reconnect")
    def reconnect() -> dict[str, Any]:
        """Back on the network: the queues drain in order."""
        node.set_disconnected(False)
        return {"node_id": node.node_id, "disconnected": False}

    @router.post("/directory/refresh")
    def refresh_directory() -> dict[str, Any]:
        """Fetch the national directory now instead of at the next periodic refresh."""
        changed = node.refresh_directory()
        return {"changed": changed, "serial": node.directory().serial}

    @router.post("/check-result")
    def check_result(body: CheckResultIn) -> dict[str, Any]:
        """Record the outcome of the last digest comparison (`juki network check`)."""
        node.record_check(body.summary)
        return {"recorded": True}

    @router.get("/dead-letters")
    def dead_letters() -> list[dict[str, Any]]:
        """Open dead letters, without their bodies (they hold identity_info)."""
        d = net_dead_letters.c
        with node.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    d.dead_letter_id,
                    d.direction,
                    d.message_id,
                    d.peer,
                    d.seq,
                    d.message_type,
                    d.reason,
                    d.detail,
                    d.at,
                )
                .where(d.replayed_at.is_(None))
                .order_by(d.dead_letter_id)
                .limit(DEAD_LETTER_LIMIT)
            ).mappings()
            return [dict(r) for r in rows]

    @router.post("/dead-letters/{dead_letter_id}/replay")
    def replay(dead_letter_id: Annotated[int, Path(ge=1)]) -> JSONResponse:
        """Once its cause is fixed: apply an incoming dead letter again, or queue an outgoing
        one again for its peer."""
        reply = node.replay_dead_letter(dead_letter_id)
        if reply.reason == "not_found":
            return _not_found(reply.detail, "未処理のデッドレターが見つかりません")
        applied = reply.status is ReplyStatus.APPLIED
        return JSONResponse(reply.as_json(), status_code=200 if applied else 409)

    if isinstance(node, MunicipalityNode):
        municipality = node

        @router.post("/snapshot")
        def snapshot() -> dict[str, Any]:
            """Repair: send the whole identity_info set up to the prefecture and national."""
            snapshot_id = str(uuid.UUID(int=municipality.rng.getrandbits(128), version=4))
            count = municipality.send_snapshot(snapshot_id)
            return {"snapshot_id": snapshot_id, "entries": count}

    if isinstance(node, NationalNode):
        _national_routes(router, node)
    return router


def _national_routes(router: APIRouter, national: NationalNode) -> None:
    @router.post("/nodes/{node_id}/status")
    def set_node_status(
        node_id: Annotated[str, Path(max_length=16)], body: NodeStatusIn
    ) -> JSONResponse:
        """Mark a node disconnected (離脱) or active in a newly signed directory."""
        try:
            directory = national.set_node_status(node_id, body.status)
        except DirectoryError as exc:
            return _not_found(str(exc), f"ノード {node_id} はディレクトリにありません")
        return JSONResponse(
            {"node_id": node_id, "status": body.status.value, "serial": directory.serial}
        )

    @router.get("/lookup/resident-code/{resident_code}")
    def lookup_by_code(resident_code: Annotated[str, Path(max_length=11)]) -> list[dict[str, Any]]:
        """本人確認情報 by 住民票コード (first version of agency provision)."""
        return national.lookup_by_code(resident_code)

    @router.get("/lookup/basic")
    def lookup_basic(
        name_kana: Annotated[str, Query(min_length=1, max_length=128)],
        birth_date: date,
        sex: Literal["male", "female"] | None = None,
        address: Annotated[str | None, Query(max_length=200)] = None,
    ) -> list[dict[str, Any]]:
        """本人確認情報 by the basic items (基本4情報): reading, birth date, sex, address prefix."""
        return list(
            national.lookup_by_basic_items(
                name_kana=name_kana, birth_date=birth_date, sex=sex, address_prefix=address
            )
        )


def create_node_app(node: Node, config: NodeConfig) -> FastAPI:
    """Build the node's app; the node's receiver reports to this app's metrics."""
    app = FastAPI(
        title=f"juki node {node.node_id}",
        description=f"{config.name} ({node.kind.value}) — 住基ネットのノード",
        version="1",
    )
    app.state.node = node
    app.state.admin_token_sha256 = config.admin_token_sha256
    metrics = node.events if isinstance(node.events, NodeMetrics) else NodeMetrics()
    node.events = metrics
    node.receiver.events = metrics
    metrics.watch(node)
    install_error_handlers(app)
    app.add_exception_handler(AdminAuthenticationRequired, _on_admin_unauthenticated)
    app.include_router(_network_router(node))
    app.include_router(_service_router(node, metrics))
    app.include_router(_admin_router(node))
    if isinstance(node, MunicipalityNode):
        app.mount(
            "/registry",
            create_registry_app(
                node.engine,
                clock=node.clock,
                wide_area=CsContentSource(node),
                settings=config.certificate_settings(Settings.from_env().log_level),
            ),
        )
    return app
