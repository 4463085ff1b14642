"""`HttpRelay`: the kiosk's client of the relay's endpoints (`/kiosk/v1/*`, `juki.kiosk.wire`).

It implements `RelayPort` over an `httpx.Client` the caller configures: the national node's
address, the network root to verify it, and the store's client certificate (the store's
credential, `juki.nodes.kiosk_stores`). A call that does not answer in time (or whose
connection fails) is a `HopTimeout`, so the session aborts and charges nothing; a refusal is a
`RelayRefused` with the relay's rule and its Japanese message for the screen.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import pydantic

from juki.certificates.kiosk.offer import KioskOffer
from juki.kiosk.ports import HopTimeout, KioskCall, RelayAnswer, RelayBusy, RelayRefused
from juki.kiosk.sealing import KeyStatement, SealError, b64, unb64
from juki.kiosk.wire import (
    ABANDON_PATH,
    CHALLENGE_PATH,
    KEY_PATH,
    OFFER_PATH,
    REQUESTS_PATH,
    SPOILED_PATH,
    BusyOut,
    ChallengeOut,
    KeyStatementOut,
    KioskCallIn,
    OfferOut,
    RelayAnswerOut,
    VoidIn,
)
from juki.network import pki

M = TypeVar("M", bound=pydantic.BaseModel)
UNEXPECTED_JA = "交付センターから正しい応答がありませんでした。料金はかかりません"


class HttpRelay:
    def __init__(self, client: httpx.Client, timeout: float | None = None) -> None:
        self.client = client
        self.timeout = timeout  # per call; None keeps the client's own

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        kw: dict[str, Any] = {} if self.timeout is None else {"timeout": self.timeout}
        try:
            reply = self.client.request(method, path, json=body, **kw)
        except httpx.TimeoutException as exc:
            raise HopTimeout(f"{path}: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise HopTimeout(f"{path}: no answer ({type(exc).__name__})") from exc
        if reply.status_code == 200:
            return reply.json()
        if reply.status_code == 503:
            busy = _busy(reply)
            if busy is not None:
                raise busy
        raise _refusal(reply)

    def challenge(self) -> bytes:
        out = self._parsed(ChallengeOut, self._call("POST", CHALLENGE_PATH))
        return self._bytes(out.challenge)

    def offer(self, lg_code: str) -> KioskOffer:
        raw = self._call("GET", OFFER_PATH.format(lg_code=lg_code))
        offer = self._parsed(OfferOut, raw).offer()
        if offer.lg_code != lg_code:
            raise RelayRefused("answer_malformed", "another municipality's offer", UNEXPECTED_JA)
        return offer

    def municipality_key(self, lg_code: str) -> KeyStatement:
        out = self._parsed(KeyStatementOut, self._call("GET", KEY_PATH.format(lg_code=lg_code)))
        try:
            certificate = pki.cert_from_pem(out.node_certificate)
        except ValueError as exc:
            raise RelayRefused("answer_not_verified", str(exc), UNEXPECTED_JA) from exc
        return KeyStatement(
            out.lg_code, self._bytes(out.public_key), self._bytes(out.signature), certificate
        )

    def request(self, call: KioskCall) -> RelayAnswer:
        body = KioskCallIn.model_construct(
            request_id=call.request_id,
            lg_code=call.lg_code,
            card_certificate=pki.cert_to_pem(call.card_certificate).decode("ascii"),
            challenge=b64(call.challenge),
            signature=b64(call.signature),
            session_key=b64(call.session_key),
            sealed_request=call.sealed_request,
        )
        raw = self._call("POST", REQUESTS_PATH, body.model_dump())
        return self._parsed(RelayAnswerOut, raw).answer()

    def abandon(self, store_id: str, request_id: str, card_serial: str, lg_code: str) -> None:
        body = VoidIn.model_construct(card_serial=card_serial, lg_code=lg_code, issue_number=None)
        self._call("POST", ABANDON_PATH.format(request_id=request_id), body.model_dump())

    def spoiled(
        self, store_id: str, request_id: str, card_serial: str, lg_code: str, issue_number: str
    ) -> None:
        body = VoidIn.model_construct(
            card_serial=card_serial, lg_code=lg_code, issue_number=issue_number
        )
        self._call("POST", SPOILED_PATH.format(request_id=request_id), body.model_dump())

    @staticmethod
    def _parsed(model: type[M], raw: Any) -> M:
        try:
            return model.model_validate(raw)
        except pydantic.ValidationError as exc:
            raise RelayRefused("answer_malformed", str(exc)[:200], UNEXPECTED_JA) from exc

    @staticmethod
    def _bytes(text: str) -> bytes:
        try:
            return unb64(text)
        except SealError as exc:
            raise RelayRefused("answer_malformed", str(exc), UNEXPECTED_JA) from exc


def _busy(reply: httpx.Response) -> RelayBusy | None:
    """The relay's "wait your turn" (503, `BusyOut`), or None for any other 503."""
    try:
        out = BusyOut.model_validate_json(reply.content)
    except pydantic.ValidationError:
        return None
    return RelayBusy(out.position, out.retry_after_ms / 1000)


def _refusal(reply: httpx.Response) -> RelayRefused:
    """The relay's refusal as the session sees it: its rule, field and messages."""
    try:
        body = reply.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        loc = first.get("loc") or ["request"]
        field = str(loc[-1])
        return RelayRefused(
            str(first.get("type", "refused")),
            str(first.get("msg", "")),
            str(first.get("msg_ja", UNEXPECTED_JA)),
            field,
        )
    if isinstance(body, dict) and "type" in body:
        return RelayRefused(
            str(body["type"]),
            str(body.get("detail", "")),
            str(body.get("msg_ja", UNEXPECTED_JA)),
        )
    return RelayRefused(f"http_{reply.status_code}", f"HTTP {reply.status_code}", UNEXPECTED_JA)
