"""How a request says who it is: every route depends on exactly one of these.

`operator_actor` is the seam where WebAuthn verification will replace the bearer token; routes
only ever see the resulting `Actor`. `public` does nothing, but declaring it makes "this route
needs no authentication" a decision a meta-test can see, rather than an omission.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from juki.security.actors import Actor
from juki.security.operators import TokenRefused, check_token
from juki.security.uow import SqlUnitOfWork
from juki.web.errors import AuthenticationRequired

TERMINAL_HEADER: Final = "X-Juki-Terminal"
UNKNOWN_TERMINAL: Final = "-"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="operatorToken",
    description="An operator's bearer token (操作者トークン); WebAuthn replaces it later.",
)


def operator_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    terminal_id: Annotated[
        str | None,
        Header(
            alias=TERMINAL_HEADER,
            pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
            description="The terminal the operator works at; recorded in the operation log.",
        ),
    ] = None,
) -> Actor:
    """The operator behind the bearer token, at the terminal the header names."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationRequired()
    try:
        return check_token(
            SqlUnitOfWork(request.app.state.engine, clock=request.app.state.clock),
            credentials.credentials,
            terminal_id or UNKNOWN_TERMINAL,
        )
    except TokenRefused as exc:
        raise AuthenticationRequired(exc.reason, exc.message_en, exc.message_ja) from exc


def public() -> None:
    """Marker: this route is deliberately open to anyone (e.g. a load balancer's health probe)."""


OperatorActor = Annotated[Actor, Depends(operator_actor)]
PUBLIC: Final = Depends(public)
