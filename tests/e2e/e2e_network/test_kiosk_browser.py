"""Playwright drives the kiosk web UI (issue 12 point 4 acceptance) in Chromium, on the package's
running network of node processes: a resident of 藤沢市 gets a residence certificate at a store,
screen by screen (a screenshot of each under test-artifacts/kiosk/); three wrong PINs lock a
card and send its holder to the counter; a timeout at the relay aborts the issuance with
nothing charged or printed.

One kiosk for the module: the machine `juki kiosk serve` builds (`build_machine`), served by
uvicorn in a thread so the test can read its till and make its relay time out; its store and
cards are this module's own, held by two residents of 藤沢市 it makes (`newcomers`), so no
other module's card gets locked and no other module decides who holds these.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from juki.cards.model import KeyKind
from juki.certificates.verify import verify_pdf
from juki.core.errors import DomainRuleError
from juki.kiosk.http_relay import HttpRelay
from juki.kiosk.machine import KioskMachine
from juki.kiosk.session import KioskSession
from juki.kiosk.wire import REQUESTS_PATH
from juki.network import pki
from juki.nodes.kiosk_demo import DEMO_PIN, KioskFiles, prepare
from juki.nodes.kiosk_serve import ServeOptions, build_machine
from support.cert_population import LiveServer
from support.small_network import FUJISAWA, SmallNetwork, newcomers

STORE = "E2E-KIOSK-UI"


@dataclass
class Kiosk:
    machine: KioskMachine
    url: str
    cards: list[dict[str, str]]
    printed: Path
    shots: Path
    root: Any


@pytest.fixture(scope="module")
def kiosk(
    small_network: SmallNetwork, tmp_path_factory: pytest.TempPathFactory, artifacts: Path
) -> Iterator[Kiosk]:
    files = small_network.files
    into = tmp_path_factory.mktemp("kiosk-ui")
    holders = newcomers(
        small_network, FUJISAWA, ("小島", "コジマ"), [("春子", "ハルコ"), ("夏子", "ナツコ")]
    )
    codes = {h["resident_code"] for h in holders}
    issued = prepare(
        files, 2, into=into, store_id=STORE, lg_codes=frozenset({FUJISAWA}), resident_codes=codes
    )
    assert issued == {FUJISAWA: 2}
    cards = json.loads(KioskFiles(into).manifest.read_text(encoding="utf-8"))
    machine, client = build_machine(files, ServeOptions(store_id=STORE), kiosk_root=into)
    shots = artifacts / "kiosk"
    shots.mkdir(exist_ok=True)
    print(f"kiosk screenshots: {shots}")
    root = pki.cert_from_pem(files.root_certificate.read_bytes())
    _warm_up(machine, cards[0])
    from juki.kiosk.web import kiosk_app

    try:
        with LiveServer(kiosk_app(machine)) as server:
            yield Kiosk(machine, server.url, cards, KioskFiles(into).dir / "printed", shots, root)
    finally:
        client.close()


def _warm_up(machine: KioskMachine, card: dict[str, str]) -> None:
    """One certificate through the relay before the browser comes: a node's first PDF loads
    its fonts and signer, which on a loaded machine can outlast the relay's 10 s wait for the
    municipality (the relay then aborts, as it should). Up to three tries; nothing printed."""
    token = machine.reader.take(card["serial"])
    for _ in range(3):
        try:
            session = KioskSession.start(
                machine.relay, machine.root, store_id=machine.store_id, clock=machine.clock
            )
            session.authenticate(token, DEMO_PIN)
            session.choose(FUJISAWA, "residence")
            result = session.request()
        except DomainRuleError:  # the relay aborted (its wait for 藤沢市 ran out): again
            continue
        session.abandon()  # voided at the municipality: a warm-up is not an issuance
        if result.outcome == "issued":
            return
    pytest.fail("藤沢市 issued no certificate through the relay in three tries")


class Screens:
    def __init__(self, page: Any, kiosk: Kiosk, prefix: str) -> None:
        self.page, self.kiosk, self.prefix, self.n = page, kiosk, prefix, 0
        # a step through the relay renders and signs a PDF at the municipality: on a loaded
        # 2-core machine that can take longer than a click's usual 10 s
        page.set_default_timeout(60_000)

    def at(self, screen: str) -> None:
        from playwright.sync_api import expect

        expect(self.page.locator(f'main[data-screen="{screen}"]')).to_be_visible()
        self.n += 1
        path = self.kiosk.shots / f"{self.prefix}-{self.n:02d}-{screen}.png"
        self.page.screenshot(path=str(path))

    def press(self, name: str, then: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()
        self.at(then)

    def to_pin(self, card: dict[str, str]) -> None:
        self.page.goto(self.kiosk.url)
        self.at("start")
        self.press("はじめる", "card")
        self.page.get_by_role("button", name=f"{card['name']}（{FUJISAWA}）").click()
        self.at("municipality")
        self.page.get_by_role("button", name="藤沢市").click()
        self.at("pin")

    def pin(self, pin: str, then: str) -> None:
        self.page.get_by_label("暗証番号").fill(pin)
        self.press("確定", then)


def test_a_resident_of_fujisawa_prints_her_certificate_at_the_store(
    page: Any, kiosk: Kiosk
) -> None:
    card = kiosk.cards[0]
    takings = kiosk.machine.till.takings_yen
    s = Screens(page, kiosk, "flow")
    s.to_pin(card)
    s.pin(DEMO_PIN, "take_card")
    s.press("カードを取りました", "kind")
    s.press("住民票の写し 300円", "options")  # each offered kind with its fee
    page.get_by_label("世帯主の氏名・続柄").check()
    s.press("次へ", "copies")
    s.press("1部", "confirm")
    assert "300円" in page.locator("main").inner_text()
    s.press("お支払いへ進む", "pay")
    s.press("100円を入れる", "pay")
    s.press("支払って印刷する", "pay")  # 100 of 300: refused
    assert "200円不足" in page.get_by_role("alert").inner_text()
    s.press("500円を入れる", "pay")
    s.press("支払って印刷する", "reminder")
    s.press("確認しました", "receipt")
    assert page.locator("#charged").inner_text() == "300円"
    assert page.locator("#change").inner_text() == "300円"
    s.press("終了（最初の画面へ）", "start")
    assert kiosk.machine.till.takings_yen == takings + 300
    assert not kiosk.machine.visits  # nothing of the session is kept

    (printed,) = kiosk.printed.glob("*.pdf")
    verdict = verify_pdf(printed.read_bytes(), [kiosk.root])
    assert verdict.ok and verdict.issuer_lg_code == FUJISAWA, verdict
    holder = "".join(card["name"].split())
    assert any("".join(n.split()).startswith(holder) for n in verdict.names), verdict.names


def test_three_wrong_pins_lock_the_card_and_send_its_holder_to_the_counter(
    page: Any, kiosk: Kiosk
) -> None:
    s = Screens(page, kiosk, "lockout")
    s.to_pin(kiosk.cards[1])
    s.pin("0000", "pin")
    assert "あと2回" in page.get_by_role("alert").inner_text()
    s.pin("0001", "pin")
    assert "あと1回" in page.get_by_role("alert").inner_text()
    s.pin("0002", "stopped")
    assert "市区町村の窓口" in page.locator("#reason").inner_text()
    s.press("最初の画面へ", "start")
    assert not kiosk.machine.visits
    # the card itself counts the tries: locked, it refuses even the right PIN from now on
    token = kiosk.machine.reader.take(kiosk.cards[1]["serial"])
    assert token.tries_left(KeyKind.AUTH) == 0


class RequestTimesOut(HttpRelay):
    """The relay hop of the request itself cannot be answered in time (a fault)."""

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        self.timeout = 0.0005 if path == REQUESTS_PATH else None
        return super()._call(method, path, body)


def test_a_timeout_at_the_relay_aborts_the_issuance_and_nothing_is_charged_or_printed(
    page: Any, kiosk: Kiosk
) -> None:
    machine = kiosk.machine
    healthy = machine.relay
    assert isinstance(healthy, HttpRelay)
    takings, printed = machine.till.takings_yen, set(kiosk.printed.glob("*.pdf"))
    machine.relay = RequestTimesOut(healthy.client)
    try:
        s = Screens(page, kiosk, "timeout")
        s.to_pin(kiosk.cards[0])
        s.pin(DEMO_PIN, "take_card")
        s.press("カードを取りました", "kind")
        s.press("住民票の写し 300円", "options")
        s.press("次へ", "copies")
        s.press("1部", "stopped")
    finally:
        machine.relay = healthy
    assert "料金はかかりません" in page.locator("#reason").inner_text()
    assert machine.till.takings_yen == takings
    assert set(kiosk.printed.glob("*.pdf")) == printed
    s.press("最初の画面へ", "start")
    assert not machine.visits
