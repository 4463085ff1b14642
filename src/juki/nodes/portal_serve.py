"""`juki portal init|serve`: the resident portal app beside the national node.

The portal runs as its own process (docs/portal.md, "Where it runs"): it holds no database and
no node key, only its client credential under `DIR/portal/` (`portal.key`, `portal.pem`: issued
by the network root and registered on the national node by `init`), the network root (to verify
the national node's TLS) and the national node's address. The card reader is the demo's
`SoftCardReader` over the kiosk's demo cards (`DIR/kiosk/cards.json`, DEMO ONLY). The UI binds
to loopback unless told otherwise.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from juki.core.clock import SystemClock
from juki.core.files import write_private
from juki.kiosk.devices import SoftCardReader
from juki.network import pki
from juki.network.directory import NodeKind
from juki.nodes.bootstrap import bootstrap, close_node
from juki.nodes.config import NetworkFiles
from juki.nodes.kiosk_demo import DEMO_NATIONAL_OPERATOR, KioskFiles
from juki.nodes.kiosk_serve import DEFAULT_HOST, demo_cards
from juki.nodes.national import NationalNode
from juki.nodes.portal_api import issue_portal_certificate, register_portal
from juki.portal.client import HttpPortalRelay
from juki.portal.web import BrowserSessions, Portal
from juki.security.actors import Actor

RELAY_TIMEOUT_S: Final = 20.0
PORTAL_PORT_OFFSET: Final = 81  # the demo's portal listens at the network's base port + 81 (or up)


class PortalSetupError(Exception):
    """The portal cannot be wired from this directory; the message says what to do."""


@dataclass(frozen=True, slots=True)
class PortalFiles:
    root: Path

    @property
    def dir(self) -> Path:
        return self.root / "portal"

    @property
    def key(self) -> Path:
        return self.dir / "portal.key"

    @property
    def certificate(self) -> Path:
        return self.dir / "portal.pem"


def init_portal(files: NetworkFiles, by: Actor = DEMO_NATIONAL_OPERATOR) -> str:
    """Issue the portal's credential from the network root and register it on the national
    node (the one registered before stops working); returns its SHA-256."""
    national = next(c for c in files.configs() if c.kind is NodeKind.NATIONAL)
    node = bootstrap(national)
    try:
        if not isinstance(node, NationalNode):
            raise PortalSetupError("the network's national node is not a national node")
        key, cert = issue_portal_certificate(node)
        digest = register_portal(node, by, cert)
    finally:
        close_node(node)
    portal = PortalFiles(files.root)
    portal.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    portal.key.unlink(missing_ok=True)
    write_private(portal.key, pki.key_to_pem(key))
    portal.certificate.write_bytes(pki.cert_to_pem(cert))
    return digest


def relay_client(files: NetworkFiles, timeout_s: float = RELAY_TIMEOUT_S) -> httpx.Client:
    portal = PortalFiles(files.root)
    if not (portal.key.exists() and portal.certificate.exists()):
        raise PortalSetupError(
            f"no portal credential under {portal.dir}; run `juki portal init --dir DIR` first"
        )
    pki.check_issued_by(
        pki.cert_from_pem(portal.certificate.read_bytes()),
        pki.cert_from_pem(files.root_certificate.read_bytes()),
        SystemClock().now(),
    )
    national = next(c for c in files.configs() if c.kind is NodeKind.NATIONAL)
    context = ssl.create_default_context(cafile=str(files.root_certificate))
    context.load_cert_chain(str(portal.certificate), str(portal.key))
    return httpx.Client(base_url=national.endpoint, verify=context, timeout=timeout_s)


def node_names(files: NetworkFiles) -> dict[str, str]:
    """Node id → the name the screens show (稲城市, 東京都, 地方公共団体情報システム機構)."""
    names: dict[str, str] = {}
    for c in files.configs():
        if c.kind is NodeKind.NATIONAL:
            names[c.node_id] = "地方公共団体情報システム機構"
        else:
            names[c.node_id] = c.municipality or c.prefecture or c.name
    return names


def build_portal(
    files: NetworkFiles, cards_root: Path | None = None
) -> tuple[Portal, httpx.Client]:
    client = relay_client(files)
    portal = Portal(
        relay=HttpPortalRelay(client),
        reader=SoftCardReader(demo_cards(KioskFiles(cards_root or files.root))),
        sessions=BrowserSessions(SystemClock().now),
        names=node_names(files),
    )
    return portal, client


def serve(files: NetworkFiles, host: str, port: int) -> None:
    import uvicorn

    from juki.portal.web import portal_app

    portal, client = build_portal(files)
    try:
        uvicorn.run(portal_app(portal), host=host, port=port, log_level="warning")
    finally:
        client.close()


@dataclass
class DemoPortal:
    """`juki demo`'s portal: one more process, `juki portal serve`."""

    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_demo_portal(files: NetworkFiles, base_port: int) -> DemoPortal:
    """DEMO: the portal's credential on first start, then the portal UI on loopback, its output
    in `DIR/portal/portal.log`."""
    from juki.nodes.netinit import free_ports

    portal = PortalFiles(files.root)
    if not portal.certificate.exists():
        init_portal(files)
    port = free_ports(base_port + PORTAL_PORT_OFFSET, 1)[0]
    argv = [sys.executable, "-m", "juki", "portal", "serve", "--dir", str(files.root)]
    argv += ["--port", str(port)]
    with (portal.dir / "portal.log").open("ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    return DemoPortal(process, f"http://{DEFAULT_HOST}:{port}/")
