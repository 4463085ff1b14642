"""The terminal app: builds one FastAPI app for a registry and adds every screen to it.

The screens are module-level functions listed by their modules (`signin`, `counter`,
`wide_area`); this factory only wires them — the desk and the CS they read through `Screens`,
the templates' shared names, the security headers — and turns refusals into pages: no session
sends the browser to sign in, a malformed form or a refused action shows the error page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Final

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute

from juki.certificates.desk import CertificateDesk
from juki.certificates.jadates import add_date_filters
from juki.certificates.model import CertificateKind, OptionalItem
from juki.certificates.pages import templates, with_security_headers
from juki.certificates.ports import ContentSource
from juki.certificates.terminal import corrections, counter, entry, notices, review, signin
from juki.certificates.terminal import wide_area as wide_area_screens
from juki.certificates.terminal.forms import WIDE_AREA_ITEMS
from juki.certificates.terminal.requester import BASES, ID_DOCUMENTS, QUALIFICATIONS
from juki.certificates.terminal.screens import Screens, ScreenSet, screens_of
from juki.certificates.terminal.session import LoginRequired
from juki.core.errors import JukiError, NotFoundError, PermissionDeniedError, StateConflictError
from juki.web.auth import PUBLIC


def terminal_app(
    desk: Callable[[], CertificateDesk],
    wide_area: ContentSource | None = None,
    more: tuple[ScreenSet, ...] = (),
) -> FastAPI:
    """The terminal; `wide_area` is this municipality's CS when the registry runs in a
    network node (the same source the API's 広域交付 route uses), None when it runs alone;
    `more`: other features' screens (`ScreenSet`)."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    env = templates(*(m.template_package for m in more))
    env.globals["more_menu"] = [link for m in more for link in m.menu]
    add_date_filters(env)
    env.globals["kinds"] = list(CertificateKind)
    env.globals["optional_items"] = list(OptionalItem)
    env.globals["wide_area_items"] = WIDE_AREA_ITEMS
    env.globals["on_network"] = wide_area is not None
    env.globals["tp_bases"] = BASES
    env.globals["tp_qualifications"] = QUALIFICATIONS
    env.globals["tp_documents"] = ID_DOCUMENTS
    app.state.desk = desk
    app.state.screens = Screens(desk=desk, wide_area=wide_area, templates=env)
    with_security_headers(app)
    app.add_exception_handler(LoginRequired, _login)
    app.add_exception_handler(RequestValidationError, _malformed)
    app.add_exception_handler(JukiError, _refused)
    app.add_exception_handler(HTTPException, _no_such_screen)
    app.router.routes.extend(_screen_routes())
    for screen_set in more:
        app.router.routes.extend(_more_routes(screen_set))
    return app


@cache
def _screen_routes() -> tuple[BaseRoute, ...]:
    """The screens' routes, prepared once per process and shared by every terminal app: a
    route keeps no state of its own (a screen reads its app's through the request), and
    preparing one (FastAPI reads every parameter's model) is most of the cost of building the
    registry's app. Shared routes see no app's `dependency_overrides`; the terminal has none."""
    router = APIRouter()
    for route in (
        *signin.ROUTES,
        *counter.ROUTES,
        *wide_area_screens.ROUTES,
        *notices.ROUTES,
        *corrections.ROUTES,
        *review.ROUTES,
        *entry.ROUTES,
    ):
        router.add_api_route(
            route.path,
            route.endpoint,
            methods=[route.method],
            response_class=HTMLResponse,
            dependencies=[PUBLIC] if route.public else None,
        )
    return tuple(router.routes)


@cache
def _more_routes(screen_set: ScreenSet) -> tuple[BaseRoute, ...]:
    """Another feature's screens, prepared once per process as ours are."""
    router = APIRouter()
    for route in screen_set.routes:
        router.add_api_route(
            route.path, route.endpoint, methods=[route.method], response_class=HTMLResponse
        )
    return tuple(router.routes)


async def _login(request: Request, exc: Exception) -> Response:
    ended = getattr(exc, "reason", "none")
    return screens_of(request).see_other("/login?ended=idle" if ended == "idle" else "/login")


async def _malformed(request: Request, exc: Exception) -> Response:
    return screens_of(request).page(
        "error.html", None, 422, message="入力内容が正しくありません", field=""
    )


# Routing's own refusals, as pages: the terminal answers a browser in HTML whatever it asks.
HTTP_ERRORS_JA: Final = {
    404: "この画面はありません",
    405: "この画面はこの方法では開けません",
}


async def _no_such_screen(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    message = HTTP_ERRORS_JA.get(status, "この要求は受け付けられませんでした")
    response = screens_of(request).page("error.html", None, status, message=message, field="")
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)  # Allow, on a 405
    return response


async def _refused(request: Request, exc: Exception) -> Response:
    status = 422
    if isinstance(exc, PermissionDeniedError):
        status = 403
    elif isinstance(exc, NotFoundError):
        status = 404
    elif isinstance(exc, StateConflictError):
        status = 409
    message = getattr(exc, "message_ja", "この操作は受け付けられませんでした")
    return screens_of(request).page(
        "error.html", None, status, message=message, field=getattr(exc, "field", "")
    )
