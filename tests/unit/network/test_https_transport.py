"""The HTTPS transport: every HTTP answer maps to one Reply, and "may not have arrived" raises.

The mapping runs against httpx's MockTransport; the closed-port case uses the real mutual-TLS
client built from a throwaway root.
"""

from __future__ import annotations

import json
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from juki.network import pki
from juki.network.https import (
    ENVELOPE_CONTENT_TYPE,
    MESSAGES_PATH,
    MIN_TLS_VERSION,
    QUERIES_PATH,
    HttpsTransport,
    client_ssl_context,
    status_code_for,
)
from juki.network.transport import QueryRefused, Reply, ReplyStatus, TransportError


def transport_answering(status: int, body: object, seen: list[httpx.Request]) -> HttpsTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content)

    return HttpsTransport(httpx.Client(transport=httpx.MockTransport(handler)))


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, Reply(ReplyStatus.APPLIED).as_json(), Reply(ReplyStatus.APPLIED)),
        (
            200,
            Reply(ReplyStatus.DUPLICATE, "applied").as_json(),
            Reply(ReplyStatus.DUPLICATE, "applied"),
        ),
        (
            200,
            Reply(ReplyStatus.DEAD_LETTER, "schema", "x").as_json(),
            Reply(ReplyStatus.DEAD_LETTER, "schema", "x"),
        ),
        (
            409,
            Reply(ReplyStatus.GAP, "gap", "expected 3", expected_seq=3).as_json(),
            Reply(ReplyStatus.GAP, "gap", "expected 3", expected_seq=3),
        ),
        (
            400,
            Reply(ReplyStatus.REFUSED, "misaddressed", "to 132292").as_json(),
            Reply(ReplyStatus.REFUSED, "misaddressed", "to 132292"),
        ),
        (
            403,
            Reply(ReplyStatus.REFUSED, "bad_signature", "no").as_json(),
            Reply(ReplyStatus.REFUSED, "bad_signature", "no"),
        ),
        (413, b"", Reply(ReplyStatus.REFUSED, "oversized")),
        (
            503,
            Reply(ReplyStatus.UNAVAILABLE, "recipient_disconnected", "離脱中").as_json(),
            Reply(ReplyStatus.UNAVAILABLE, "recipient_disconnected", "離脱中"),
        ),
        (503, b"<html>busy</html>", Reply(ReplyStatus.UNAVAILABLE, "unavailable")),
    ],
)
def test_http_answers_map_to_replies(status: int, body: object, expected: Reply) -> None:
    seen: list[httpx.Request] = []
    transport = transport_answering(status, body, seen)
    reply = transport.send("132250", "https://127.0.0.1:1/", b'{"x":1}')
    assert reply == expected
    (request,) = seen
    assert request.method == "POST"
    assert request.url.path == MESSAGES_PATH
    assert request.headers["content-type"] == ENVELOPE_CONTENT_TYPE
    assert request.content == b'{"x":1}'


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b"oops"),  # the receiver crashed: it may or may not have applied
        (404, b"not here"),
        (200, b"not json"),
        (200, {"no": "status"}),
        (409, {"status": "gap"}),  # a gap without the sequence to rewind to
    ],
)
def test_unexpected_answers_mean_try_again(status: int, body: object) -> None:
    transport = transport_answering(status, body, [])
    with pytest.raises(TransportError):
        transport.send("132250", "https://127.0.0.1:1", b"{}")


@pytest.mark.parametrize(
    "reply",
    [
        Reply(ReplyStatus.APPLIED),
        Reply(ReplyStatus.DUPLICATE, "applied"),
        Reply(ReplyStatus.DEAD_LETTER, "schema"),
        Reply(ReplyStatus.GAP, "gap", expected_seq=7),
        Reply(ReplyStatus.REFUSED, "malformed"),
        Reply(ReplyStatus.REFUSED, "unsigned"),
        Reply(ReplyStatus.REFUSED, "oversized"),
        Reply(ReplyStatus.REFUSED, "replay"),
        Reply(ReplyStatus.REFUSED, "sender_disconnected"),
        Reply(ReplyStatus.UNAVAILABLE, "storage"),
    ],
)
def test_the_server_mapping_round_trips(reply: Reply) -> None:
    """What a node answers is what the sending node's transport reads back."""
    transport = transport_answering(status_code_for(reply), reply.as_json(), [])
    assert transport.send("x", "https://127.0.0.1:1", b"{}") == reply


@pytest.fixture
def node_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    now = datetime.now(UTC)
    root_key, root_cert = pki.create_root(now)
    key = pki.generate_key()
    cert = pki.issue_certificate(
        root_key,
        root_cert,
        node_id="132250",
        kind="municipality",
        public_key=key.public_key(),
        now=now,
    )
    paths = (tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "root.pem")
    paths[0].write_bytes(pki.cert_to_pem(cert))
    paths[1].write_bytes(pki.key_to_pem(key))
    paths[2].write_bytes(pki.cert_to_pem(root_cert))
    return paths


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_closed_port_is_a_transport_error(node_files: tuple[Path, Path, Path]) -> None:
    transport = HttpsTransport.for_node(*node_files)
    try:
        with pytest.raises(TransportError, match="132250"):
            transport.send("132250", f"https://127.0.0.1:{closed_port()}", b"{}")
        with pytest.raises(ConnectionError):
            transport.fetch_directory(f"https://127.0.0.1:{closed_port()}")
    finally:
        transport.close()


def test_the_client_trusts_only_the_network_root(node_files: tuple[Path, Path, Path]) -> None:
    ctx = client_ssl_context(*node_files)
    assert ctx.check_hostname is True
    assert ctx.verify_mode is ssl.CERT_REQUIRED
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert ctx.minimum_version == MIN_TLS_VERSION  # what the transparency report states
    (only,) = ctx.get_ca_certs()
    assert dict(x[0] for x in only["subject"])["commonName"] == "juki national root"


def query_transport(
    status: int, body: bytes, content_type: str, seen: list[httpx.Request]
) -> HttpsTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    return HttpsTransport(httpx.Client(transport=httpx.MockTransport(handler)))


def test_a_query_returns_the_signed_answer_bytes() -> None:
    seen: list[httpx.Request] = []
    transport = query_transport(200, b'{"answer":1}', ENVELOPE_CONTENT_TYPE, seen)
    assert transport.query("132250", "https://127.0.0.1:1/", b'{"q":1}') == b'{"answer":1}'
    (request,) = seen
    assert request.method == "POST"
    assert request.url.path == QUERIES_PATH
    assert request.headers["content-type"] == ENVELOPE_CONTENT_TYPE
    assert request.content == b'{"q":1}'


@pytest.mark.parametrize(
    "reply",
    [
        Reply(ReplyStatus.REFUSED, "replay", "answered before"),
        Reply(ReplyStatus.REFUSED, "malformed"),
        Reply(ReplyStatus.REFUSED, "sender_disconnected"),
        Reply(ReplyStatus.UNAVAILABLE, "recipient_disconnected", "離脱中"),
    ],
)
def test_a_refused_query_raises_the_recipients_reply(reply: Reply) -> None:
    body = json.dumps(reply.as_json()).encode()
    transport = query_transport(status_code_for(reply), body, "application/json", [])
    with pytest.raises(QueryRefused) as err:
        transport.query("132250", "https://127.0.0.1:1", b"{}")
    assert err.value.reply == reply


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, b'{"status":"applied"}', "application/json"),  # an ack is not an answer
        (200, b"x" * (300 * 1024), ENVELOPE_CONTENT_TYPE),  # larger than any envelope
        (500, b"oops", "text/plain"),
        (404, b"not here", "text/plain"),
    ],
)
def test_an_unexpected_query_answer_is_a_transport_error(
    status: int, body: bytes, content_type: str
) -> None:
    transport = query_transport(status, body, content_type, [])
    with pytest.raises(TransportError):
        transport.query("132250", "https://127.0.0.1:1", b"{}")


def test_a_query_to_a_closed_port_is_a_transport_error(node_files: tuple[Path, Path, Path]) -> None:
    transport = HttpsTransport.for_node(*node_files)
    try:
        with pytest.raises(TransportError, match="132250"):
            transport.query("132250", f"https://127.0.0.1:{closed_port()}", b"{}")
    finally:
        transport.close()
