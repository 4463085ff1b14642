"""Meta-test: every route of the registry API declares its authentication, "none" included.

A route that forgets `operator_actor` would silently be open to anyone; requiring an explicit
`public` marker turns that omission into a failing test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import fastapi.routing
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from juki.nodes.apps import create_registry_app
from juki.web.auth import operator_actor, public

AUTH_MARKERS: tuple[Callable[..., Any], ...] = (operator_actor, public)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def auth_markers_of(route: Any) -> list[str]:
    """The auth markers a route's effective dependency tree (router-level ones included) uses."""
    return [c.__name__ for c in _calls(route.dependant) if c is not None and c in AUTH_MARKERS]


def api_routes(app: FastAPI) -> list[Any]:
    """Every API route as served, with the dependencies and prefixes its routers add.

    FastAPI ≥ 0.16x keeps included routers nested in `app.routes`; `iter_route_contexts`
    flattens them into what a request actually reaches. Older versions list APIRoutes directly.
    """
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(iter_contexts(app.routes)) if iter_contexts else list(app.routes)
    return [r for r in routes if isinstance(getattr(r, "original_route", r), APIRoute)]


@pytest.fixture(scope="module")
def app() -> Iterator[FastAPI]:
    """Built once for the module: no test changes it, and its OpenAPI document (cached on the
    app) is then generated once, not once per test.

    Building the app must not touch the database, so an engine that never connects will do."""
    engine = sa.create_engine("sqlite://")
    try:
        yield create_registry_app(engine)
    finally:
        engine.dispose()


def test_every_route_declares_exactly_one_authentication(app: FastAPI) -> None:
    routes = api_routes(app)
    assert len(routes) >= 20
    wrong = {
        f"{sorted(r.methods)} {r.path}": markers
        for r in routes
        if len(markers := auth_markers_of(r)) != 1
    }
    assert wrong == {}


# Deliberately public: the health probe, and certificate verification, which residents and banks
# use without a login and which answers only to the holder of a certificate's id and digest.
PUBLIC_PATHS = {
    "/health",
    "/api/v1/certificates/verification",
    "/api/v1/certificates/{certificate_id}/verification",
    "/api/v1/certificates/{certificate_id}/status",
}


def test_only_health_and_verification_are_public(app: FastAPI) -> None:
    public_paths = {r.path for r in api_routes(app) if auth_markers_of(r) == ["public"]}
    assert public_paths == PUBLIC_PATHS


def test_every_route_is_in_the_openapi_document(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    missing = [
        f"{method} {r.path}"
        for r in api_routes(app)
        for method in r.methods
        if method.lower() not in paths.get(r.path, {})
    ]
    assert missing == []


def test_every_authenticated_route_documents_its_errors(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for r in api_routes(app):
        if auth_markers_of(r) != ["operator_actor"]:
            continue
        for method in r.methods:
            documented = set(paths[r.path][method.lower()]["responses"])
            assert {"401", "403", "422"} <= documented, f"{method} {r.path}"


def test_meta_test_flags_a_route_without_a_marker() -> None:
    bare = FastAPI()

    @bare.get("/open")
    def open_route() -> dict[str, str]:
        return {}

    assert [auth_markers_of(r) for r in api_routes(bare)] == [[]]


# Routes that read personal registers: an operator's token, never public, errors documented.
OPERATOR_READS = {
    ("GET", "/api/v1/certificates/wide-area/requests"),  # 広域交付の照会記録
}


@pytest.mark.parametrize(("method", "path"), sorted(OPERATOR_READS))
def test_register_reads_need_an_operator(app: FastAPI, method: str, path: str) -> None:
    (route,) = [r for r in api_routes(app) if r.path == path and method in r.methods]
    assert auth_markers_of(route) == ["operator_actor"]
    operation = app.openapi()["paths"][path][method.lower()]
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} >= {"since", "until", "limit"}
