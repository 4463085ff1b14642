"""The kiosk world on the in-memory network (a module builds it once): 稲城市 with four residents
of one household, each with a software card (PIN 1234), its certificate server answering kiosk
requests, and the relay on the national node. Used by tests/integration/kiosk."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI

from juki.cards import services as cards
from juki.cards.commands import IssueCard
from juki.cards.model import Backend
from juki.cards.soft import SoftCardToken
from juki.cards.store import SqlCardUnitOfWork
from juki.core.clock import JST, FixedClock
from juki.kiosk.session import KioskSession
from juki.nodes.cards import NetworkCertifier
from juki.nodes.config import NodeConfig
from juki.nodes.kiosk import MunicipalKiosk
from juki.nodes.kiosk_relay import KioskRelay
from juki.nodes.kiosk_stores import issue_store_certificate, register_store
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.node import Node
from juki.nodes.tls_peers import PeerCertificates
from juki.registry import services as svc
from juki.registry.commands import (
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    Placement,
    RecordMoveIn,
)
from juki.registry.model import ResidentRecord, Sex
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.operators import token_sha256
from juki.security.permissions import Role
from support.cert_population import make_desk

INAGI = "132250"
CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
STORE = "STORE-0001"
PIN = "1234"


@dataclass
class World:
    net: InProcessNetwork
    relay: KioskRelay
    clock: FixedClock
    where: Path
    people: dict[str, ResidentRecord]
    cards: dict[str, SoftCardToken]

    def session(self, relay: object | None = None) -> KioskSession:
        return KioskSession.start(
            relay or self.relay,  # type: ignore[arg-type]
            self.net.root_cert,
            store_id=STORE,
            clock=self.clock,
        )


def arrive(
    net: InProcessNetwork,
    family: str,
    given: str,
    kana: str,
    lot: int,
    placement: Placement | None = None,
) -> ResidentRecord:
    """Someone comes back from abroad to 稲城市: a household of their own, or `placement`."""
    node = net.municipality(INAGI)
    return svc.record_move_in(
        SqlRegistryUnitOfWork(node.engine, clock=node.clock),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                family_name=family,
                given_name=given,
                family_name_kana="カイヨウ",
                given_name_kana=kana,
                birth_date=date(1980, 5, 5),
                sex=Sex.FEMALE,
            ),
            origin=MoveInOrigin.ABROAD,
            address=f"東京都稲城市東長沼{lot}番地",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="アメリカ合衆国",
            placement=placement or NewHousehold(),
        ),
    )


def give_card(net: InProcessNetwork, person: ResidentRecord, serial: str) -> SoftCardToken:
    """A card with PIN `PIN` for a resident of 稲城市, certified by the network's card CA."""
    inagi = net.municipality(INAGI)
    token = SoftCardToken(serial)
    cards.issue_card(
        SqlCardUnitOfWork(inagi.engine, clock=inagi.clock),
        CLERK,
        IssueCard(person.resident_code, serial, Backend.SOFT, inagi.clock.today(), PIN),
        token,
        NetworkCertifier(inagi),
    )
    return token


@contextmanager
def kiosk_world(where: Path) -> Iterator[World]:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    net = build_network(small_layout(), lambda n: f"sqlite:///{where}/{n}.db", clock, seed=12)
    net.national.allot(INAGI, 50)
    net.run_until_quiet()
    inagi = net.municipality(INAGI)
    people: dict[str, ResidentRecord] = {}
    tokens: dict[str, SoftCardToken] = {}
    names = {"A": ("海洋", "澄香", "スミカ"), "B": ("海洋", "朋美", "トモミ")}
    names |= {"R": ("海洋", "蓮", "レン"), "L": ("海洋", "凛", "リン")}
    for lot, (key, (family, given, kana)) in enumerate(names.items(), start=1):
        people[key] = arrive(net, family, given, kana, lot)
        net.run_until_quiet()
        tokens[key] = give_card(net, people[key], f"INAGI-K00{lot}")
    inagi.kiosk = MunicipalKiosk(inagi, make_desk(inagi.engine, where, clock))
    try:
        yield World(net, KioskRelay(net.national), clock, where, people, tokens)
    finally:
        net.dispose()


NATIONAL_OPERATOR = Actor("n-op", Role.NATIONAL_OPERATOR, "N1")
TEST_CLIENT = ("testclient", 50000)  # the address Starlette's TestClient connects from


def store_certificate(net: InProcessNetwork, store_id: str) -> x509.Certificate:
    """A store's root-issued client certificate (the key is not needed in-process)."""
    _key, cert = issue_store_certificate(net.root_key, net.root_cert, store_id, net.national)
    return cert


def as_store(app: FastAPI, cert: x509.Certificate | None) -> None:
    """Make the app see every TestClient connection as presenting `cert` (as the node's TLS
    server records a kiosk's certificate, `juki.nodes.tls_peers`)."""
    peers = PeerCertificates()
    der = cert.public_bytes(serialization.Encoding.DER) if cert is not None else None
    peers.remember(TEST_CLIENT, der)
    app.state.tls_peers = peers


def registered_store(net: InProcessNetwork, app: FastAPI, store_id: str) -> x509.Certificate:
    cert = store_certificate(net, store_id)
    register_store(net.national, NATIONAL_OPERATOR, store_id, "ファミリーデモ株式会社", cert)
    as_store(app, cert)
    return cert


def config_for(node: Node) -> NodeConfig:
    return NodeConfig(
        node_id=node.node_id,
        kind=node.kind,
        name=node.node_id,
        parent=None,
        host="127.0.0.1",
        port=1,
        db="sqlite://",
        key="/nonexistent/key.pem",
        certificate="/nonexistent/cert.pem",
        root_certificate="/nonexistent/root.pem",
        admin_token_sha256=token_sha256("kiosk-http-admin"),
        directory_url="https://127.0.0.1:1",
        log="/nonexistent/node.log",
    )
