"""Meta-test for the certificate UIs mounted in the registry app: every route declares its
authentication, every terminal form post checks its CSRF token, and only sign-in and the
verification pages are open."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import Mount

from juki.certificates.terminal.session import csrf_checked, terminal_operator
from juki.nodes.apps import create_registry_app
from juki.web.auth import operator_actor, public

MARKERS: tuple[Callable[..., Any], ...] = (operator_actor, public, terminal_operator)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def markers(route: APIRoute) -> list[str]:
    return [c.__name__ for c in _calls(route.dependant) if c is not None and c in MARKERS]


def mounted(app: FastAPI) -> dict[str, list[APIRoute]]:
    out: dict[str, list[APIRoute]] = {}
    for route in app.routes:
        if isinstance(route, Mount) and isinstance(route.app, FastAPI):
            out[route.path] = [r for r in route.app.routes if isinstance(r, APIRoute)]
    return out


@pytest.fixture(scope="module")
def app() -> Iterator[FastAPI]:
    engine = sa.create_engine("sqlite://")  # building the app touches no database, key or font
    try:
        yield create_registry_app(engine)
    finally:
        engine.dispose()


def test_terminal_and_verification_pages_are_mounted(app: FastAPI) -> None:
    assert set(mounted(app)) == {"/terminal", "/verify"}


def test_every_mounted_route_declares_exactly_one_authentication(app: FastAPI) -> None:
    wrong = {
        f"{prefix}{r.path} {sorted(r.methods)}": found
        for prefix, routes in mounted(app).items()
        for r in routes
        if len(found := markers(r)) != 1
    }
    assert wrong == {}


def test_only_sign_in_and_verification_pages_are_open(app: FastAPI) -> None:
    open_routes = {
        f"{prefix}{r.path}"
        for prefix, routes in mounted(app).items()
        for r in routes
        if markers(r) == ["public"]
    }
    assert open_routes == {
        # Signing in and enrolling 照合情報 (each post checks the form's double-submit nonce).
        "/terminal/login",
        "/terminal/login/options",
        "/terminal/enrol",
        "/terminal/enrol/options",
        "/terminal/webauthn.js",
        "/verify/",
        "/verify/check",
        "/verify/{certificate_id}",
        "/verify/pdf",
    }


def test_every_terminal_form_post_checks_csrf(app: FastAPI) -> None:
    unchecked = [
        r.path
        for r in mounted(app)["/terminal"]
        if "POST" in r.methods
        and markers(r) == ["terminal_operator"]
        and csrf_checked not in set(_calls(r.dependant))
    ]
    assert unchecked == []
