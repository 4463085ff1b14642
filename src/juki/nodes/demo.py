"""`juki demo`: create the demo network once, start every node, and stop them on Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TextIO

from juki.core.console import EXIT_FAILED, EXIT_OK
from juki.core.errors import JukiError
from juki.nodes.config import ConfigError, NetworkFiles, NodeConfig
from juki.nodes.demo_operators import GUIDE_FILE
from juki.nodes.kiosk_demo import DEMO_PIN
from juki.nodes.kiosk_serve import DemoKiosk, start_demo_kiosk
from juki.nodes.netinit import init_network
from juki.nodes.portal_serve import DemoPortal, start_demo_portal
from juki.nodes.supervisor import network_down, network_up, running_pid


def run_demo(root: Path, *, residents: int, seed: int, base_port: int, out: TextIO) -> int:
    """`juki demo`: create the demo network once, start it, and stop it on Ctrl-C."""
    files = NetworkFiles(root.resolve())
    if not files.exists():
        print(f"デモネットワークを作成中 (creating) {files.root} …", file=out)
        try:
            init_network(
                files.root,
                layout="demo",
                demo=True,
                residents=residents,
                seed=seed,
                base_port=base_port,
                progress=lambda message: print(message, file=out),
            )
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    kiosk: DemoKiosk | None = None
    portal: DemoPortal | None = None
    try:
        code = network_up(files, out=out)
        if code != EXIT_OK:
            return code
        token_file = files.root / "132250" / "operator-token"
        if token_file.exists():
            endpoint = NodeConfig.load(files.node_file("132250")).endpoint
            print(
                "Try (counter clerk token of 稲城市):\n"
                f"  curl --cacert {files.root_certificate} --cert {files.console_certificate} "
                f"--key {files.console_key} \\\n"
                f'    -H "Authorization: Bearer $(cat {token_file})" '
                f"{endpoint}/registry/api/v1/stats\n"
                f"  juki network status --dir {files.root}\n"
                f"  juki network check --dir {files.root}",
                file=out,
            )
        try:
            kiosk = start_demo_kiosk(files, base_port)
        except (JukiError, ConfigError, OSError, ValueError) as exc:  # the nodes run on
            print(f"警告: コンビニ交付のキオスクを起動できません: {exc}", file=sys.stderr)
        else:
            print(
                f"コンビニ交付（キオスク）: {kiosk.url}  (PIN {DEMO_PIN}; docs/kiosk.md)", file=out
            )
        portal = _start_portal(files, base_port, out)
        guide = files.root / GUIDE_FILE
        if guide.exists():
            print(guide.read_text(encoding="utf-8"), file=out)
            print(f"(この案内は {guide} にもあります / also in that file)", file=out)
        print("Ctrl-C で停止します (Ctrl-C stops the network)", file=out)
        out.flush()
        reported: set[str] = set()
        while not stop.wait(1.0):
            for node_id in files.node_ids():
                if node_id not in reported and running_pid(files, node_id) is None:
                    reported.add(node_id)
                    print(f"警告: {node_id} が停止しています (stopped)", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if kiosk is not None:
            kiosk.stop()
        if portal is not None:
            portal.stop()
        network_down(files, out=out)
    return EXIT_OK


def _start_portal(files: NetworkFiles, base_port: int, out: TextIO) -> DemoPortal | None:
    """The resident portal beside the national node (after the kiosk: it reads its demo cards)."""
    try:
        portal = start_demo_portal(files, base_port)
    except (JukiError, ConfigError, OSError, ValueError) as exc:  # the nodes run on
        print(f"警告: 住民向けポータルを起動できません: {exc}", file=sys.stderr)
        return None
    print(
        f"住民向けポータル（本人確認情報の開示）: {portal.url}  (PIN {DEMO_PIN}; docs/portal.md)",
        file=out,
    )
    return portal
