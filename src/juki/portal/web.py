"""The resident portal's web UI (Japanese): log in with the card and PIN, see what each level
holds and did about you, register for 本人通知, ask for a correction.

One FastAPI app over a `PortalRelayPort` (the national node's portal relay over HTTPS,
`HttpPortalRelay`) and a card reader (the demo's software cards; a PKCS#11 reader behind the
same port). A browser's session is the SHA-256 of an unguessable HttpOnly, SameSite=Strict
cookie, mapped in memory to the relay's session token and nothing else: every page asks the
relay afresh and keeps nothing of the answer. Every POST carries a CSRF token derived from the
cookie; the PIN is one form field of one request, given to the card and kept nowhere. Every
route declares `portal_visitor` (the resident is anonymous until the card's signature is
checked by the relay). Refusals are pages in Japanese, never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Final, Protocol

from cryptography import x509
from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from juki.cards.rules import CardLocked, WrongPin, check_auth_pin
from juki.certificates.model import CertificateKind
from juki.certificates.pages import with_security_headers
from juki.core.clock import JST
from juki.core.errors import JukiError, RuleViolation
from juki.kiosk.devices import CardReader
from juki.portal import rules
from juki.portal.wire import ActionOut, DisclosureOut, LoginOut
from juki.web.text import CleanStr

COOKIE: Final = "juki_portal"
BROWSER_SESSION: Final = timedelta(minutes=15)
DONE_JA: Final = {
    "registered": "本人通知の登録を受け付けました。",
    "withdrawn": "本人通知の登録を廃止しました。",
    "correction": "訂正の申出を受け付けました。住所地の市区町村の窓口から連絡があります。",
}


class PortalRelayPort(Protocol):
    def challenge(self) -> bytes: ...

    def login(
        self, certificate: x509.Certificate, challenge: bytes, signature: bytes
    ) -> LoginOut: ...

    def disclosure(self, session: str) -> DisclosureOut: ...

    def act(self, session: str, action: str, text: str | None = None) -> ActionOut: ...

    def end(self, session: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Visitor:
    key: str  # the hash of the cookie's secret: what the sessions are keyed by
    csrf: str
    secret: str
    new: bool


def portal_visitor(request: Request) -> Visitor:
    """Marker and dependency: this browser's key (a new one when it has none)."""
    secret = request.cookies.get(COOKIE, "")
    new = not (32 <= len(secret) <= 64 and secret.isascii())
    if new:
        secret = secrets.token_urlsafe(32)
    digest = hashlib.sha256(secret.encode()).digest()
    return Visitor(
        digest.hex(), hmac.new(digest, b"juki-portal-csrf", hashlib.sha256).hexdigest(), secret, new
    )


VisitorDep = Annotated[Visitor, Depends(portal_visitor)]


class FormExpired(JukiError):
    message_ja = "画面の有効期限が切れました。もう一度ログインしてください"


class NotLoggedIn(JukiError):
    message_ja = "ログインしてください"


def checked(visitor: VisitorDep, csrf: Annotated[CleanStr, Form(max_length=128)]) -> Visitor:
    if visitor.new or not hmac.compare_digest(csrf.encode(), visitor.csrf.encode()):
        raise FormExpired()
    return visitor


Posted = Annotated[Visitor, Depends(checked)]


class BrowserSessions:
    """Cookie hash → (the relay's session token, when it ends). Nothing else, in memory."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def keep(self, key: str, token: str) -> None:
        with self._lock:
            self._tokens[key] = (token, self._now() + BROWSER_SESSION)

    def token(self, key: str) -> str | None:
        with self._lock:
            found = self._tokens.get(key)
            if found is None or self._now() >= found[1]:
                self._tokens.pop(key, None)
                return None
            return found[0]

    def forget(self, key: str) -> str | None:
        with self._lock:
            found = self._tokens.pop(key, None)
        return None if found is None else found[0]


@dataclass
class Portal:
    relay: PortalRelayPort
    reader: CardReader
    sessions: BrowserSessions
    names: dict[str, str]  # node id → its name, for the screens (市区町村, 都道府県)


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


PortalDep = Annotated[Portal, Depends(portal_of)]


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    env = request.app.state.templates
    html = env.get_template(f"portal/{name}.html").render(**context)
    return HTMLResponse(html, status_code=status)


def _with_cookie(request: Request, visitor: Visitor, response: Response) -> Response:
    if visitor.new:
        response.set_cookie(
            COOKIE,
            visitor.secret,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


def home(request: Request, visitor: VisitorDep, portal: PortalDep) -> Response:
    """ログイン: the cards at the reader (demo: the software cards) and the PIN."""
    if portal.sessions.token(visitor.key) is not None:
        return RedirectResponse("/mypage", status_code=303)
    page = _page(request, "login", cards=portal.reader.present(), csrf=visitor.csrf, error=None)
    return _with_cookie(request, visitor, page)


def login(
    request: Request,
    visitor: Posted,
    portal: PortalDep,
    serial: Annotated[str, Form(max_length=64, pattern=r"^[0-9A-Za-z:_-]+$")],
    pin: Annotated[str, Form(max_length=16)],
) -> Response:
    """The card signs the relay's challenge with the PIN; the relay opens a session for it."""
    try:
        card = portal.reader.take(serial)
        challenge = portal.relay.challenge()
        signature = card.sign_auth(check_auth_pin(pin), challenge)
        opened = portal.relay.login(card.auth_certificate(), challenge, signature)
    except (WrongPin, CardLocked) as exc:
        cards = portal.reader.present()
        return _page(request, "login", 422, cards=cards, csrf=visitor.csrf, error=exc.message_ja)
    portal.sessions.keep(visitor.key, opened.session)
    return RedirectResponse("/mypage", status_code=303)


def _token(visitor: Visitor, portal: Portal) -> str:
    token = portal.sessions.token(visitor.key)
    if token is None:
        raise NotLoggedIn()
    return token


def mypage(
    request: Request,
    visitor: VisitorDep,
    portal: PortalDep,
    msg: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """あなたの情報: asked of the nodes now, shown, and not kept."""
    shown = portal.relay.disclosure(_token(visitor, portal))
    return _page(
        request,
        "mypage",
        d=shown,
        csrf=visitor.csrf,
        done=DONE_JA.get(msg, ""),
        name_of=lambda node_id: portal.names.get(node_id, node_id),
        kind_ja=_kind_ja,
        role_ja=rules.role_ja,
        correction_ja=lambda status: rules.CORRECTION_JA.get(status, status),
        items_ja=rules.items_ja,
        channel_ja=rules.CHANNEL_JA,
        requester_ja=rules.REQUESTER_JA,
        when=_when,
    )


def self_notice(
    visitor: Posted,
    portal: PortalDep,
    action: Annotated[str, Form(pattern=r"^(register|withdraw)$")],
) -> Response:
    """本人通知の登録・廃止."""
    answer = portal.relay.act(_token(visitor, portal), f"{action}_self_notice")
    _raise_refused(answer)
    return RedirectResponse(
        f"/mypage?msg={'registered' if action == 'register' else 'withdrawn'}", status_code=303
    )


def correction(
    visitor: Posted, portal: PortalDep, text: Annotated[str, Form(max_length=2000)]
) -> Response:
    """訂正の申出: what is wrong, in the resident's words, to their municipality's counter."""
    answer = portal.relay.act(_token(visitor, portal), "correction", rules.check_correction(text))
    _raise_refused(answer)
    return RedirectResponse("/mypage?msg=correction", status_code=303)


def logout(visitor: Posted, portal: PortalDep) -> Response:
    """ログアウト: the relay's session ends and the browser's is forgotten."""
    token = portal.sessions.forget(visitor.key)
    if token is not None:
        portal.relay.end(token)
    return RedirectResponse("/", status_code=303)


class ActionRefused(JukiError):
    def __init__(self, message_ja: str) -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja


def _raise_refused(answer: ActionOut) -> None:
    if answer.outcome != "done":
        raise ActionRefused(answer.message_ja or "受け付けられませんでした")


def _kind_ja(kind: str) -> str:
    try:
        return CertificateKind(kind).label_ja
    except ValueError:
        return kind


def _when(stamp: str) -> str:
    """2025-04-01T00:00:00+00:00 → 2025年4月1日 9:00 (Japan time)."""
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if at.tzinfo is not None:
        at = at.astimezone(JST)
    return f"{at.year}年{at.month}月{at.day}日 {at.hour}:{at.minute:02d}"


def portal_app(portal: Portal) -> FastAPI:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    app = FastAPI(
        title="juki resident portal (住基 本人確認情報の開示)", docs_url=None, redoc_url=None
    )
    app.state.portal = portal
    app.state.templates = Environment(
        loader=PackageLoader("juki.portal", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    with_security_headers(app)
    app.add_exception_handler(RequestValidationError, _malformed)
    app.add_exception_handler(JukiError, _refused)
    app.add_exception_handler(HTTPException, _no_such_page)
    app.add_api_route("/", home, methods=["GET"], response_class=HTMLResponse)
    app.add_api_route("/mypage", mypage, methods=["GET"], response_class=HTMLResponse)
    posts: Sequence[tuple[str, Callable[..., Response]]] = (
        ("/login", login),
        ("/self-notice", self_notice),
        ("/correction", correction),
        ("/logout", logout),
    )
    for path, endpoint in posts:
        app.add_api_route(path, endpoint, methods=["POST"], response_class=HTMLResponse)
    return app


async def _malformed(request: Request, exc: Exception) -> Response:
    return _page(request, "error", 422, message="入力内容が正しくありません", login=False)


async def _refused(request: Request, exc: Exception) -> Response:
    status = 403 if isinstance(exc, FormExpired) else 401 if isinstance(exc, NotLoggedIn) else 422
    if getattr(exc, "rule", "") == "session_ended":
        status = 401
    message = getattr(exc, "message_ja", "この操作は受け付けられませんでした")
    if isinstance(exc, RuleViolation):
        message = exc.message_ja
    return _page(request, "error", status, message=message, login=status == 401)


async def _no_such_page(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    message = {404: "このページはありません", 405: "このページはこの方法では開けません"}.get(
        status, "この要求は受け付けられませんでした"
    )
    return _page(request, "error", status, message=message, login=False)
