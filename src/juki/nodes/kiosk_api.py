"""The relay's door for store kiosks (`/kiosk/v1/*` on the national node).

A kiosk reaches the national node's mutual-TLS listener with its store's client certificate
(`juki.nodes.kiosk_stores`); every call first authenticates that certificate against the store
register, so an unregistered or withdrawn store is refused (401) and logged, and each call is
in the national oplog as the store (`Role.KIOSK_STORE`). The bodies are `juki.kiosk.wire`; bad
input is a 422 naming the field, a refusal by the relay a 422 with its rule
(`juki.kiosk.ports.RelayRefused`, `juki.cards.verify.CardRefused`), never a 500. A request
the relay cannot admit yet (`juki.kiosk.ports.RelayBusy`) is a 503 with its place in line and
`Retry-After`: the kiosk sends the same request again.
"""

from __future__ import annotations

import math
from typing import Annotated

from cryptography import x509
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from juki.kiosk.ports import KioskCall, RelayBusy, RelayRefused
from juki.kiosk.sealing import SealError, b64, unb64
from juki.kiosk.wire import (
    ABANDON_PATH,
    BUSY_RESPONSES,
    CHALLENGE_PATH,
    KEY_PATH,
    OFFER_PATH,
    REQUESTS_PATH,
    SPOILED_PATH,
    BusyOut,
    ChallengeOut,
    Done,
    KeyStatementOut,
    KioskCallIn,
    OfferOut,
    RelayAnswerOut,
    VoidIn,
)
from juki.network import pki
from juki.nodes.kiosk_relay import KioskRelay
from juki.nodes.kiosk_stores import authenticate
from juki.nodes.national import NationalNode
from juki.nodes.tls_peers import PeerCertificates
from juki.security.actors import Actor
from juki.web.errors import RESPONSES_401, RESPONSES_422

LgCode = Annotated[str, Path(min_length=6, max_length=6, pattern=r"^[0-9]+$")]
RequestId = Annotated[str, Path(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")]


def _bytes(text: str, field: str) -> bytes:
    try:
        return unb64(text)
    except SealError as exc:
        raise RelayRefused(
            "format", f"{field} is not base64url", f"{field} の形式が正しくありません", field
        ) from exc


def _certificate(pem: str) -> x509.Certificate:
    try:
        return pki.cert_from_pem(pem)
    except ValueError as exc:
        raise RelayRefused(
            "format",
            "card_certificate is not a PEM certificate",
            "カードの証明書の形式が正しくありません",
            "card_certificate",
        ) from exc


def kiosk_store(request: Request) -> Actor:
    """The store the connection's client certificate names, registered and active (the route
    dependency every kiosk call declares); a refusal is a logged 401."""
    peers: PeerCertificates | None = getattr(request.app.state, "tls_peers", None)
    client = request.client
    der = None
    if peers is not None and client is not None:
        der = peers.certificate_of((client.host, client.port))
    node: NationalNode = request.app.state.node
    return authenticate(node, der, f"kiosk {request.method} {request.url.path}"[:100])


Store = Annotated[Actor, Depends(kiosk_store)]


def _busy(busy: RelayBusy) -> JSONResponse:
    """503: the request's place in line and when to send it again (`Retry-After`, whole s)."""
    out = BusyOut(
        type="busy",
        detail=busy.message_en,
        msg_ja=busy.message_ja,
        position=busy.position,
        retry_after_ms=round(busy.retry_after * 1000),
    )
    headers = {"retry-after": str(max(1, math.ceil(busy.retry_after)))}
    return JSONResponse(status_code=503, content=out.model_dump(), headers=headers)


def kiosk_router(node: NationalNode, relay: KioskRelay) -> APIRouter:
    router = APIRouter(tags=["kiosk"], responses={**RESPONSES_401, **RESPONSES_422})

    def logged(actor: Actor, action: str, target: str) -> None:
        with node.engine.begin() as conn:
            node.log_operation(conn, actor, action, target)

    @router.post(CHALLENGE_PATH)
    def challenge(actor: Store) -> ChallengeOut:
        """A fresh single-use challenge for the customer's card to sign."""
        logged(actor, "kiosk_challenge", f"store:{actor.terminal_id}")
        return ChallengeOut(challenge=b64(relay.challenge()))

    @router.get(OFFER_PATH)
    def municipality_offer(lg_code: LgCode, actor: Store) -> OfferOut:
        """What the municipality's kiosks offer now (kinds, fees, hours; open, or outside its
        hours, in its closure, not offering, disconnected or unreachable), asked of it over the
        network before the customer chooses. Nothing personal; advice only: the municipality
        checks the request again when it comes."""
        logged(actor, "kiosk_municipality_offer", f"municipality:{lg_code}")
        return OfferOut.of(relay.offer(lg_code))

    @router.get(KEY_PATH)
    def municipality_key(lg_code: LgCode, actor: Store) -> KeyStatementOut:
        """The municipality's kiosk key as its node signed it (the kiosk verifies it)."""
        logged(actor, "kiosk_municipality_key", f"municipality:{lg_code}")
        statement = relay.municipality_key(lg_code)
        return KeyStatementOut(
            lg_code=statement.lg_code,
            public_key=b64(statement.public_key),
            signature=b64(statement.signature),
            node_certificate=pki.cert_to_pem(statement.node_certificate).decode("ascii"),
        )

    @router.post(REQUESTS_PATH, responses=BUSY_RESPONSES, response_model=RelayAnswerOut)
    def request(body: KioskCallIn, actor: Store, response: Response) -> Response | RelayAnswerOut:
        """A customer's request, card-signed and sealed to the municipality; the answer comes
        back sealed to the kiosk session (the relay cannot read either). `Server-Timing` says
        how long the relay took, how long it waited on the municipality and how long that took
        to make the answer (durations only; `python -m bench kiosk` reads them). While the
        municipality has as many requests in flight as the relay lets through, a 503 says the
        request's place in line and when to send it again (nothing of it was used)."""
        call = KioskCall(
            store_id=actor.terminal_id,
            request_id=body.request_id,
            lg_code=body.lg_code,
            card_certificate=_certificate(body.card_certificate),
            challenge=_bytes(body.challenge, "challenge"),
            signature=_bytes(body.signature, "signature"),
            session_key=_bytes(body.session_key, "session_key"),
            sealed_request=body.sealed_request,
        )
        try:
            answer = RelayAnswerOut.of(relay.request(call))
        except RelayBusy as busy:
            return _busy(busy)
        timing = relay.last_timing()
        if timing:
            response.headers["server-timing"] = timing
        return answer

    @router.post(SPOILED_PATH)
    def spoiled(request_id: RequestId, body: VoidIn, actor: Store) -> Done:
        """書損: a copy jammed at the store; the municipality records it spoiled."""
        if body.issue_number is None:
            raise RelayRefused(
                "missing", "issue_number is required", "交付番号を指定してください", "issue_number"
            )
        relay.spoiled(
            actor.terminal_id, request_id, body.card_serial, body.lg_code, body.issue_number
        )
        return Done()

    @router.post(ABANDON_PATH)
    def abandon(request_id: RequestId, body: VoidIn, actor: Store) -> Done:
        """The session gave up: the municipality voids the certificate, nothing is charged."""
        relay.abandon(actor.terminal_id, request_id, body.card_serial, body.lg_code)
        return Done()

    return router
