"""The app factories: what a browser, a terminal or another node meets.

- `create_registry_app`: a municipality's registry as its counter terminals see it — the
  registry API, the certificate counter terminal and the public verification page — whether it
  runs standalone (`juki serve`) or mounted under `/registry` on a municipality node.
- `create_node_app`: one node of the network. Who may call what:
  `/net/v1/*` is for other nodes (mutual TLS, each envelope signed; `juki.nodes.net_api`);
  `/health` and `/metrics` are `public` (a monitor with a console certificate reads them);
  `/admin/v1/*` needs the node's admin token (`juki.nodes.admin_api`); a municipality also
  serves its registry under `/registry`, with operator tokens as everywhere else.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI

from juki.certificates.ports import ContentSource
from juki.certificates.web import install_certificates
from juki.core.clock import Clock, SystemClock
from juki.core.settings import Settings
from juki.nodes.admin_api import AdminAuthenticationRequired, admin_router, on_admin_unauthenticated
from juki.nodes.config import NodeConfig
from juki.nodes.metrics import NodeMetrics
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.net_api import network_router, service_router
from juki.nodes.node import Node
from juki.nodes.wide_area import CsContentSource
from juki.registry.api import DESCRIPTION, TAGS, routers
from juki.web.errors import install_error_handlers


def create_registry_app(
    engine: sa.Engine,
    *,
    clock: Clock | None = None,
    wide_area: ContentSource | None = None,
    settings: Settings | None = None,
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
    )
    app.state.engine = engine
    app.state.clock = clock or SystemClock()
    install_error_handlers(app)
    for router in routers():
        app.include_router(router)
    install_certificates(app, wide_area=wide_area, settings=settings or Settings())
    return app


def create_node_app(node: Node, config: NodeConfig, settings: Settings) -> FastAPI:
    """Build the node's app; the node's receiver reports to this app's metrics."""
    app = FastAPI(
        title=f"juki node {node.node_id}",
        description=f"{config.name} ({node.kind.value}) — 住基ネットのノード",
        version="1",
    )
    app.state.node = node
    app.state.admin_token_sha256 = config.admin_token_sha256
    metrics = node.events if isinstance(node.events, NodeMetrics) else NodeMetrics()
    node.events = metrics
    node.receiver.events = metrics
    metrics.watch(node)
    install_error_handlers(app)
    app.add_exception_handler(AdminAuthenticationRequired, on_admin_unauthenticated)
    app.include_router(network_router(node))
    app.include_router(service_router(node, metrics))
    app.include_router(admin_router(node))
    if isinstance(node, MunicipalityNode):
        app.mount(
            "/registry",
            create_registry_app(
                node.engine,
                clock=node.clock,
                wide_area=CsContentSource(node),
                settings=config.certificate_settings(settings.log_level),
            ),
        )
    return app
