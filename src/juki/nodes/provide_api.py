"""Provision's door (`/provision/v1/requests` on the national node and on each prefecture).

An agency reaches the node's mutual-TLS listener with its client certificate, issued by the
network root (kind `agency`, CN its agency id) when it was registered (`juki agency add`). Every
call first authenticates that certificate against the node's provision register: a certificate
of another kind (a node's, a store's, the console's), of an agency not registered or not
active, or not the one registered, is refused (401) and the refusal is in the node's oplog.

The body names the task and the purpose and carries the lookups as JSONL lines, checked one by
one (`juki.provision.requests`): a bad line is answered by an error line naming it, the rest
are answered (`juki.nodes.provide.provide_batch`: judged by the register in force today, every
lookup in `provision_records`, the request in the oplog, one transaction); a line of any length
is checked as a line, so one too long is one error line. A malformed task or purpose is a 422
naming the field; a body over a full batch's size is a 413, unread; nothing here answers a 500.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from juki.nodes.node import Node
from juki.nodes.provide import provide_batch
from juki.nodes.provision_register import AGENCY_KIND
from juki.nodes.registered_peers import PeerRegister, why_refused
from juki.nodes.tls_peers import PeerCertificates
from juki.provision.provide import agency_actor
from juki.provision.requests import MAX_BATCH, MAX_LINE_CHARS, parse_lines
from juki.provision.tables import provision_agencies
from juki.security.actors import Actor
from juki.web.errors import RESPONSES_401, RESPONSES_422, AuthenticationRequired
from juki.web.schemas import ErrorOut

PROVISION_PATH: Final = "/provision/v1/requests"
pa = provision_agencies.c


class AgencyRefused(AuthenticationRequired):
    """The connection is not a registered, active agency's."""

    message_en = "this client may not receive identity_info"
    message_ja = "本人確認情報の提供を受けられる機関として登録されていません"

    @property
    def type(self) -> str:
        return "agency_not_registered"


AGENCIES: Final = PeerRegister(
    provision_agencies,
    "agency_id",
    AGENCY_KIND,
    "agency",
    "an agency",
    "agency not registered at this node",
)


def authenticate_agency(node: Node, der: bytes | None, action: str) -> Actor:
    """The agency the connection's certificate names, registered and active here; a refusal is
    logged (who tried, and why) and raised. What it may receive is the register's call, made
    per request (`juki.provision.provide`)."""
    why, agency_id = why_refused(node, der, AGENCIES)
    actor = agency_actor(agency_id or "-")
    if why is None:
        return actor
    with node.engine.begin() as conn:
        node.log_operation(conn, actor, action, f"agency:{agency_id or '-'}", "rejected", why)
    raise AgencyRefused(why, f"this client may not receive identity_info: {why}")


def provision_agency(request: Request) -> Actor:
    """The route dependency: the agency of the connection's client certificate."""
    peers: PeerCertificates | None = getattr(request.app.state, "tls_peers", None)
    client = request.client
    der = None
    if peers is not None and client is not None:
        der = peers.certificate_of((client.host, client.port))
    node: Node = request.app.state.node
    return authenticate_agency(node, der, "provide_identity_info")


AgencyActor = Annotated[Actor, Depends(provision_agency)]


class ProvisionIn(BaseModel):
    task: Annotated[str, Field(min_length=1, max_length=64, examples=["別表第一 の 九十一"])]
    purpose: Annotated[str, Field(min_length=1, max_length=200, examples=["年金給付の支給"])]
    first_line: Annotated[int, Field(ge=1, le=10**9)] = 1
    # No bound per line here: a line too long is that line's error (`parse_lines`), the rest
    # answered; the body as a whole is capped before it is read (`ProvisionBodyLimit`).
    lines: Annotated[list[str], Field(min_length=1, max_length=MAX_BATCH)]


# The largest body a full batch of the longest lines makes (each character up to 4 bytes of UTF-8,
# with room for JSON's escapes); anything larger is refused unread.
MAX_BODY_BYTES: Final = MAX_BATCH * MAX_LINE_CHARS * 6


class ProvisionBodyLimit:
    """ASGI middleware: a provision request whose declared length is over `limit` is refused
    (413) before its body is read, so a node never holds more than one full batch's worth."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PROVISION_PATH:
            declared = dict(scope["headers"]).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > self.limit:
                body = ErrorOut(
                    detail=f"a provision request is at most {self.limit} bytes",
                    type="too_large",
                    msg_ja="照会の件数又は大きさが上限を超えています",
                )
                response = JSONResponse(status_code=413, content=body.model_dump())
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ProvisionOut(BaseModel):
    request_id: str
    task: str
    task_effective_from: date | None
    refusal: str | None
    counts: dict[str, int]
    lines: list[dict[str, Any]]  # one answer or error per line, in line order


def provision_router(node: Node) -> APIRouter:
    too_large: dict[int | str, dict[str, Any]] = {
        413: {"model": ErrorOut, "description": "the body is over a full batch's size"}
    }
    router = APIRouter(
        tags=["provision"], responses={**RESPONSES_401, **RESPONSES_422, **too_large}
    )

    @router.post(PROVISION_PATH)
    def provide(body: ProvisionIn, agency: AgencyActor) -> ProvisionOut:
        """本人確認情報の提供: the lookups (JSONL lines: by `resident_code`, optionally
        `as_of`; or by `name_kana` + `birth_date` with `name`, `sex`, `address`; `items` to ask
        for fewer) answered with only the items the task allows the agency today. Every lookup
        is recorded, refusals with their reason."""
        good, bad = parse_lines(body.lines, body.first_line)
        result = provide_batch(
            node.engine,
            agency.terminal_id,
            body.task,
            body.purpose,
            good,
            clock=node.clock,
            bad_lines=len(bad),
            standby=node.standby,
        )
        lines = [a.as_json() for a in result.answers] + [b.as_json() for b in bad]
        lines.sort(key=lambda d: int(d["line"]))
        counts = dict(result.counts())
        counts["error"] = len(bad)
        return ProvisionOut(
            request_id=result.request_id,
            task=result.task_ref,
            task_effective_from=result.task_effective_from,
            refusal=result.refusal,
            counts=counts,
            lines=lines,
        )

    return router
