"""`juki kiosk serve`: the kiosk web UI of one store, against a running network.

The machine is wired from the network directory: the network root (to verify the relay's TLS
and each municipality's key statement), the national node's address, the municipalities of
the network (the screen's choices), and the store's credential kept under `DIR/kiosk/`
(`store.key`, `store.pem`: the client certificate the relay authenticates). The card reader is
the demo's `SoftCardReader` over `DIR/kiosk/cards.json` (DEMO ONLY: a real kiosk puts a PKCS#11
reader behind the same port); the printer keeps each copy under `DIR/kiosk/printed/`. The UI
binds to loopback unless told otherwise.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

import httpx

from juki.core.clock import SystemClock
from juki.kiosk.devices import FilePrintSink, PlaceableCard, SoftCardReader
from juki.kiosk.http_relay import HttpRelay
from juki.kiosk.machine import IDLE_TIMEOUT, KioskMachine, Municipality
from juki.network import pki
from juki.network.directory import NodeKind
from juki.nodes.config import NetworkFiles
from juki.nodes.kiosk_demo import KioskFiles

RELAY_TIMEOUT_S: Final = 15.0
DEFAULT_HOST: Final = "127.0.0.1"


class KioskSetupError(Exception):
    """The kiosk cannot be wired from this directory; the message says what to do."""


@dataclass(frozen=True, slots=True)
class ServeOptions:
    store_id: str
    relay_timeout_s: float = RELAY_TIMEOUT_S
    idle: timedelta = IDLE_TIMEOUT
    jam_next: int = 0


def store_client(files: NetworkFiles, kiosk: KioskFiles, timeout_s: float) -> httpx.Client:
    """An HTTPS client of the national node with the store's client certificate."""
    national = next(c for c in files.configs() if c.kind is NodeKind.NATIONAL)
    context = ssl.create_default_context(cafile=str(files.root_certificate))
    context.load_cert_chain(str(kiosk.store_certificate), str(kiosk.store_key))
    return httpx.Client(base_url=national.endpoint, verify=context, timeout=timeout_s)


def demo_cards(kiosk: KioskFiles) -> list[PlaceableCard]:
    """The demo's cards, labelled by municipality and holder (never by PIN)."""
    if not kiosk.manifest.exists():
        return []
    entries = json.loads(kiosk.manifest.read_text(encoding="utf-8"))
    return [
        PlaceableCard(e["serial"], f"{e['name']}（{e['lg_code']}）", kiosk.card(e["serial"]))
        for e in entries
    ]


def municipalities(files: NetworkFiles) -> list[Municipality]:
    return sorted(
        (
            Municipality(c.node_id, c.municipality or c.name, c.prefecture)
            for c in files.configs()
            if c.kind is NodeKind.MUNICIPALITY
        ),
        key=lambda m: m.lg_code,
    )


def build_machine(
    files: NetworkFiles, options: ServeOptions, kiosk_root: Path | None = None
) -> tuple[KioskMachine, httpx.Client]:
    """The machine and the relay client it uses (the caller closes the client)."""
    kiosk = KioskFiles(kiosk_root or files.root)
    if not (kiosk.store_key.exists() and kiosk.store_certificate.exists()):
        raise KioskSetupError(
            f"no store credential under {kiosk.dir}; run `juki kiosk cards --dir DIR` first"
        )
    root = pki.cert_from_pem(files.root_certificate.read_bytes())
    named = pki.check_issued_by(
        pki.cert_from_pem(kiosk.store_certificate.read_bytes()), root, SystemClock().now()
    )
    if named.node_id != options.store_id:
        raise KioskSetupError(
            f"store: the credential is store {named.node_id}'s, not {options.store_id}'s"
        )
    client = store_client(files, kiosk, options.relay_timeout_s)
    machine = KioskMachine(
        relay=HttpRelay(client),
        root=root,
        store_id=options.store_id,
        clock=SystemClock(),
        reader=SoftCardReader(demo_cards(kiosk)),
        printer=FilePrintSink(kiosk.dir / "printed", options.jam_next),
        municipalities=municipalities(files),
        idle=options.idle,
    )
    return machine, client


def serve(files: NetworkFiles, options: ServeOptions, host: str, port: int) -> None:
    import uvicorn

    from juki.kiosk.web import kiosk_app

    machine, client = build_machine(files, options)
    try:
        uvicorn.run(kiosk_app(machine), host=host, port=port, log_level="warning")
    finally:
        client.close()


KIOSK_PORT_OFFSET: Final = 80  # the demo's kiosk listens at the network's base port + 80 (or up)


@dataclass
class DemoKiosk:
    """`juki demo`'s kiosk: one more process, `juki kiosk serve`, for a person to use."""

    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_demo_kiosk(files: NetworkFiles, base_port: int) -> DemoKiosk:
    """DEMO ONLY: demo cards and the demo store on first start (`juki kiosk cards`), then the
    kiosk UI of the demo store on loopback, its output in `DIR/kiosk/kiosk.log`."""
    from juki.nodes.kiosk_demo import DEMO_STORE, prepare
    from juki.nodes.netinit import free_ports

    kiosk = KioskFiles(files.root)
    if not kiosk.manifest.exists():
        prepare(files, 3)
    port = free_ports(base_port + KIOSK_PORT_OFFSET, 1)[0]
    argv = [sys.executable, "-m", "juki", "kiosk", "serve", "--dir", str(files.root)]
    argv += ["--store", DEMO_STORE, "--port", str(port)]
    with (kiosk.dir / "kiosk.log").open("ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    return DemoKiosk(process, f"http://{DEFAULT_HOST}:{port}/")
