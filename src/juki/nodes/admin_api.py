"""A node's admin API (`/admin/v1/*`), for the operator console with the node's admin token:
status, digests, disconnect/reconnect (離脱 as a recorded decision), dead letters, repair; on
the national node the directory status. Agencies' lookups are not here: they are provision
(`juki.nodes.provide_api`), judged by the register and recorded."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Final, cast

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from juki.core.errors import JukiError
from juki.network import store
from juki.network.directory import DirectoryError, NodeStatus
from juki.network.transport import ReplyStatus
from juki.nodes.admin_token import AdminTokenCheck
from juki.nodes.disconnection import (
    MAX_DECIDED_BY,
    MAX_OPERATOR,
    MAX_REASON,
    decide_disconnection,
    decisions_in,
    end_disconnection,
)
from juki.nodes.fuhyo_link import fuhyo_digests
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.national import NationalNode
from juki.nodes.node import Node
from juki.registry.store.journal import pending_events
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.web.text import CleanStr

ADMIN_PREFIX: Final = "/admin/v1"
MAX_TOKEN_LEN: Final = 256
DEAD_LETTER_LIMIT: Final = 500
MAX_ID: Final = 2**63 - 1  # a BIGINT: a larger id would reach PostgreSQL as a 500
# Whoever holds the node's admin token: every change made through these routes, and every
# lookup, is in the node's oplog under this actor.
ADMIN_ACTOR: Final = Actor("node-admin", Role.OPERATIONS_MANAGER, "admin-api")


# -- the admin marker -------------------------------------------------------------------------


class AdminAuthenticationRequired(JukiError):
    """No admin token, the wrong one, or one that has expired or been revoked (`reason`)."""

    message_en = "the node's admin token is required"
    message_ja = "このノードの管理者トークンが必要です"
    REASONS: Final = {
        "expired": (
            "token_expired",
            "the admin token has expired; issue a new one with `juki network admin-token`",
            "管理者トークンの有効期限が切れています。juki network admin-token で再発行してください",
        ),
        "revoked": (
            "token_revoked",
            "the admin token has been revoked",
            "管理者トークンは失効しています",
        ),
    }

    def __init__(self, reason: str = "unknown") -> None:
        self.reason = reason
        super().__init__(self.message_en)

    def described(self) -> tuple[str, str, str]:
        default = ("authentication_required", self.message_en, self.message_ja)
        return self.REASONS.get(self.reason, default)


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
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AdminAuthenticationRequired()
    check: AdminTokenCheck = request.app.state.admin_token
    reason = check.refusal(credentials.credentials)
    if reason is not None:
        raise AdminAuthenticationRequired(reason)


ADMIN: Final = Depends(admin)


async def on_admin_unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AdminAuthenticationRequired)
    type_, en, ja = exc.described()
    return JSONResponse(
        status_code=401,
        content={"detail": en, "type": type_, "msg_ja": ja},
        headers={"WWW-Authenticate": "Bearer"},
    )


def not_found(what: str, detail_ja: str) -> JSONResponse:
    return JSONResponse(
        status_code=404, content={"detail": what, "type": "not_found", "msg_ja": detail_ja}
    )


# -- request bodies ------------------------------------------------------------------------------


class CheckResultIn(BaseModel):
    summary: Annotated[str, Field(min_length=1, max_length=4000)]


class NodeStatusIn(BaseModel):
    status: NodeStatus


class DisconnectIn(BaseModel):
    """離脱 as the body's own decision (住基法 第36条の2): who decided and why."""

    decided_by: Annotated[CleanStr, Field(min_length=1, max_length=MAX_DECIDED_BY)]
    reason: Annotated[CleanStr, Field(min_length=1, max_length=MAX_REASON)]
    operator: Annotated[CleanStr, Field(min_length=1, max_length=MAX_OPERATOR)] | None = None


class ReconnectIn(BaseModel):
    """The end of the decision in force: optionally why it ended."""

    note: Annotated[CleanStr, Field(min_length=1, max_length=MAX_REASON)] | None = None
    operator: Annotated[CleanStr, Field(min_length=1, max_length=MAX_OPERATOR)] | None = None


def node_status(node: Node) -> dict[str, Any]:
    """`Node.status()`, plus registry changes the municipality's CS has not forwarded yet."""
    status = node.status()
    status["name"] = node.directory().require(node.node_id).name
    status["registry_outbox"] = 0
    if isinstance(node, MunicipalityNode):
        with node.engine.connect() as conn:
            status["registry_outbox"] = pending_events(conn)
    return status


# -- routes: module functions on the node the app serves ----------------------------------------


def current_node(request: Request) -> Node:
    return cast(Node, request.app.state.node)


def current_municipality(request: Request) -> MunicipalityNode:
    return cast(MunicipalityNode, request.app.state.node)


def current_national(request: Request) -> NationalNode:
    return cast(NationalNode, request.app.state.node)


ThisNode = Annotated[Node, Depends(current_node)]
ThisMunicipality = Annotated[MunicipalityNode, Depends(current_municipality)]
ThisNational = Annotated[NationalNode, Depends(current_national)]


def get_status(node: ThisNode) -> dict[str, Any]:
    """Queues, oldest undelivered age, dead letters, disconnect flag, last digest check."""
    return node_status(node)


def get_digests(node: ThisNode) -> list[dict[str, Any]]:
    """Count and hash of identity_info per municipality this node holds."""
    return [d.as_json() for d in node.digests()]


def get_fuhyo_digests(node: ThisNode) -> list[dict[str, Any]]:
    """Count and hash of the 附票本人確認情報 per 本籍 municipality this node holds (附票連携)."""
    return [d.as_json() for d in fuhyo_digests(node)]


def disconnect(node: ThisNode, body: DisconnectIn) -> dict[str, Any]:
    """離脱, recorded as this municipality's or prefecture's decision (who decided, why, the
    legal basis): stop sending and receiving; traffic waits in the outboxes."""
    decision = decide_disconnection(
        node, ADMIN_ACTOR, decided_by=body.decided_by, reason=body.reason, operator=body.operator
    )
    return {"node_id": node.node_id, "disconnected": True, "decision": decision.as_json()}


def reconnect(node: ThisNode, body: ReconnectIn | None = None) -> dict[str, Any]:
    """Back on the network, ending the decision in force: the queues drain in order."""
    said = body or ReconnectIn()
    ended = end_disconnection(node, ADMIN_ACTOR, note=said.note, operator=said.operator)
    return {
        "node_id": node.node_id,
        "disconnected": False,
        "decision": ended.as_json() if ended is not None else None,
    }


def disconnections(node: ThisNode) -> list[dict[str, Any]]:
    """This node's disconnection decisions (離脱の決定), oldest first."""
    with node.engine.connect() as conn:
        return [d.as_json() for d in decisions_in(conn)]


def refresh_directory(node: ThisNode) -> dict[str, Any]:
    """Fetch the national directory now instead of at the next periodic refresh."""
    changed = node.refresh_directory()
    return {"changed": changed, "serial": node.directory().serial}


def check_result(node: ThisNode, body: CheckResultIn) -> dict[str, Any]:
    """Record the outcome of the last digest comparison (`juki network check`)."""
    node.record_check(body.summary)
    return {"recorded": True}


def dead_letters(node: ThisNode) -> list[dict[str, Any]]:
    """Open dead letters, without their bodies (they hold identity_info)."""
    with node.engine.connect() as conn:
        return store.open_dead_letters(conn, DEAD_LETTER_LIMIT)


def replay(node: ThisNode, dead_letter_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> JSONResponse:
    """Once its cause is fixed: apply an incoming dead letter again, or queue an outgoing
    one again for its peer."""
    reply = node.replay_dead_letter(dead_letter_id)
    with node.engine.begin() as conn:
        node.log_operation(
            conn,
            ADMIN_ACTOR,
            "replay_dead_letter",
            str(dead_letter_id),
            "ok" if reply.status is ReplyStatus.APPLIED else "rejected",
            f"{reply.reason}: {reply.detail}",
        )
    if reply.reason == "not_found":
        return not_found(reply.detail, "未処理のデッドレターが見つかりません")
    applied = reply.status is ReplyStatus.APPLIED
    return JSONResponse(reply.as_json(), status_code=200 if applied else 409)


def oplog_checkpoint(node: ThisNode) -> dict[str, Any]:
    """Sign a checkpoint of the oplog chain head now and send it to the parent."""
    signed = node.checkpoint()
    with node.engine.begin() as conn:
        node.log_operation(conn, ADMIN_ACTOR, "oplog_checkpoint", f"{node.node_id}:{signed.seq}")
    return {"node_id": node.node_id, "seq": signed.seq, "entry_hash": signed.entry_hash}


def snapshot(municipality: ThisMunicipality) -> dict[str, Any]:
    """Repair: send the whole identity_info set up to the prefecture and national."""
    snapshot_id = str(uuid.UUID(int=municipality.rng.getrandbits(128), version=4))
    count = municipality.send_snapshot(snapshot_id, by=ADMIN_ACTOR)
    return {"snapshot_id": snapshot_id, "entries": count}


def set_node_status(
    national: ThisNational, node_id: Annotated[CleanStr, Path(max_length=16)], body: NodeStatusIn
) -> JSONResponse:
    """Mark a node disconnected (離脱) or active in a newly signed directory."""
    try:
        directory = national.set_node_status(node_id, body.status, by=ADMIN_ACTOR)
    except DirectoryError as exc:
        return not_found(str(exc), f"ノード {node_id} はディレクトリにありません")
    return JSONResponse(
        {"node_id": node_id, "status": body.status.value, "serial": directory.serial}
    )


def admin_router(node: Node) -> APIRouter:
    """The admin routes of a node of this kind (the snapshot on a municipality, the directory
    on the national node)."""
    router = APIRouter(prefix=ADMIN_PREFIX, tags=["admin"], dependencies=[ADMIN])
    router.add_api_route("/status", get_status, methods=["GET"])
    router.add_api_route("/digests", get_digests, methods=["GET"])
    router.add_api_route("/fuhyo-digests", get_fuhyo_digests, methods=["GET"])
    router.add_api_route("/disconnect", disconnect, methods=["POST"])
    router.add_api_route("/reconnect", reconnect, methods=["POST"])
    router.add_api_route("/disconnections", disconnections, methods=["GET"])
    router.add_api_route("/directory/refresh", refresh_directory, methods=["POST"])
    router.add_api_route("/check-result", check_result, methods=["POST"])
    router.add_api_route("/dead-letters", dead_letters, methods=["GET"])
    router.add_api_route("/dead-letters/{dead_letter_id}/replay", replay, methods=["POST"])
    router.add_api_route("/oplog/checkpoint", oplog_checkpoint, methods=["POST"])
    if isinstance(node, MunicipalityNode):
        router.add_api_route("/snapshot", snapshot, methods=["POST"])
    if isinstance(node, NationalNode):
        router.add_api_route("/nodes/{node_id}/status", set_node_status, methods=["POST"])
    return router
