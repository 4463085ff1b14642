"""The portal relay's door (`/portal/v1/*` on the national node) and the portal app's credential.

The resident portal app reaches the national node's mutual-TLS listener with a client
certificate the network root issued it (kind `portal`, CN `PORTAL_ID`); the national node keeps
the SHA-256 of the one registered (`register_portal`, which `juki portal init` calls as a
national operator), so a re-issued certificate replaces the old one and an unregistered one is
refused (401) and logged. Each call is in the national oplog as the portal app
(`Role.RESIDENT_PORTAL`). Bad input is a 422 naming the field; a refusal by the relay a 422 with
its rule and Japanese message; never a 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

from cryptography import x509
from fastapi import APIRouter, Depends, Request

from juki.kiosk.sealing import SealError, b64, unb64
from juki.network import pki, store
from juki.network.pki import fingerprint
from juki.nodes.portal_relay import PortalRefused, PortalRelay
from juki.nodes.tls_peers import PeerCertificates
from juki.portal.wire import (
    ACTIONS_PATH,
    CHALLENGE_PATH,
    DISCLOSURE_PATH,
    END_PATH,
    SESSIONS_PATH,
    ActionIn,
    ActionOut,
    ChallengeOut,
    DisclosureOut,
    LoginIn,
    LoginOut,
    SessionIn,
)
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role, authorize
from juki.web.errors import RESPONSES_401, RESPONSES_422, AuthenticationRequired

if TYPE_CHECKING:
    from juki.nodes.national import NationalNode

PORTAL_KIND: Final = "portal"
PORTAL_ID: Final = "resident-portal"
PORTAL_KEY: Final = "portal_certificate_sha256"  # the node state row that registers it


class PortalAppRefused(AuthenticationRequired):
    message_en = "this client may not use the portal relay"
    message_ja = "このポータルは登録されていません"

    @property
    def type(self) -> str:
        return "portal_not_registered"


def portal_actor() -> Actor:
    return Actor(f"portal-app:{PORTAL_ID}", Role.RESIDENT_PORTAL, PORTAL_ID)


def issue_portal_certificate(node: NationalNode) -> tuple[pki.PrivateKey, x509.Certificate]:
    if node.root_key is None:
        raise RuntimeError("issuing the portal's credential needs the network root key")
    return pki.issue_key_pair(
        node.root_key, node.root, node_id=PORTAL_ID, kind=PORTAL_KIND, now=node.clock.now()
    )


def register_portal(node: NationalNode, by: Actor, certificate: x509.Certificate) -> str:
    """Register this certificate as the portal app's (the one before it stops working)."""
    authorize(by.actor_id, by.role, Permission.MANAGE_PORTAL)
    named = pki.check_issued_by(certificate, node.root, node.clock.now())
    if (named.node_id, named.kind) != (PORTAL_ID, PORTAL_KIND):
        raise PortalRefused(
            "not_a_portal_certificate",
            f"the certificate names {named.kind} {named.node_id}",
            "ポータルの証明書ではありません",
            "certificate",
        )
    digest = fingerprint(certificate)
    with node.engine.begin() as conn:
        store.set_state(conn, PORTAL_KEY, digest)
        node.log_operation(conn, by, "register_portal", f"portal:{PORTAL_ID}", detail=digest[:16])
    return digest


def authenticate_portal(node: NationalNode, der: bytes | None, action: str) -> Actor:
    why = _why_not(node, der)
    actor = portal_actor()
    if why is None:
        authorize(actor.actor_id, actor.role, Permission.USE_RESIDENT_PORTAL)
        return actor
    with node.engine.begin() as conn:
        node.log_operation(conn, actor, action, "portal", "rejected", why)
    raise PortalAppRefused(why, f"this client may not use the portal relay: {why}")


def _why_not(node: NationalNode, der: bytes | None) -> str | None:
    if not der:
        return "no client certificate"
    try:
        cert = x509.load_der_x509_certificate(der)
        named = pki.check_issued_by(cert, node.root, node.clock.now())
    except ValueError:
        return "certificate not issued by the network root"
    if named.kind != PORTAL_KIND:
        return f"a {named.kind[:20]} certificate, not the portal's"
    with node.engine.connect() as conn:
        registered = store.get_state(conn, PORTAL_KEY)
    if registered is None or registered != fingerprint(cert):
        return "certificate is not the one registered"
    return None


def portal_app(request: Request) -> Actor:
    """The portal app the connection's client certificate names, registered (the route
    dependency every portal call declares); a refusal is a logged 401."""
    peers: PeerCertificates | None = getattr(request.app.state, "tls_peers", None)
    client = request.client
    der = None
    if peers is not None and client is not None:
        der = peers.certificate_of((client.host, client.port))
    node: NationalNode = request.app.state.node
    return authenticate_portal(node, der, f"portal {request.method} {request.url.path}"[:100])


App = Annotated[Actor, Depends(portal_app)]


def _bytes(text: str, field: str) -> bytes:
    try:
        return unb64(text)
    except SealError as exc:
        raise PortalRefused(
            "format", f"{field} is not base64url", f"{field} の形式が正しくありません", field
        ) from exc


def _certificate(pem: str) -> x509.Certificate:
    try:
        return pki.cert_from_pem(pem)
    except ValueError as exc:
        raise PortalRefused(
            "format",
            "card_certificate is not a PEM certificate",
            "カードの証明書の形式が正しくありません",
            "card_certificate",
        ) from exc


def portal_router(relay: PortalRelay) -> APIRouter:
    router = APIRouter(tags=["portal"], responses={**RESPONSES_401, **RESPONSES_422})

    @router.post(CHALLENGE_PATH)
    def challenge(app: App) -> ChallengeOut:
        """A fresh single-use challenge for the card holder's card to sign."""
        return ChallengeOut(challenge=b64(relay.challenge()))

    @router.post(SESSIONS_PATH)
    def login(body: LoginIn, app: App) -> LoginOut:
        """The card's signature over the challenge: a session for that card (15 minutes)."""
        token, session = relay.login(
            app,
            _certificate(body.card_certificate),
            _bytes(body.challenge, "challenge"),
            _bytes(body.signature, "signature"),
        )
        return LoginOut(
            session=token, lg_code=session.lg_code, expires_at=session.expires_at.isoformat()
        )

    @router.post(END_PATH)
    def end(body: SessionIn, app: App) -> ActionOut:
        """Log out: the session is forgotten."""
        relay.end(app, body.session)
        return ActionOut(outcome="done")

    @router.post(DISCLOSURE_PATH)
    def disclosure(body: SessionIn, app: App) -> DisclosureOut:
        """What each level holds and did about the session's card holder, asked now."""
        return relay.disclosure(app, body.session)

    @router.post(ACTIONS_PATH)
    def act(body: ActionIn, app: App) -> ActionOut:
        """本人通知 registration or withdrawal, or a correction request, for the holder."""
        return relay.act(app, body.session, body.action, body.text)

    return router
