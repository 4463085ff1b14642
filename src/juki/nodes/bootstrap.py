"""The one wiring point of a network node: `bootstrap(config)` builds a running node's engine,
key, transport, clock and random source from its `node.json`, and nothing else builds them."""

from __future__ import annotations

import random
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from juki.cards.local_ca import load_or_create
from juki.certificates.desk import CertificateDesk
from juki.core.clock import Clock, SystemClock
from juki.network import pki
from juki.network.directory import NodeKind
from juki.network.https import HttpsTransport
from juki.nodes.config import ConfigError, NodeConfig
from juki.nodes.kiosk import MunicipalKiosk
from juki.nodes.memory import NODE_CLASSES
from juki.nodes.metrics import NodeMetrics
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.national import NationalNode
from juki.nodes.node import Node, NodeIdentity
from juki.storage.engine import DatabaseUrlError, database_url, make_engine
from juki.storage.standby import Standby, StandbyError


def bootstrap(config: NodeConfig, *, clock: Clock | None = None) -> Node:
    """Build a node from its configuration: engine, key, transport, clock, random source."""
    try:
        key = pki.key_from_pem(Path(config.key).read_bytes())
        certificate = pki.cert_from_pem(Path(config.certificate).read_bytes())
        root = pki.cert_from_pem(Path(config.root_certificate).read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{config.node_id}: cannot read its key or certificates: {exc}") from exc
    clock = clock or SystemClock()
    try:
        named = pki.check_issued_by(certificate, root, clock.now())
    except ValueError as exc:
        raise ConfigError(f"{config.node_id}: {exc}") from exc
    if (named.node_id, named.kind) != (config.node_id, config.kind.value):
        raise ConfigError(
            f"{config.node_id}: its certificate names {named.kind} {named.node_id}; "
            "the configuration and the certificate belong to different nodes"
        )
    transport = HttpsTransport.for_node(
        Path(config.certificate), Path(config.key), Path(config.root_certificate)
    )
    national = config.kind is NodeKind.NATIONAL
    node = NODE_CLASSES[config.kind](
        engine=make_engine(config.db),
        identity=NodeIdentity(config.node_id, config.kind, key, certificate),
        root=root,
        transport=transport,
        clock=clock,
        # The operating system's CSPRNG in production: message ids, my_numbers and backoff
        # jitter must be unguessable (a Mersenne Twister seeded once is predictable from its
        # output). The simulator passes its own seeded Random to the same classes instead.
        rng=random.SystemRandom(),
        fetch_directory=None
        if national
        else partial(transport.fetch_directory, config.directory_url),
        events=NodeMetrics(),
        query_transport=transport,
    )
    if config.standby_db:
        node.standby = standby_of(config, node.engine)
    if config.checkpoint_interval_s:
        node.checkpoint_interval = timedelta(seconds=config.checkpoint_interval_s)
    if isinstance(node, MunicipalityNode):
        # コンビニ交付: the certificate server's desk (keys and fonts loaded on first use) and a
        # kiosk key made in memory now (juki.nodes.kiosk)
        desk = CertificateDesk(node.engine, config.certificate_settings(), clock=clock)
        node.kiosk = MunicipalKiosk(node, desk)
    if isinstance(node, NationalNode):
        assert config.root_key is not None  # checked by NodeConfig.from_json
        try:
            node.root_key = pki.key_from_pem(Path(config.root_key).read_bytes())
            # The card CA's key and certificate beside the node's key, made on first start
            # (owner-only files; docs/cards.md).
            node.card_ca = load_or_create(Path(config.key).parent / "card-ca", clock)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"national: cannot read the root or card CA key: {exc}") from exc
    return node


STANDBY_CONNECT_TIMEOUT_S: Final = 2
# What bounds a standby that stops answering once connected, each unless the URL sets it: a
# statement it runs longer than this is cancelled on the server, and a host gone from the
# network (a partition: no cancel can come back) is found dead by TCP keepalives after about
# 5 + 2 × 2 s.
STANDBY_LIMITS: Final = {
    "options": "-c statement_timeout=5s",
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "2",
}


def standby_of(config: NodeConfig, primary: sa.Engine) -> Standby:
    """The configured hot standby, refused unless it is one and of this node's database.
    Connecting to it gives up after `STANDBY_CONNECT_TIMEOUT_S`, and a stalled statement or a
    lost host after a few seconds (`STANDBY_LIMITS`), unless the URL says otherwise: a standby
    gone from the network must cost a request a fallback or an error, not minutes."""
    try:
        url = database_url(config.standby_db)
        limits = {"connect_timeout": str(STANDBY_CONNECT_TIMEOUT_S)} | STANDBY_LIMITS
        url = url.update_query_dict({k: v for k, v in limits.items() if k not in url.query})
        standby = Standby(make_engine(url.render_as_string(hide_password=False)))
    except (StandbyError, DatabaseUrlError) as exc:
        raise ConfigError(f"{config.node_id}: {exc}") from exc
    try:
        standby.check(primary)
    except StandbyError as exc:
        standby.engine.dispose()
        raise ConfigError(f"{config.node_id}: {exc}") from exc
    return standby


def close_node(node: Node) -> None:
    """Release what `bootstrap` opened."""
    node.worker.close()
    transport = node.worker.transport
    if isinstance(transport, HttpsTransport):
        transport.close()
    node.engine.dispose()
    if node.standby is not None:
        node.standby.engine.dispose()
