"""Playwright drives the resident portal (issue 13 point 5 acceptance) in Chromium, on the
package's running network of node processes: a resident of 藤沢市 logs in with card and PIN and
sees a provision to an agency made a moment ago, a residence certificate issued a moment ago at
稲城市's counter (広域交付) and a 藤沢市 supervisor's view of her record, each gathered from the
nodes at that moment; a second resident sees none of it; a wrong PIN is refused and counts
toward the card's lock. Screenshots under test-artifacts/portal/.

The portal app is the one `juki portal serve` builds (`build_portal`), served in a thread; its
credential is registered on the national node by `init_portal`. Its two card holders are
residents of 藤沢市 this module makes (`newcomers`): nothing another module of the package did
before (a batch of lookups over every resident, certificates, cards) shows on their pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from juki.cards.model import KeyKind
from juki.cli import main
from juki.network.directory import NodeKind
from juki.nodes.config import NetworkFiles
from juki.nodes.console import Console
from juki.nodes.kiosk_demo import DEMO_PIN, KioskFiles, prepare
from juki.nodes.portal_serve import build_portal, init_portal
from juki.portal.web import Portal, portal_app
from juki.registry.tables import resident_records
from juki.storage.engine import make_engine
from support.cert_population import LiveServer
from support.small_network import FUJISAWA, INAGI, SmallNetwork, newcomers

STORE = "E2E-PORTAL"
API = "/registry/api/v1"


@dataclass
class Site:
    files: NetworkFiles
    portal: Portal
    url: str
    cards: list[dict[str, str]]
    shots: Path
    net: SmallNetwork


@pytest.fixture(scope="module")
def site(
    small_network: SmallNetwork, tmp_path_factory: pytest.TempPathFactory, artifacts: Path
) -> Iterator[Site]:
    files = small_network.files
    into = tmp_path_factory.mktemp("portal-ui")
    holders = newcomers(
        small_network, FUJISAWA, ("門", "カド"), [("陽子", "ヨウコ"), ("月子", "ツキコ")]
    )
    codes = {h["resident_code"] for h in holders}
    issued = prepare(
        files, 2, into=into, store_id=STORE, lg_codes=frozenset({FUJISAWA}), resident_codes=codes
    )
    assert issued == {FUJISAWA: 2}
    cards = json.loads(KioskFiles(into).manifest.read_text(encoding="utf-8"))
    init_portal(files)
    portal, client = build_portal(files, cards_root=into)
    shots = artifacts / "portal"
    shots.mkdir(exist_ok=True)
    print(f"portal screenshots: {shots}")
    try:
        with LiveServer(portal_app(portal)) as server:
            yield Site(files, portal, server.url, cards, shots, small_network)
    finally:
        client.close()


def _engine(files: NetworkFiles, kind: NodeKind, node_id: str | None = None) -> sa.Engine:
    config = next(
        c for c in files.configs() if c.kind is kind and (node_id is None or c.node_id == node_id)
    )
    return make_engine(config.db)


def _provide(site: Site, resident_code: str) -> None:
    """日本年金機構 asks national about her a moment ago: `juki provide` with the agency's own
    credential over mutual TLS, as any agency does (the names, birth date and address only)."""
    out = site.shots / "provision.jsonl"
    asked = ["provide", "--dir", str(site.files.root), "--agency", "nenkin",
             "--task", "別表第一 の 九十一", "--purpose", "年金給付の受給権者の確認",
             "--resident-code", resident_code, "--items", "name,birth_date,address",
             "--out", str(out)]  # fmt: skip
    assert main(asked) == 0
    (answer,) = map(json.loads, out.read_text(encoding="utf-8").splitlines())
    assert answer["outcome"] == "provided"


def _record_id(site: Site, resident_code: str) -> str:
    engine = _engine(site.files, NodeKind.MUNICIPALITY, FUJISAWA)
    try:
        with engine.connect() as conn:
            r = resident_records.c
            found = conn.execute(
                sa.select(r.record_id).where(
                    (r.resident_code == resident_code) & (r.status == "active")
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return str(found)


def _at_counters(site: Site, resident_code: str) -> None:
    """稲城市's clerk issues her a residence certificate (広域交付, from 藤沢市's content) and a
    藤沢市 supervisor opens her record: both over the network of processes, as operators do."""
    console = Console(site.files)
    try:
        issued = console.client.post(
            console.node(INAGI).endpoint + API + "/certificates/wide-area",
            json={"from_lg_code": FUJISAWA, "resident_code": resident_code},
            headers={"Authorization": f"Bearer {site.net.clerk}", "X-Juki-Terminal": "E2E"},
            timeout=120,
        )
        assert issued.status_code == 200, issued.text
        viewed = console.client.get(
            console.node(FUJISAWA).endpoint + API + f"/residents/{_record_id(site, resident_code)}",
            headers={
                "Authorization": f"Bearer {site.net.supervisors[FUJISAWA]}",
                "X-Juki-Terminal": "E2E",
            },
        )
        assert viewed.status_code == 200, viewed.text
    finally:
        console.close()


class Screens:
    def __init__(self, page: Any, site: Site, prefix: str) -> None:
        self.page, self.site, self.prefix, self.n = page, site, prefix, 0

    def at(self, name: str) -> None:
        from playwright.sync_api import expect

        expect(self.page.locator(f'main[data-page="{name}"]')).to_be_visible()
        self.n += 1
        path = self.site.shots / f"{self.prefix}-{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def login(self, card: dict[str, str], pin: str, then: str) -> None:
        self.page.goto(self.site.url + "/")
        self.at("login")
        self.page.get_by_label(f"{card['name']}（{card['lg_code']}）").check()
        self.page.get_by_label("暗証番号").fill(pin)
        self.page.get_by_role("button", name="ログイン").click()
        self.at(then)

    def section(self, name: str) -> str:
        text: str = self.page.locator(f'[data-section="{name}"]').inner_text()
        return text


def test_a_resident_sees_what_was_done_a_moment_ago_and_another_sees_none_of_it(
    page: Any, site: Site
) -> None:
    her, other = site.cards
    _provide(site, her["resident_code"])
    _at_counters(site, her["resident_code"])

    s = Screens(page, site, "holder")
    s.login(her, DEMO_PIN, "mypage")
    identity = s.section("identity")
    # 藤沢市, 神奈川県 and 機構 each hold her entry (she came from abroad: no other)
    code = her["resident_code"]
    assert len([row for row in identity.splitlines() if code in row]) == 3, identity
    assert "（消除）" not in identity
    for holder in ("藤沢市", "神奈川県", "地方公共団体情報システム機構"):
        assert holder in identity
    provisions = s.section("provisions")
    assert "日本年金機構" in provisions and "別表第一 の 九十一" in provisions
    assert "氏名・生年月日・住所" in provisions
    certificates = s.section("certificates")
    assert "稲城市" in certificates and "広域交付" in certificates
    views = s.section("views")
    assert "藤沢市" in views and "審査担当者" in views
    assert "審査 試験" not in page.locator("main").inner_text()  # never the operator's name
    page.get_by_role("button", name="ログアウト").click()
    s.at("login")

    t = Screens(page, site, "other")
    t.login(other, DEMO_PIN, "mypage")
    assert her["resident_code"] not in page.locator("main").inner_text()
    assert "提供の記録はありません" in t.section("provisions")
    assert "交付の記録はありません" in t.section("certificates")
    assert "閲覧の記録はありません" in t.section("views")


def test_a_wrong_pin_is_refused_and_counts_toward_the_cards_lock(page: Any, site: Site) -> None:
    card = site.cards[1]
    token = site.portal.reader.take(card["serial"])
    before = token.tries_left(KeyKind.AUTH)
    s = Screens(page, site, "wrong-pin")
    s.login(card, "0000", "login")
    assert f"あと{before - 1}回" in page.get_by_role("alert").inner_text()
    assert site.portal.reader.take(card["serial"]).tries_left(KeyKind.AUTH) == before - 1
    s.login(card, DEMO_PIN, "mypage")  # the right PIN before the lock resets the count
    assert site.portal.reader.take(card["serial"]).tries_left(KeyKind.AUTH) == before
