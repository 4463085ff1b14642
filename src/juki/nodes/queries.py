"""Queries: a signed question, a signed answer, while someone waits (a certificate's content
for 広域交付, a kiosk's request, a disclosure, a card certificate's status).

A query passes exactly the checks a message passes (the receiver's: size, shape, recipient,
sender in the directory and connected, signature, freshness) and its sender's authority
(`juki.network.authority`); so does its answer. Neither is queued: the caller waits, and a
refusal is recorded as a message's is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import structlog

from juki.network import authority
from juki.network.envelope import Envelope, uuid7
from juki.network.messages import (
    CURRENT_VERSION,
    MessageBody,
    SchemaError,
    body_of,
    parse_body,
    type_of,
)
from juki.network.receiver import UNAUTHORISED
from juki.network.transport import Reply, ReplyStatus
from juki.network.wide_area_messages import QUERY_SEQ

if TYPE_CHECKING:
    from juki.nodes.node import Node

log = structlog.get_logger("juki.nodes")

# Answers a verified query: returns the answer's body, or raises `QueryRejected`.
QueryHandler = Callable[[Envelope, Any], MessageBody]


class QueryRejected(Exception):
    """A genuine query this node will not answer (a replayed id, a question not for it)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class AnswerRejected(Exception):
    """The answer to this node's query failed a check; nothing of it may be used."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def refused(node: Node, sender: str, message_id: str, reason: str, detail: str) -> Reply:
    return node.receiver.refuse(reason, detail, sender, message_id, what="query")


def answer(node: Node, raw: bytes, tls_peer: str | None = None) -> bytes | Reply:
    """Answer a query envelope, or say why not.

    The checks are the receiver's own (size, shape, recipient, sender in the directory and
    connected, signature, freshness; this node not disconnected), so a query passes exactly
    what a message passes. Replay is the handler's to refuse: it keeps the ids it answered.
    A handler that fails otherwise than the database has the query refused and recorded (as
    a message that fails is made a dead letter), never a 500 the asker cannot read.
    """
    checked = node.receiver.check(raw, tls_peer)
    if isinstance(checked, Reply):
        return checked
    env = checked
    handler = node.query_handlers().get(env.message_type)
    if handler is None:
        return refused(
            node,
            env.sender,
            env.message_id,
            "unhandled",
            f"{node.node_id} answers no {env.message_type}",
        )
    try:
        body = parse_body(env.message_type, env.schema_version, dict(env.body))
        denied = authority.refusal(env, body, node.directory(), node.node_id)
        if denied is not None:
            raise QueryRejected(UNAUTHORISED, denied)
        answer = handler(env, body)
    except SchemaError as exc:
        return refused(node, env.sender, env.message_id, exc.reason, exc.detail)
    except QueryRejected as exc:
        return refused(node, env.sender, env.message_id, exc.reason, exc.detail)
    except authority.NotAuthorised as exc:
        return refused(node, env.sender, env.message_id, UNAUTHORISED, exc.detail)
    except sa.exc.SQLAlchemyError as exc:
        log.error("could not answer", node=node.node_id, error=str(exc))
        return Reply(ReplyStatus.UNAVAILABLE, "storage", type(exc).__name__)
    except Exception as exc:  # a handler's fault: refused and recorded, as a message's is kept
        log.exception("query handler failed", node=node.node_id, query=env.message_type)
        return refused(node, env.sender, env.message_id, "handler_failed", type(exc).__name__)
    return signed(node, env.sender, answer).to_bytes()


def signed(node: Node, peer: str, message: MessageBody) -> Envelope:
    name = type_of(message)
    return Envelope(
        message_id=uuid7(node.clock.now(), node.rng),
        message_type=name,
        schema_version=CURRENT_VERSION[name],
        sender=node.node_id,
        recipient=peer,
        created_at=node.clock.now().isoformat(),
        seq=QUERY_SEQ,
        body=body_of(message),
    ).signed(node.identity.key)


def ask(
    node: Node, peer: str, question: MessageBody, answer_type: str
) -> tuple[Envelope, Envelope, Any]:
    """Send a signed question and return (question, answer envelope, answer body).

    The answer passes the receiver's checks (signed by `peer`, addressed here, fresh, the
    peer still connected) or `AnswerRejected` is raised; binding the answer to the
    question's content is the caller's. `TransportError` and `QueryRefused` pass through.
    A node disconnected (離脱) asks nothing: its question would be answered and acted on
    (a request registered, a certificate revoked) before its own answer was refused.
    """
    if node.query_transport is None:
        raise AnswerRejected("no_query_transport", f"{node.node_id} cannot send queries")
    if node.is_disconnected():
        raise AnswerRejected("disconnected", f"{node.node_id} is disconnected: it sends no query")
    endpoint = node.directory().require(peer).endpoint
    request = signed(node, peer, question)
    raw = node.query_transport.query(peer, endpoint, request.to_bytes())
    checked = node.receiver.check(raw)
    if isinstance(checked, Reply):
        raise AnswerRejected(checked.reason, checked.detail)
    if checked.sender != peer or checked.message_type != answer_type:
        refused(node, checked.sender, checked.message_id, "unexpected_answer", checked.message_type)
        raise AnswerRejected("unexpected_answer", f"{checked.message_type} from {checked.sender}")
    try:
        body = parse_body(checked.message_type, checked.schema_version, dict(checked.body))
    except SchemaError as exc:
        refused(node, checked.sender, checked.message_id, exc.reason, exc.detail)
        raise AnswerRejected(exc.reason, exc.detail) from exc
    denied = authority.refusal(checked, body, node.directory(), node.node_id)
    if denied is not None:
        refused(node, checked.sender, checked.message_id, UNAUTHORISED, denied)
        raise AnswerRejected(UNAUTHORISED, denied)
    return request, checked, body
