"""Signing in and out at the terminal, and enrolling 照合情報: the only screens open without an
operator's session.

A session needs both factors (seed 002 第11条, seed 001 第7条・第16条): the operator's WebAuthn
credential, verified by the device (`navigator.credentials.get` with user verification: the
biometric stays in the device), and the operator card opened by its PIN. The page's script
(`webauthn.js`, the only script the terminal serves) asks the server for a challenge, lets the
authenticator answer it, and posts the answer with the PIN; the server verifies the assertion,
has the card sign its challenge and checks the signature against the key registered at the
card's issue (`juki.security.verification.login`). The PIN goes to the server's card reader
(docs/operators.md says where the boundary lies in a deployment with a reader at the terminal).

The forms carry a double-submit nonce (a cookie and a field that must match), so another site
cannot sign the browser in as someone else. Refusals answer 401 with the reason in Japanese.
"""

from __future__ import annotations

import secrets
from importlib.resources import files
from typing import Annotated, Any, Final

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from juki.certificates.terminal.screens import Route, TerminalScreens
from juki.certificates.terminal.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    TERMINAL_COOKIE,
    TERMINAL_RE,
    FormSession,
    delete_cookie,
    desk_of,
    same_secret,
    set_cookie,
)
from juki.core.errors import JukiError
from juki.security.operators import OPERATOR_ID_RE
from juki.security.uow import SqlUnitOfWork
from juki.security.verification import login as verification
from juki.security.verification.rules import MESSAGES_JA, LoginRefused, Refusal
from juki.security.verification.wiring import verification_of
from juki.web.text import CleanStr

# The sign-in pages run one script of ours, which talks to this origin only.
SCRIPT_CSP: Final = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ENDED_JA: Final = {
    "idle": "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください"
}
MAX_CREDENTIAL_FIELD: Final = 8192


class OptionsIn(BaseModel):
    operator_id: CleanStr = Field(max_length=64)
    terminal: CleanStr = Field(max_length=64)
    nonce: CleanStr = Field(max_length=64)
    code: CleanStr = Field(default="", max_length=64)  # enrolment only


class AnswerIn(BaseModel):
    challenge_id: CleanStr = Field(max_length=64)
    credential: dict[str, Any]
    nonce: CleanStr = Field(max_length=64)
    pin: CleanStr = Field(default="", max_length=16)  # sign-in only


def _refused(message: str, status: int = 401) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def _nonce_ok(request: Request, nonce: str) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    return bool(expected) and same_secret(nonce, expected)


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def _form(request: Request, screens: TerminalScreens, page: str, **context: Any) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = screens.page(
        page, None, nonce=nonce, terminal=request.cookies.get(TERMINAL_COOKIE, ""), **context
    )
    response.headers["Content-Security-Policy"] = SCRIPT_CSP
    set_cookie(response, request, LOGIN_COOKIE, nonce)
    return response


def login_form(
    request: Request,
    screens: TerminalScreens,
    ended: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    return _form(request, screens, "login.html", error=ENDED_JA.get(ended))


def enrol_form(request: Request, screens: TerminalScreens) -> HTMLResponse:
    return _form(request, screens, "enrol.html", error=None)


def script() -> Response:
    text = files("juki.certificates").joinpath("templates/terminal/webauthn.js").read_text()
    return Response(text, media_type="text/javascript")


def _checked(request: Request, body: OptionsIn) -> JSONResponse | None:
    if not _nonce_ok(request, body.nonce):
        return _refused(MESSAGES_JA[Refusal.CHALLENGE])
    if not TERMINAL_RE.fullmatch(body.terminal):
        return _refused("端末IDは半角英数字と「_ . : -」の1〜64文字で入力してください", 422)
    if not OPERATOR_ID_RE.fullmatch(body.operator_id):
        return _refused("照合IDは半角英数字と「_」「.」「-」の1〜64文字で入力してください", 422)
    return None


def login_options(request: Request, body: OptionsIn) -> JSONResponse:
    bad = _checked(request, body)
    if bad is not None:
        return bad
    desk = desk_of(request)
    started = verification.begin_login(
        SqlUnitOfWork(desk.engine, clock=desk.clock),
        verification_of(desk.settings).rp,
        body.operator_id,
        body.terminal,
    )
    return JSONResponse({"challenge_id": started.challenge_id, "publicKey": started.options})


def login(request: Request, screens: TerminalScreens, body: AnswerIn) -> JSONResponse:
    if not _nonce_ok(request, body.nonce):
        return _refused(MESSAGES_JA[Refusal.CHALLENGE])
    desk = desk_of(request)
    setup = verification_of(desk.settings)
    try:
        signed_in = verification.finish_login(
            SqlUnitOfWork(desk.engine, clock=desk.clock),
            setup.rp,
            setup.reader,
            setup.policy,
            desk.lg_code(),
            challenge_id=body.challenge_id,
            response=body.credential,
            pin=body.pin,
            origin=_origin(request),
        )
    except LoginRefused as refused:
        return _refused(refused.message_ja)
    response = JSONResponse({"redirect": f"{screens.base}/"})
    set_cookie(response, request, SESSION_COOKIE, signed_in.secret)
    set_cookie(response, request, TERMINAL_COOKIE, signed_in.actor.terminal_id)
    delete_cookie(response, request, LOGIN_COOKIE)
    return response


def enrol_options(request: Request, body: OptionsIn) -> JSONResponse:
    bad = _checked(request, body)
    if bad is not None:
        return bad
    desk = desk_of(request)
    try:
        started = verification.begin_enrolment(
            SqlUnitOfWork(desk.engine, clock=desk.clock),
            verification_of(desk.settings).rp,
            body.operator_id,
            body.code,
            body.terminal,
        )
    except LoginRefused as refused:
        return _refused(refused.message_ja)
    return JSONResponse({"challenge_id": started.challenge_id, "publicKey": started.options})


def enrol(request: Request, body: AnswerIn) -> JSONResponse:
    if not _nonce_ok(request, body.nonce):
        return _refused(MESSAGES_JA[Refusal.CHALLENGE])
    desk = desk_of(request)
    try:
        credential = verification.finish_enrolment(
            SqlUnitOfWork(desk.engine, clock=desk.clock),
            verification_of(desk.settings).rp,
            body.challenge_id,
            body.credential,
            _origin(request),
        )
    except LoginRefused as refused:
        return _refused(refused.message_ja)
    except JukiError:
        return _refused("照合情報を登録できませんでした。生体認証に対応した端末で操作してください")
    return JSONResponse(
        {"message": f"照合情報を登録しました（照合ID {credential.operator_id}）。ログインできます"}
    )


def logout(request: Request, session: FormSession, screens: TerminalScreens) -> Response:
    """The operator leaves the seat: the session ends (logged); take the card out."""
    desk = desk_of(request)
    secret = request.cookies.get(SESSION_COOKIE, "")
    verification.logout(SqlUnitOfWork(desk.engine, clock=desk.clock), secret)
    response = screens.see_other("/login")
    delete_cookie(response, request, SESSION_COOKIE)
    return response


ROUTES: Final = (
    Route("GET", "/login", login_form, public=True),
    Route("POST", "/login/options", login_options, public=True),
    Route("POST", "/login", login, public=True),
    Route("GET", "/enrol", enrol_form, public=True),
    Route("POST", "/enrol/options", enrol_options, public=True),
    Route("POST", "/enrol", enrol, public=True),
    Route("GET", "/webauthn.js", script, public=True),
    Route("POST", "/logout", logout),
)
