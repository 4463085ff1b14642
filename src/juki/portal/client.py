"""`HttpPortalRelay`: the portal app's client of the national node's portal relay
(`/portal/v1/*`, `juki.portal.wire`), over an `httpx.Client` the caller configures (the national
node's address, the network root, the portal's client certificate). A relay that does not
answer is `RelayUnavailable`; a refusal is `RelayDenied` with the relay's rule and its
Japanese message for the screen."""

from __future__ import annotations

from typing import Any, Final, TypeVar

import httpx
import pydantic
from cryptography import x509

from juki.core.errors import DomainRuleError, JukiError
from juki.kiosk.sealing import SealError, b64, unb64
from juki.network import pki
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

M = TypeVar("M", bound=pydantic.BaseModel)
UNAVAILABLE_JA: Final = "ただいま照会できません。しばらくしてからもう一度お試しください"


class RelayUnavailable(JukiError):
    message_ja = UNAVAILABLE_JA

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.message_en = detail


class RelayDenied(DomainRuleError):
    """The relay refused: `rule` (session_ended, card_unknown, …) and the screen's message."""


class HttpPortalRelay:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _post(self, path: str, body: pydantic.BaseModel | None, model: type[M]) -> M:
        try:
            reply = self.client.post(path, json=None if body is None else body.model_dump())
        except httpx.HTTPError as exc:
            raise RelayUnavailable(f"{path}: {type(exc).__name__}") from exc
        if reply.status_code != 200:
            raise _refusal(reply)
        try:
            return model.model_validate(reply.json())
        except (pydantic.ValidationError, ValueError) as exc:
            raise RelayUnavailable(f"{path}: malformed answer") from exc

    def challenge(self) -> bytes:
        out = self._post(CHALLENGE_PATH, None, ChallengeOut)
        try:
            return unb64(out.challenge)
        except SealError as exc:
            raise RelayUnavailable("malformed challenge") from exc

    def login(self, certificate: x509.Certificate, challenge: bytes, signature: bytes) -> LoginOut:
        body = LoginIn(
            card_certificate=pki.cert_to_pem(certificate).decode("ascii"),
            challenge=b64(challenge),
            signature=b64(signature),
        )
        return self._post(SESSIONS_PATH, body, LoginOut)

    def disclosure(self, session: str) -> DisclosureOut:
        return self._post(DISCLOSURE_PATH, SessionIn(session=session), DisclosureOut)

    def act(self, session: str, action: str, text: str | None = None) -> ActionOut:
        body = ActionIn.model_validate({"session": session, "action": action, "text": text})
        return self._post(ACTIONS_PATH, body, ActionOut)

    def end(self, session: str) -> None:
        self._post(END_PATH, SessionIn(session=session), ActionOut)


def _refusal(reply: httpx.Response) -> JukiError:
    try:
        body: Any = reply.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    if reply.status_code == 422 and isinstance(detail, list) and detail:
        first = detail[0] if isinstance(detail[0], dict) else {}
        loc = first.get("loc") or ["request"]
        return RelayDenied(
            str(loc[-1]),
            str(first.get("type", "refused")),
            str(first.get("msg", "refused")),
            str(first.get("msg_ja", UNAVAILABLE_JA)),
        )
    return RelayUnavailable(f"HTTP {reply.status_code}")
