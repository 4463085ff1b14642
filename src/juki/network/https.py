"""HTTPS with mutual TLS between nodes: the `Transport` that runs between processes.

Both ends present certificates issued by the network root and trust nothing else, so a TLS
connection proves "this is a node of the network"; the envelope signature then proves which
node. There is no retry loop here: a failed attempt raises `TransportError`, and the delivery
worker's durable backoff (written to the outbox) decides when to try again, so a restart loses
no schedule.

The mapping between a `Reply` and an HTTP status lives here, for both directions, so the node
app and the transport cannot drift apart.
"""

from __future__ import annotations

import json
import ssl
import threading
from pathlib import Path
from typing import Final

import httpx

from juki.network.envelope import MAX_ENVELOPE_BYTES
from juki.network.transport import QueryRefused, Reply, ReplyStatus, TransportError

MESSAGES_PATH: Final = "/net/v1/messages"
QUERIES_PATH: Final = "/net/v1/queries"  # request/response (広域交付): the answer is an envelope
DIRECTORY_PATH: Final = "/net/v1/directory"
ENVELOPE_CONTENT_TYPE: Final = "application/juki-envelope+json"
CONNECT_TIMEOUT: Final = 2.0
READ_TIMEOUT: Final = 10.0
MAX_REPLY_BYTES: Final = 256 * 1024  # a batch's reply: one short reply per message
MAX_DIRECTORY_BYTES: Final = 16 * 1024 * 1024

# The oldest TLS either end of a node connection accepts (client here, server `nodes.runner`).
MIN_TLS_VERSION: Final = ssl.TLSVersion.TLSv1_2

# Refusals that say "this message is malformed", as opposed to "you may not send it" (403).
_BAD_REQUEST_REASONS: Final = frozenset({"malformed", "unsigned", "misaddressed"})


def status_code_for(reply: Reply) -> int:
    """The HTTP status a receiving node answers with; the body is always the Reply's JSON."""
    if reply.status is ReplyStatus.GAP:
        return 409
    if reply.status is ReplyStatus.UNAVAILABLE:
        return 503
    if reply.status is ReplyStatus.REFUSED:
        if reply.reason == "oversized":
            return 413
        return 400 if reply.reason in _BAD_REQUEST_REASONS else 403
    return 200  # applied, duplicate, dead_letter: all acknowledged


def reply_from_response(status_code: int, body: bytes) -> Reply:
    """Read a receiving node's answer; anything unexpected means "may not have arrived"."""
    data = _json_object(body)
    if status_code == 200:
        if data is None:
            raise TransportError("HTTP 200 without a reply body")
        try:
            return Reply.from_json(data)
        except (KeyError, ValueError) as exc:
            raise TransportError(f"HTTP 200 with an unreadable reply: {exc}") from exc
    if status_code == 409:
        expected = data.get("expected_seq") if data else None
        if not isinstance(expected, int) or isinstance(expected, bool):
            raise TransportError("HTTP 409 without the expected sequence number")
        return Reply(ReplyStatus.GAP, "gap", _text(data, "detail"), expected_seq=expected)
    if status_code in (400, 403, 413):
        default = "oversized" if status_code == 413 else f"http_{status_code}"
        reason = _text(data, "reason") or default
        return Reply(ReplyStatus.REFUSED, reason, _text(data, "detail"))
    if status_code == 503:
        reason = _text(data, "reason") or "unavailable"
        return Reply(ReplyStatus.UNAVAILABLE, reason, _text(data, "detail"))
    raise TransportError(f"HTTP {status_code}")


def _json_object(body: bytes) -> dict[str, object] | None:
    if not body or len(body) > MAX_REPLY_BYTES:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _text(data: dict[str, object] | None, name: str) -> str:
    value = data.get(name) if data else None
    return value[:200] if isinstance(value, str) else ""


def client_ssl_context(certificate: Path, key: Path, root: Path) -> ssl.SSLContext:
    """Present the node's certificate; trust only the network root (not the system CAs)."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(root))
    ctx.minimum_version = MIN_TLS_VERSION
    ctx.check_hostname = True  # node certificates carry SAN localhost / 127.0.0.1
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(certfile=str(certificate), keyfile=str(key))
    return ctx


def mtls_client(
    certificate: Path,
    key: Path,
    root: Path,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
) -> httpx.Client:
    """An HTTP client for the network: mutual TLS, bounded timeouts, no redirects, no proxies."""
    return httpx.Client(
        verify=client_ssl_context(certificate, key, root),
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        follow_redirects=False,
        trust_env=False,  # an HTTPS_PROXY in the environment must not reroute node traffic
    )


class HttpsTransport:
    """POST each envelope to `{endpoint}/net/v1/messages` and map the answer to a `Reply`."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._timing = threading.local()

    @classmethod
    def for_node(cls, certificate: Path, key: Path, root: Path) -> HttpsTransport:
        return cls(mtls_client(certificate, key, root))

    def send(self, recipient: str, endpoint: str, payload: bytes) -> Reply:
        url = endpoint.rstrip("/") + MESSAGES_PATH
        try:
            response = self.client.post(
                url,
                content=payload,
                headers={"content-type": ENVELOPE_CONTENT_TYPE, "accept": "application/json"},
            )
        except httpx.HTTPError as exc:  # connect, TLS, timeout, protocol: may not have arrived
            raise TransportError(f"{recipient} at {url}: {type(exc).__name__}: {exc}") from exc
        return reply_from_response(response.status_code, response.content)

    def query(self, recipient: str, endpoint: str, payload: bytes) -> bytes:
        """POST a signed question to `{endpoint}/net/v1/queries`; 200 carries the signed answer,
        any other status the `Reply` refusing it (mapped as for messages)."""
        url = endpoint.rstrip("/") + QUERIES_PATH
        try:
            response = self.client.post(
                url,
                content=payload,
                headers={
                    "content-type": ENVELOPE_CONTENT_TYPE,
                    "accept": f"{ENVELOPE_CONTENT_TYPE}, application/json",
                },
            )
        except httpx.HTTPError as exc:
            raise TransportError(f"{recipient} at {url}: {type(exc).__name__}: {exc}") from exc
        self._timing.last = response.headers.get("server-timing")
        if response.status_code == 200:
            if response.headers.get("content-type", "").split(";")[0] != ENVELOPE_CONTENT_TYPE:
                raise TransportError(f"{recipient}: HTTP 200 without an envelope")
            if len(response.content) > MAX_ENVELOPE_BYTES:
                raise TransportError(f"{recipient}: the answer is larger than any envelope")
            return response.content
        raise QueryRefused(reply_from_response(response.status_code, response.content))

    def last_server_timing(self) -> str | None:
        """The `Server-Timing` header of this thread's last query answer (how long the peer
        took to make it), for a caller that reports its hops' timing (the kiosk relay)."""
        return getattr(self._timing, "last", None)

    def fetch_directory(self, endpoint: str) -> bytes:
        """The national node's signed directory; the caller verifies it against the root.

        Raises `ConnectionError` (an `OSError`) on failure, which `Node.refresh_directory`
        logs and survives: the node keeps its current directory.
        """
        url = endpoint.rstrip("/") + DIRECTORY_PATH
        try:
            response = self.client.get(url)
        except httpx.HTTPError as exc:
            raise ConnectionError(f"directory from {url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise ConnectionError(f"directory from {url}: HTTP {response.status_code}")
        if len(response.content) > MAX_DIRECTORY_BYTES:
            raise ConnectionError(f"directory from {url}: too large")
        return response.content

    def close(self) -> None:
        self.client.close()
