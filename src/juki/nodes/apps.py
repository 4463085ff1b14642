"""The app factories: what a browser, a terminal or another node meets.

- `create_registry_app`: a municipality's registry as its counter terminals see it — the
  registry API, the certificate counter terminal and the public verification page — whether it
  runs standalone (`juki serve`) or mounted under `/registry` on a municipality node.
- `create_public_app`: what a municipality node serves on its public listener (ordinary TLS, no
  network client certificate): certificate verification alone, under `/registry` as on the node.
- `create_node_app`: one node of the network. Who may call what:
  `/net/v1/*` is for other nodes (mutual TLS, each envelope signed; `juki.nodes.net_api`);
  `/health` and `/metrics` are `public` (a monitor with a console certificate reads them);
  `/admin/v1/*` needs the node's admin token (`juki.nodes.admin_api`); the national node
  serves the kiosk relay under `/kiosk/v1/*` to registered stores, each known by its
  network-root client certificate (`juki.nodes.kiosk_api`); the national node and each
  prefecture answer registered agencies under `/provision/v1/*`, each agency known by its
  network-root client certificate (`juki.nodes.provide_api`); a municipality also
  serves its registry under `/registry`, with operator tokens as everywhere else.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from juki.certificates.ports import ContentSource
from juki.certificates.ratelimit import RateLimiter
from juki.certificates.web import install_certificates, install_verification
from juki.core.clock import Clock, SystemClock
from juki.core.settings import Settings
from juki.governance.ledgers.api import ledgers_router
from juki.nodes.admin_api import AdminAuthenticationRequired, admin_router, on_admin_unauthenticated
from juki.nodes.admin_token import AdminTokenCheck
from juki.nodes.config import NodeConfig
from juki.nodes.kiosk_api import kiosk_router
from juki.nodes.kiosk_relay import KioskRelay
from juki.nodes.ledger_screens import LEDGER_SCREENS
from juki.nodes.metrics import NodeMetrics
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.national import NationalNode
from juki.nodes.net_api import network_router, service_router
from juki.nodes.node import Node
from juki.nodes.portal_api import portal_router
from juki.nodes.portal_relay import PortalRelay
from juki.nodes.prefecture import PrefectureNode
from juki.nodes.provide_api import ProvisionBodyLimit, provision_router
from juki.nodes.wide_area import CsContentSource
from juki.registry.api import DESCRIPTION, TAGS, routers
from juki.registry.review.wiring import review_policy
from juki.web.errors import install_error_handlers

DOCS_ASSETS: Final = "/docs-assets"


def offline_docs(app: FastAPI) -> None:
    """`/docs` from Swagger UI's files as the installed `fastapi-offline` package ships them,
    served by the app itself (FastAPI's self-hosting recipe), so the page works without the
    internet; every URL follows the mount (`/registry/docs` on a node). Plain routes, like
    FastAPI's own docs route: not in the OpenAPI document, open like it."""
    static = files("fastapi_offline").joinpath("static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(static)), name="docs-assets")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — API docs",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
        )

    app.add_route("/docs", swagger_ui, include_in_schema=False)


def create_registry_app(
    engine: sa.Engine,
    *,
    clock: Clock | None = None,
    wide_area: ContentSource | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """Build the registry API around an engine; tests and the node wiring pass their own clock.

    A municipality node passes its CS as `wide_area` (広域交付 asks home municipalities through
    it) and its own `settings` (the network-issued signing key); a standalone registry passes
    the settings read at start, and without any the built-in defaults apply."""
    app = FastAPI(
        title="juki registry API",
        description=DESCRIPTION,
        version="1",
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
    )
    offline_docs(app)
    app.state.engine = engine
    app.state.clock = clock or SystemClock()
    settings = settings or Settings()
    # 仮登録 → 本登録 (juki.registry.review): on unless the municipality turned it off
    app.state.review_policy = review_policy(settings)
    install_error_handlers(app)
    for router in routers():
        app.include_router(router)
    app.include_router(ledgers_router())  # the governance ledgers (docs/ledgers.md)
    install_certificates(
        app,
        wide_area=wide_area,
        settings=settings,
        limiter=limiter,
        screens=(LEDGER_SCREENS,),
    )
    return app


def create_public_app(
    engine: sa.Engine,
    settings: Settings,
    *,
    clock: Clock | None = None,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """A municipality's public listener: certificate verification (the status endpoint, the
    verification API and page) under `/registry`, the same paths as on the node, and nothing
    else — no registry API, no terminal, no docs. Anyone may connect; each client address is
    rate-limited."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    public = FastAPI(
        title="juki certificate verification",
        version="1",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    public.state.engine = engine
    public.state.clock = clock or SystemClock()
    install_error_handlers(public)
    install_verification(public, settings=settings, limiter=limiter)
    app.mount("/registry", public)
    return app


def create_node_app(node: Node, config: NodeConfig, settings: Settings) -> FastAPI:
    """Build the node's app; the node's receiver reports to this app's metrics."""
    app = FastAPI(
        title=f"juki node {node.node_id}",
        description=f"{config.name} ({node.kind.value}) — 住基ネットのノード",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    offline_docs(app)
    app.state.node = node
    app.state.admin_token = AdminTokenCheck(config, node.clock)
    metrics = node.events if isinstance(node.events, NodeMetrics) else NodeMetrics()
    node.events = metrics
    node.receiver.events = metrics
    metrics.watch(node)
    install_error_handlers(app)
    app.add_exception_handler(AdminAuthenticationRequired, on_admin_unauthenticated)
    app.include_router(network_router(node))
    app.include_router(service_router(node, metrics))
    app.include_router(admin_router(node))
    if isinstance(node, NationalNode) and node.card_ca is not None:
        # the relay (証明書交付センター) for registered stores' kiosks (juki.nodes.kiosk_api)
        app.state.kiosk_relay = KioskRelay(node, slots=settings.kiosk_slots)
        app.include_router(kiosk_router(node, app.state.kiosk_relay))
        # the resident portal's relay (本人確認情報開示・提供状況開示: juki.nodes.portal_api)
        app.state.portal_relay = PortalRelay(node)
        app.include_router(portal_router(app.state.portal_relay))
    if isinstance(node, NationalNode | PrefectureNode):
        # 本人確認情報の提供 to registered agencies, each known by its network-root client
        # certificate (juki.nodes.provide_api)
        app.include_router(provision_router(node))
        app.add_middleware(ProvisionBodyLimit)
    if isinstance(node, MunicipalityNode):
        app.mount(
            "/registry",
            create_registry_app(
                node.engine,
                clock=node.clock,
                wide_area=CsContentSource(node),
                settings=config.certificate_settings(settings),
            ),
        )
    return app
