"""Clients the national node knows by their certificate: kiosk stores and provision agencies.

Both present a certificate issued by the network root over mutual TLS, and both are accepted
only while the register holds that very certificate (by fingerprint) for an active entry. One
check serves both registers, so a store and an agency are refused for the same reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from cryptography import x509

from juki.network import pki
from juki.nodes.node import Node


@dataclass(frozen=True, slots=True)
class PeerRegister:
    """A table of registered clients: its key column, the certificate kind it accepts, and the
    words its refusals use."""

    table: sa.Table
    key: str  # the column naming the client (store_id, agency_id)
    kind: str  # the certificate kind (pki) its clients hold
    noun: str  # "store", "agency"
    a_noun: str  # "a store", "an agency"
    unregistered: str  # the refusal when the register has no such client


def why_refused(
    node: Node, der: bytes | None, register: PeerRegister
) -> tuple[str | None, str | None]:
    """Why this connection's certificate is not a registered, active client (None when it is),
    and the client id it names (None when it names none)."""
    if not der:
        return "no client certificate", None
    try:
        cert = x509.load_der_x509_certificate(der)
        named = pki.check_issued_by(cert, node.root, node.clock.now())
    except ValueError:
        return "certificate not issued by the network root", None
    client_id = named.node_id[:32]
    if named.kind != register.kind:
        return f"a {named.kind[:20]} certificate, not {register.a_noun}'s", client_id
    key = register.table.c[register.key]
    with node.engine.connect() as conn:
        row = conn.execute(sa.select(register.table).where(key == client_id)).first()
    if row is None:
        return register.unregistered, client_id
    if row.status != "active":
        return f"{register.noun} withdrawn", client_id
    if row.certificate_sha256 != pki.fingerprint(cert):
        return "certificate is not the one registered", client_id
    return None, client_id
