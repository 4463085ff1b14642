"""Which node each mutual-TLS connection is: the peer certificate, bound to the envelope sender.

The TLS handshake proves the client holds a key the network root certified; the envelope's
signature proves who wrote the message. A node must not carry another node's signed envelope
(a relay, or a node holding a key it should not): the receiver refuses an envelope whose signed
sender is not the node the connection's certificate names (`Receiver.check`, `sender_mismatch`).

ASGI gives an app no view of the TLS session, so the server's protocol records, as each
connection is made, the node its certificate names under the connection's client address (the
`client` of every request's scope), and forgets it when the connection closes.
"""

from __future__ import annotations

import asyncio
import threading

from cryptography import x509
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from juki.network import pki

Client = tuple[str, int]


class PeerCertificates:
    """Client address → the node its TLS certificate names, for open connections."""

    def __init__(self) -> None:
        self._nodes: dict[Client, str] = {}
        self._certificates: dict[Client, bytes] = {}  # a store's kiosk is authenticated by it
        self._lock = threading.Lock()

    def remember(self, client: Client, der: bytes | None) -> None:
        node_id = _node_named(der)
        with self._lock:
            if der:
                self._certificates[client] = der
            else:
                self._certificates.pop(client, None)
            if node_id is None:
                self._nodes.pop(client, None)
            else:
                self._nodes[client] = node_id

    def forget(self, client: Client) -> None:
        with self._lock:
            self._nodes.pop(client, None)
            self._certificates.pop(client, None)

    def certificate_of(self, client: tuple[str, int] | None) -> bytes | None:
        """The DER client certificate of an open connection (a kiosk store's credential)."""
        if client is None:
            return None
        with self._lock:
            return self._certificates.get((client[0], client[1]))

    def node_of(self, client: tuple[str, int] | None) -> str | None:
        if client is None:
            return None
        with self._lock:
            return self._nodes.get((client[0], client[1]))


def _node_named(der: bytes | None) -> str | None:
    if not der:
        return None
    try:
        return pki.named_in(x509.load_der_x509_certificate(der)).node_id
    except ValueError:
        return None


def recording_protocol(peers: PeerCertificates) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol, recording each connection's peer certificate in `peers`."""

    class PeerRecordingProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            ssl_object = transport.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            if self.client is not None:
                peers.remember(self.client, der)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.client is not None:
                peers.forget(self.client)
            super().connection_lost(exc)

    return PeerRecordingProtocol
