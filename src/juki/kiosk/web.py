"""The kiosk's web UI (Japanese, large touch targets, as on a multi-copy machine).

One FastAPI app over one `KioskMachine`. `GET /` shows the visit's current screen; every step is
a form POST that answers with a redirect back to it (so a reload never repeats a step). The
customer's visit is kept on the server, keyed by the hash of an unguessable, HttpOnly,
SameSite=Strict cookie; every POST carries a CSRF token derived from that cookie's secret (as
the counter terminal's forms do), so a page of another visit cannot post here. Every route
declares `kiosk_visitor` (the customer is anonymous: the card and PIN are the authentication,
checked by the relay) and every POST `csrf_checked`. Refusals are pages in Japanese, never a
500; the PIN is a form field of one POST, passed to the card and kept nowhere (no log line
holds a form body). A background task sweeps idle visits on the server's clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from juki.certificates.kiosk.model import MAX_KIOSK_COPIES
from juki.certificates.pages import with_security_headers
from juki.core.errors import JukiError
from juki.kiosk.coinbox import DENOMINATIONS
from juki.kiosk.machine import (
    ITEMS_JA,
    KINDS_JA,
    MEMBERS_JA,
    KioskMachine,
    OutOfOrder,
    Screen,
    Visit,
)
from juki.web.text import CleanStr

COOKIE: Final = "juki_kiosk"
SWEEP_SECONDS: Final = 5.0
S = Screen


@dataclass(frozen=True, slots=True)
class Visitor:
    key: str  # the stored key: the hash of the cookie's secret
    csrf: str
    secret: str
    new: bool


def kiosk_visitor(request: Request) -> Visitor:
    """Marker and dependency: this browser's visit key (a new one when it has none)."""
    secret = request.cookies.get(COOKIE, "")
    new = not (32 <= len(secret) <= 64 and secret.isascii())
    if new:
        secret = secrets.token_urlsafe(32)
    digest = hashlib.sha256(secret.encode()).digest()
    csrf = hmac.new(digest, b"juki-kiosk-csrf", hashlib.sha256).hexdigest()
    return Visitor(digest.hex(), csrf, secret, new)


VisitorDep = Annotated[Visitor, Depends(kiosk_visitor)]


class CsrfRejected(JukiError):
    message_ja = "画面の有効期限が切れました。最初からやり直してください"


def csrf_checked(visitor: VisitorDep, csrf: Annotated[CleanStr, Form(max_length=128)]) -> Visitor:
    if visitor.new or not hmac.compare_digest(csrf.encode(), visitor.csrf.encode()):
        raise CsrfRejected()
    return visitor


Posted = Annotated[Visitor, Depends(csrf_checked)]


def machine_of(request: Request) -> KioskMachine:
    machine: KioskMachine = request.app.state.machine
    return machine


Machine = Annotated[KioskMachine, Depends(machine_of)]


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    env = request.app.state.templates
    html = env.get_template(f"kiosk/{name}.html").render(**context)
    return HTMLResponse(html, status_code=status)


def _back() -> RedirectResponse:
    return RedirectResponse("/", status_code=303)


def kiosk_app(machine: KioskMachine) -> FastAPI:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    @asynccontextmanager
    async def sweeping(app: FastAPI) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(SWEEP_SECONDS)
                await run_in_threadpool(machine.sweep)

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()

    app = FastAPI(
        title="juki kiosk (コンビニ交付)",
        docs_url=None,
        redoc_url=None,
        lifespan=sweeping,
    )
    app.state.machine = machine
    app.state.templates = Environment(
        loader=PackageLoader("juki.kiosk", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    app.state.templates.globals.update(
        kinds=KINDS_JA,
        items=ITEMS_JA,
        member_choices=MEMBERS_JA,
        coins=DENOMINATIONS,
        max_copies=MAX_KIOSK_COPIES,
    )
    with_security_headers(app)
    app.add_exception_handler(RequestValidationError, _malformed)
    app.add_exception_handler(JukiError, _refused)
    app.add_exception_handler(HTTPException, _no_such_screen)
    _routes(app)
    return app


def screen(request: Request, visitor: VisitorDep, machine: Machine) -> Response:
    """The visit's current screen (the start screen for a new visitor)."""
    visit = machine.visit(visitor.key)
    refunded = machine.timed_out(visitor.key) if visit is None else None
    context: dict[str, Any] = {
        "csrf": visitor.csrf,
        "machine": machine,
        "visit": visit or Visit(machine.clock.now()),
        "timed_out": refunded is not None,
        "timed_out_refund": refunded or 0,
    }
    name = visit.screen.value if visit is not None else Screen.START.value
    response = _page(request, name, **context)
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


def _step(
    screens: tuple[Screen, ...], call: Callable[..., None]
) -> Callable[[Visitor, KioskMachine], Response]:
    def endpoint(visitor: Posted, machine: Machine) -> Response:
        machine.act(visitor.key, screens, lambda v: call(machine, v))
        return _back()

    return endpoint


def start(visitor: Posted, machine: Machine) -> Response:
    """Start: a new visit begins (a finished or stopped one is erased first)."""
    visit = machine.visit(visitor.key)
    if visit is not None and visit.screen in (S.RECEIPT, S.STOPPED):
        machine.close(visitor.key)
    machine.act(visitor.key, (S.START,), machine.begin)
    return _back()


def place_card(
    visitor: Posted,
    machine: Machine,
    serial: Annotated[str, Form(max_length=64, pattern=r"^[0-9A-Za-z:_-]+$")],
) -> Response:
    """カードを置く: the demo reader's card picked on the screen."""
    machine.act(visitor.key, (S.CARD,), lambda v: machine.place_card(v, serial))
    return _back()


def choose_municipality(
    visitor: Posted, machine: Machine, lg_code: Annotated[str, Form(pattern=r"^[0-9]{6}$")]
) -> Response:
    """市区町村の選択: a session starts, with a fresh challenge from the relay."""
    machine.act(visitor.key, (S.MUNICIPALITY,), lambda v: machine.choose_municipality(v, lg_code))
    return _back()


def enter_pin(
    visitor: Posted, machine: Machine, pin: Annotated[str, Form(max_length=16)]
) -> Response:
    """暗証番号: given to the card to sign the challenge, and then forgotten."""
    machine.act(visitor.key, (S.PIN,), lambda v: machine.enter_pin(v, pin))
    return _back()


def choose_kind(
    visitor: Posted,
    machine: Machine,
    kind: Annotated[str, Form(pattern=r"^(residence|record_items|seal)$")],
) -> Response:
    """証明書の種類."""
    machine.act(visitor.key, (S.KIND,), lambda v: machine.choose_kind(v, kind))
    return _back()


def choose_options(
    visitor: Posted,
    machine: Machine,
    members: Annotated[str, Form(pattern=r"^(self|household)$")] = "self",
    items: Annotated[list[str] | None, Form(max_length=3)] = None,
) -> Response:
    """記載事項: members of the household, 本籍・筆頭者, 世帯主・続柄, 個人番号."""
    chosen = items or []
    machine.act(visitor.key, (S.OPTIONS,), lambda v: machine.choose_options(v, members, chosen))
    return _back()


def choose_copies(
    visitor: Posted,
    machine: Machine,
    copies: Annotated[int, Form(ge=1, le=MAX_KIOSK_COPIES)],
) -> Response:
    """部数: the request goes through the relay to the municipality; the fee comes back."""
    machine.act(visitor.key, (S.COPIES,), lambda v: machine.choose_copies(v, copies))
    return _back()


def insert_coin(
    visitor: Posted, machine: Machine, coin: Annotated[int, Form(ge=1, le=10_000)]
) -> Response:
    """硬貨の投入 (the simulated coin box)."""
    machine.act(visitor.key, (S.PAY,), lambda v: machine.insert_coin(v, coin))
    return _back()


def finish(visitor: Posted, machine: Machine) -> Response:
    """Back to the start screen: everything of the visit is erased."""
    machine.close(visitor.key)
    return _back()


def _routes(app: FastAPI) -> None:
    app.add_api_route("/", screen, methods=["GET"], response_class=HTMLResponse)
    posts: list[tuple[str, Callable[..., Response]]] = [
        ("/start", start),
        ("/card", place_card),
        ("/municipality", choose_municipality),
        ("/pin", enter_pin),
        ("/card-taken", _step((S.TAKE_CARD,), KioskMachine.card_taken)),
        ("/kind", choose_kind),
        ("/options", choose_options),
        ("/copies", choose_copies),
        ("/confirm", _step((S.CONFIRM,), KioskMachine.confirm)),
        ("/coin", insert_coin),
        ("/pay", _step((S.PAY,), KioskMachine.pay_and_print)),
        ("/reminded", _step((S.REMINDER,), KioskMachine.reminded)),
        ("/finish", finish),
        ("/cancel", _step(tuple(s for s in S if s not in _UNCANCELLABLE), KioskMachine.cancel)),
    ]
    for path, endpoint in posts:
        app.add_api_route(path, endpoint, methods=["POST"], response_class=HTMLResponse)


_UNCANCELLABLE: Final = (S.START, S.REMINDER, S.RECEIPT, S.STOPPED)


async def _malformed(request: Request, exc: Exception) -> Response:
    return _page(request, "error", 422, message="入力内容が正しくありません")


async def _refused(request: Request, exc: Exception) -> Response:
    status = 409 if isinstance(exc, OutOfOrder) else 403 if isinstance(exc, CsrfRejected) else 422
    message = getattr(exc, "message_ja", "この操作は受け付けられませんでした")
    return _page(request, "error", status, message=message)


async def _no_such_screen(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    message = {404: "この画面はありません", 405: "この画面はこの方法では開けません"}.get(
        status, "この要求は受け付けられませんでした"
    )
    return _page(request, "error", status, message=message)
