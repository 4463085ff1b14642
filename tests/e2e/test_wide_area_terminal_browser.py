"""広域交付 at the counter terminal in Chromium, by keyboard alone.

Two municipalities in one process: the in-process network (real nodes, CSs, signatures and
content rules) with 稲城市 (A, the residents' home) and 藤沢市 (B, where they ask). B's registry
app, wired to B's CS as a network node wires it, is served by uvicorn in a thread; so is A's,
for the supervisor's 広域交付照会履歴. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from juki.certificates.desk import CertificateDesk
from juki.certificates.model import CertificateKind, CertificateRequest
from juki.certificates.verify import verify_pdf
from juki.core.errors import RuleViolation
from juki.nodes.apps import create_registry_app
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.wide_area import CsContentSource
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.browser_keys import accesskey, focused, tab_to, unlabelled_inputs, wait_for_focus
from support.cert_population import LiveServer, People, Registry, fixed_clock, make_desk, populate
from support.terminal_session import browser_session

A = "132250"  # 稲城市
B = "142051"  # 藤沢市


@dataclass
class TwoTowns:
    net: InProcessNetwork
    people: People
    desk: CertificateDesk  # B's
    tmp: Path
    b_url: str
    a_url: str
    b_clerk: str
    a_supervisor: str


def _token(node: MunicipalityNode, actor_id: str, role: Role) -> str:
    manager = Actor(f"{node.node_id}-ops", Role.OPERATIONS_MANAGER, "console")
    return create_operator(
        SqlUnitOfWork(node.engine, clock=node.clock), manager, actor_id, "操作 太郎", role
    )


@pytest.fixture(scope="module")
def towns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoTowns]:
    tmp = tmp_path_factory.mktemp("wide-e2e")
    clock = fixed_clock()
    net = build_network(
        small_layout(), lambda node_id: f"sqlite:///{tmp}/{node_id}.db", clock, seed=5
    )
    net.national.allot(A, 1_000)
    net.run_until_quiet()
    a, b = net.municipality(A), net.municipality(B)
    people = populate(Registry(a.engine, clock))
    net.run_until_quiet()
    desk = make_desk(b.engine, tmp, clock)
    b_app = create_registry_app(b.engine, clock=b.clock, wide_area=CsContentSource(b))
    b_app.state.certificates.use(desk)
    a_app = create_registry_app(a.engine, clock=a.clock, wide_area=CsContentSource(a))
    with LiveServer(b_app) as b_server, LiveServer(a_app) as a_server:
        yield TwoTowns(
            net,
            people,
            desk,
            tmp,
            b_server.url,
            a_server.url,
            _token(b, "fujisawa-clerk", Role.COUNTER_CLERK),
            _token(a, "inagi-super", Role.REGISTRY_SUPERVISOR),
        )
    net.dispose()


def sign_in(page: Any, towns: TwoTowns, base: str, token: str, terminal: str) -> None:
    """Signed in (the sign-in itself: tests/e2e/test_operator_login_browser.py)."""
    node = towns.net.municipality(B if base == towns.b_url else A)
    browser_session(page.context, f"{base}/terminal/", node.engine, token, terminal, node.clock)
    page.goto(f"{base}/terminal/")


def open_wide_area_form(page: Any) -> None:
    accesskey(page, "w")  # 広域交付
    page.wait_for_url(re.compile(r"/terminal/wide-area$"))
    wait_for_focus(page, "from_lg_code")


def test_wide_area_issuance_by_keyboard(page: Any, towns: TwoTowns, artifacts: Path) -> None:
    people = towns.people
    sign_in(page, towns, towns.b_url, towns.b_clerk, "F01")
    open_wide_area_form(page)
    assert unlabelled_inputs(page) == []
    assert page.locator("#item-honseki").count() == 0  # 本籍・筆頭者 is not even offered
    assert "本籍・筆頭者は記載できません" in page.inner_text("main")

    page.keyboard.type(A)
    page.keyboard.press("Tab")
    page.keyboard.type(people.head.resident_code)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "members-self"  # the radio group's stop is the checked one
    page.keyboard.press("ArrowDown")  # 世帯全員
    assert focused(page)["id"] == "members-all"
    tab_to(page, lambda f: f["id"] == "item-householder")
    page.keyboard.press("Space")
    tab_to(page, lambda f: f["id"] == "copies")
    page.keyboard.press("Control+a")
    page.keyboard.type("2")
    page.screenshot(path=str(artifacts / "wide-01-request.png"), full_page=True)

    accesskey(page, "k")  # 内容を確認
    page.wait_for_url(re.compile(r"/terminal/wide-area/confirm"))
    assert page.inner_text("#fee") == "600円"
    assert page.inner_text("#home-lg-code") == A
    page.wait_for_function(  # the button has the focus: Enter asks A and issues
        "document.activeElement && document.activeElement.innerText.startsWith('照会して交付する')"
    )
    page.screenshot(path=str(artifacts / "wide-02-confirm.png"))
    page.keyboard.press("Enter")

    page.wait_for_selector("#issued")
    assert "住民票の写しを2通交付し" in page.inner_text("#issued")
    assert "東京都稲城市" in page.inner_text("#record-municipality")
    numbers = page.inner_text("#issue-numbers").split()
    assert len(numbers) == 2 and all(n.startswith(f"20250401-{B}-F01-") for n in numbers)
    certificate_id = page.inner_text("#certificate-id")
    page.screenshot(path=str(artifacts / "wide-03-issued.png"), full_page=True)

    printed = towns.tmp / "print" / f"{certificate_id}.pdf"
    verdict = verify_pdf(printed.read_bytes(), towns.desk.roots(), towns.desk.lookup)
    assert verdict.ok and verdict.issuer_lg_code == B
    assert set(verdict.names) == {
        people.head.full_name,
        people.wife.full_name,
        people.child_heisei.full_name,
        people.child_reiwa.full_name,
    }


def test_wide_area_refusal_names_the_rule(page: Any, towns: TwoTowns, artifacts: Path) -> None:
    sign_in(page, towns, towns.b_url, towns.b_clerk, "F02")
    open_wide_area_form(page)
    page.keyboard.type(A)
    page.keyboard.press("Tab")
    page.keyboard.type(towns.people.supported.resident_code)
    accesskey(page, "k")
    page.wait_for_url(re.compile(r"/terminal/wide-area/confirm"))
    page.wait_for_function(  # autofocus lands after the load event: Enter before it does nothing
        "document.activeElement && document.activeElement.innerText.startsWith('照会して交付する')"
    )
    page.keyboard.press("Enter")  # A is asked, and refuses
    alert = page.wait_for_selector("[role=alert]")
    text = alert.inner_text()
    assert "【支援措置】" in text and "広域交付できません" in text
    assert page.input_value("#resident_code") == towns.people.supported.resident_code
    page.screenshot(path=str(artifacts / "wide-04-refused.png"), full_page=True)


def test_home_supervisor_reads_who_asked(page: Any, towns: TwoTowns, artifacts: Path) -> None:
    # This test's own question from B's counter, refused by A (支援措置): A registers it.
    with pytest.raises(RuleViolation):
        towns.desk.issue_wide_area(
            Actor("fujisawa-clerk", Role.COUNTER_CLERK, "F03"),
            CertificateRequest(CertificateKind.RESIDENCE, towns.people.supported.resident_code),
            home_lg_code=A,
            source=CsContentSource(towns.net.municipality(B)),
        )
    sign_in(page, towns, towns.a_url, towns.a_supervisor, "A02")
    accesskey(page, "h")  # 広域交付照会履歴
    page.wait_for_url(re.compile(r"/terminal/wide-area/register"))
    wait_for_focus(page, "since")
    table = page.inner_text("#wide-area-requests")
    assert B in table and "fujisawa-clerk" in table
    assert towns.people.supported.resident_code in table and "支援措置" in table
    page.screenshot(path=str(artifacts / "wide-05-home-register.png"), full_page=True)
