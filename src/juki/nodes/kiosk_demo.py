"""DEMO ONLY: cards with known PINs and a registered store on a running demo network, for
`juki kiosk stress` (`juki kiosk cards --dir DIR --residents K`).

For each municipality of the network directory, K active residents aged 15 or more who hold
no card yet get a software card (PIN `DEMO_PIN`) issued through the municipality node's code
as at the counter: the national card CA certifies it over the network, as for any card. A
demo store (`DEMO_STORE`) gets a client certificate from the network root and is registered
on the national node by a national operator. Everything is kept under `DIR/kiosk/` in owner-only
files: `store.key`, `store.pem`, `cards/<serial>.json` (the software tokens) and `cards.json`
(serial, municipality, resident code, name, PIN). A PIN in a file is only ever acceptable on a
demo network: the command refuses a directory not made with `juki network init --demo`.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import sqlalchemy as sa
import structlog

from juki.cards import services as cards
from juki.cards.commands import IssueCard
from juki.cards.model import Backend, CardStatus
from juki.cards.soft import SoftCardToken
from juki.cards.store import SqlCardUnitOfWork
from juki.cards.tables import cards as card_table
from juki.core.errors import RuleViolation
from juki.core.files import write_private
from juki.network import pki
from juki.network.directory import NodeKind
from juki.nodes.bootstrap import bootstrap, close_node
from juki.nodes.cards import NetworkCertifier
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.nodes.kiosk_stores import issue_store_certificate, register_store
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.national import NationalNode
from juki.registry.tables import resident_records
from juki.security.actors import Actor
from juki.security.permissions import Role

log = structlog.get_logger("juki.nodes.kiosk_demo")
DEMO_PIN: Final = "1234"
DEMO_STORE: Final = "DEMO-STORE-01"
DEMO_COMPANY: Final = "デモ店舗株式会社（デモ専用）"
DEMO_CLERK: Final = Actor("demo-kiosk-cards", Role.COUNTER_CLERK, "demo")
DEMO_NATIONAL_OPERATOR: Final = Actor("demo-kiosk-stores", Role.NATIONAL_OPERATOR, "demo")


@dataclass(frozen=True, slots=True)
class KioskFiles:
    root: Path

    @property
    def dir(self) -> Path:
        return self.root / "kiosk"

    @property
    def store_key(self) -> Path:
        return self.dir / "store.key"

    @property
    def store_certificate(self) -> Path:
        return self.dir / "store.pem"

    @property
    def manifest(self) -> Path:
        return self.dir / "cards.json"

    def card(self, serial: str) -> Path:
        return self.dir / "cards" / f"{serial}.json"


def is_demo(files: NetworkFiles) -> bool:
    try:
        return bool(json.loads(files.network_file.read_text()).get("demo"))
    except (OSError, ValueError):
        return False


def prepare(
    files: NetworkFiles,
    residents: int,
    *,
    into: Path | None = None,
    store_id: str = DEMO_STORE,
    lg_codes: frozenset[str] | None = None,
    resident_codes: Collection[str] | None = None,
) -> dict[str, int]:
    """Issue the cards and register the store; returns cards issued per municipality.

    `into` keeps them under another directory than the network's (`INTO/kiosk/`), for a
    second demo kiosk (another `store_id`) whose cards no other kiosk uses; `lg_codes` limits
    the municipalities (all by default); `resident_codes` the residents (a test's own, whom
    nothing else touches)."""
    kiosk = KioskFiles(into or files.root)
    (kiosk.dir / "cards").mkdir(parents=True, exist_ok=True, mode=0o700)
    kiosk.dir.chmod(0o700)
    configs = {c.node_id: c for c in files.configs()}
    national = next(c for c in configs.values() if c.kind is NodeKind.NATIONAL)
    _store(kiosk, national, store_id)
    manifest: list[dict[str, str]] = []
    if kiosk.manifest.exists():
        manifest = json.loads(kiosk.manifest.read_text())
    done = {m["serial"] for m in manifest}
    issued: dict[str, int] = {}
    for config in configs.values():
        if config.kind is NodeKind.MUNICIPALITY and (
            lg_codes is None or config.node_id in lg_codes
        ):
            new = _cards(kiosk, config, residents, done, resident_codes)
            manifest += new
            issued[config.node_id] = len(new)
    kiosk.manifest.unlink(missing_ok=True)
    write_private(kiosk.manifest, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    return issued


def _store(kiosk: KioskFiles, config: NodeConfig, store_id: str) -> None:
    node = bootstrap(config)
    try:
        assert isinstance(node, NationalNode) and node.root_key is not None
        key, cert = issue_store_certificate(node.root_key, node.root, store_id, node)
        register_store(node, DEMO_NATIONAL_OPERATOR, store_id, DEMO_COMPANY, cert)
    finally:
        close_node(node)
    kiosk.store_key.unlink(missing_ok=True)
    write_private(kiosk.store_key, pki.key_to_pem(key))
    kiosk.store_certificate.write_bytes(pki.cert_to_pem(cert))


def _cards(
    kiosk: KioskFiles,
    config: NodeConfig,
    residents: int,
    done: set[str],
    only: Collection[str] | None,
) -> list[dict[str, str]]:
    node = bootstrap(config)
    out: list[dict[str, str]] = []
    try:
        assert isinstance(node, MunicipalityNode)
        today = node.clock.today()
        adult = date(today.year - 16, today.month, 1)
        r, c = resident_records.c, card_table.c
        # who holds no card yet (one live card per resident), so that cards issued before
        # (another kiosk's, a counter's) never use up the residents looked at
        live = sa.exists().where(
            (c.resident_code == r.resident_code) & (c.status != CardStatus.ABOLISHED.value)
        )
        wanted = (r.status == "active") & (r.birth_date <= adult) & ~live
        if only is not None:
            wanted &= r.resident_code.in_(sorted(only))
        with node.engine.connect() as conn:
            rows = conn.execute(
                sa.select(r.resident_code, r.family_name, r.given_name)
                .where(wanted)
                .order_by(r.resident_code)
                .limit(residents * 3)
            ).all()
        for row in rows:
            if len(out) == residents:
                break
            serial = f"DEMO-{config.node_id}-{row.resident_code[-6:]}"
            if serial in done:
                continue
            token = SoftCardToken(serial, path=kiosk.card(serial))
            try:
                cards.issue_card(
                    SqlCardUnitOfWork(node.engine, clock=node.clock),
                    DEMO_CLERK,
                    IssueCard(row.resident_code, serial, Backend.SOFT, today, DEMO_PIN),
                    token,
                    NetworkCertifier(node),
                )
            except RuleViolation as exc:  # one who may not have a card now: the next one
                log.info("demo card skipped", lg=config.node_id, rule=exc.rule)
                continue
            out.append(
                {
                    "serial": serial,
                    "lg_code": config.node_id,
                    "resident_code": row.resident_code,
                    "name": f"{row.family_name}　{row.given_name}",
                    "pin": DEMO_PIN,
                }
            )
    finally:
        close_node(node)
    return out
