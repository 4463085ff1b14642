"""Signing in and out at the terminal: the only screens open without an operator's session.

The sign-in form carries a double-submit nonce (a cookie and a hidden field that must match), so
another site cannot sign the browser in as someone else; a good token sets the operator and
terminal cookies and sends the browser home, a bad one shows the form again with a fresh nonce.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Final

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from juki.certificates.terminal.screens import Route, TerminalScreens
from juki.certificates.terminal.session import (
    LOGIN_COOKIE,
    TERMINAL_COOKIE,
    TERMINAL_RE,
    TOKEN_COOKIE,
    FormSession,
    delete_cookie,
    same_secret,
    set_cookie,
)
from juki.security.operators import MAX_TOKEN_LEN, TokenRefused, check_token
from juki.security.uow import SqlUnitOfWork
from juki.web.text import CleanStr


def login_form(request: Request, screens: TerminalScreens) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = screens.page(
        "login.html",
        None,
        nonce=nonce,
        terminal=request.cookies.get(TERMINAL_COOKIE, ""),
        error=None,
    )
    set_cookie(response, request, LOGIN_COOKIE, nonce)
    return response


def login(
    request: Request,
    screens: TerminalScreens,
    token: Annotated[CleanStr, Form(max_length=MAX_TOKEN_LEN)],
    terminal: Annotated[CleanStr, Form(max_length=64)],
    nonce: Annotated[CleanStr, Form(max_length=64)],
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    error = None
    actor = None
    if not expected or not same_secret(nonce, expected):
        error = "画面の有効期限が切れました。もう一度ログインしてください"
    elif not TERMINAL_RE.fullmatch(terminal):
        error = "端末IDは半角英数字と「_ . : -」の1〜64文字で入力してください"
    else:
        desk = screens.desk()
        try:
            actor = check_token(SqlUnitOfWork(desk.engine, clock=desk.clock), token, terminal)
        except TokenRefused as refused:
            # An expired or revoked token says so: the operator asks for a new one.
            error = (
                refused.message_ja
                if refused.reason in ("expired", "revoked")
                else "操作者トークンが正しくないか、無効になっています"
            )
    if error or actor is None:
        fresh = secrets.token_urlsafe(24)
        response = screens.page(
            "login.html", None, 401, nonce=fresh, terminal=terminal[:64], error=error
        )
        set_cookie(response, request, LOGIN_COOKIE, fresh)
        return response
    signed_in = screens.see_other("/")
    set_cookie(signed_in, request, TOKEN_COOKIE, token)
    set_cookie(signed_in, request, TERMINAL_COOKIE, terminal)
    delete_cookie(signed_in, request, LOGIN_COOKIE)
    return signed_in


def logout(request: Request, session: FormSession, screens: TerminalScreens) -> Response:
    response = screens.see_other("/login")
    delete_cookie(response, request, TOKEN_COOKIE)
    return response


ROUTES: Final = (
    Route("GET", "/login", login_form, public=True),
    Route("POST", "/login", login, public=True),
    Route("POST", "/logout", logout),
)
