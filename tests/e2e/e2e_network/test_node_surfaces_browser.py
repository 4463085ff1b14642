"""The counter terminal, the verification page and the API docs on a node of a running network.

A small network of node processes, created and started once for the package (its conftest)
with the operator's commands (`juki network init --demo`, `juki network up`). Chromium then works at
稲城市's node as staff and public would: the terminal under `/registry/terminal` on the node's
mutual-TLS address (the browser presents the console's client certificate, as a counter
workstation does), and the certificate's QR target on the municipality's public listener
(ordinary TLS, no client certificate). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import io
import json
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from juki.certificates.codes import verification_code
from juki.certificates.document import digest_of, parse_document
from juki.certificates.render import DOCUMENT_NAME, verification_url
from juki.cli import main
from juki.core.clock import JST
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.nodes.console import Console
from juki.nodes.demo_operators import DEMO_PIN, DEMO_TERMINAL, GUIDE_FILE, SUPERVISOR
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from juki.storage.engine import make_engine
from support.browser_keys import wait_for_focus
from support.small_network import ADMIN, INAGI, SmallNetwork, newcomers
from support.soft_authenticator import chromium_authenticator
from support.terminal_session import browser_session


@dataclass
class Node:
    files: NetworkFiles
    config: NodeConfig
    token: str

    @property
    def terminal(self) -> str:
        return f"{self.config.endpoint}/registry/terminal"

    @property
    def public(self) -> str:
        return self.config.public_base_url


@pytest.fixture(scope="module")
def inagi(small_network: SmallNetwork) -> Node:
    files = small_network.files
    return Node(files, NodeConfig.load(files.node_file(INAGI)), small_network.clerk)


@pytest.fixture
def staff_page(browser: Any, inagi: Node) -> Iterator[Any]:
    """A counter workstation: the console's client certificate for the node's mTLS address."""
    context = browser.new_context(
        locale="ja-JP",
        viewport={"width": 1280, "height": 900},
        ignore_https_errors=True,  # the node's certificate is issued by the network root
        client_certificates=[
            {
                "origin": inagi.config.endpoint,
                "certPath": str(inagi.files.console_certificate),
                "keyPath": str(inagi.files.console_key),
            }
        ],
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def public_page(browser: Any) -> Iterator[Any]:
    """Anyone's browser: no client certificate at all."""
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 1100, "height": 900}, ignore_https_errors=True
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def applicant(small_network: SmallNetwork) -> str:
    """Who asks for a residence certificate at the terminal (her 住民票コード): a resident of
    稲城市 this module makes, so the other modules of the package never decide who it is."""
    (record,) = newcomers(small_network, INAGI, ("窓口", "マドグチ"), [("証子", "ショウコ")])
    return str(record["resident_code"])


def sign_in(page: Any, inagi: Node) -> None:
    page.goto(f"{inagi.terminal}/residents")
    page.wait_for_url(f"{inagi.terminal}/login")  # not signed in: sent to sign in, under /registry
    wait_for_focus(page, "operator_id")
    engine = make_engine(f"sqlite:///{inagi.config.directory}/node.db")
    try:  # signed in (the sign-in itself: tests/e2e/test_operator_login_browser.py)
        browser_session(page.context, f"{inagi.terminal}/", engine, inagi.token, "E2E-01")
    finally:
        engine.dispose()
    page.goto(f"{inagi.terminal}/")


def issue_at_the_terminal(page: Any, inagi: Node, code: str, artifacts: Path) -> str:
    """Sign in, find the resident by 住民票コード, confirm and issue; the certificate id."""
    sign_in(page, inagi)
    page.click("text=住民を検索して証明書を交付する")
    page.wait_for_url(f"{inagi.terminal}/residents")
    page.fill("#code", code)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/registry/terminal/residents\?"))
    birth = page.inner_text("tbody tr td:nth-child(3)")
    assert re.fullmatch(r"(明治|大正|昭和|平成|令和)(元|\d+)年\d+月\d+日", birth), birth
    page.click("tbody a")  # the row's 証明書交付 link
    page.wait_for_url(re.compile(r"/registry/terminal/certificates/new\?code="))
    page.click("text=内容を確認")
    page.wait_for_url(f"{inagi.terminal}/certificates/confirm")
    # each person with relationship and birth date (and the code's end, for a name met twice)
    persons = page.inner_text("#persons")
    assert re.search(r"生(、住民票コード末尾\d{4})?）", persons), persons
    page.screenshot(path=str(artifacts / "node-01-confirm.png"))
    page.click("text=交付する（印刷）")
    page.wait_for_url(re.compile(r"/registry/terminal/certificates/[0-9a-f-]{36}\?done=1"))
    assert re.search(r"令和\d+年\d+月\d+日 \d+時\d\d分", page.inner_text("main"))
    page.screenshot(path=str(artifacts / "node-02-issued.png"))
    return page.inner_text("#certificate-id").strip()


def test_terminal_and_verification_page_on_a_network_node(
    staff_page: Any, public_page: Any, inagi: Node, applicant: str, artifacts: Path
) -> None:
    certificate_id = issue_at_the_terminal(staff_page, inagi, applicant, artifacts)
    pdf_path = inagi.config.directory / "print" / f"{certificate_id}.pdf"
    pdf = pdf_path.read_bytes()

    from pypdf import PdfReader

    document = PdfReader(io.BytesIO(pdf)).attachments[DOCUMENT_NAME][0].decode("utf-8")
    content, issuance = parse_document(document)
    digest = digest_of(content, issuance)
    # The QR code leads to the public listener, never to the node's mutual-TLS address.
    qr_target = verification_url(issuance, digest)
    assert qr_target.startswith(f"https://127.0.0.1:{inagi.config.public_port}/registry/verify/")
    assert f":{inagi.config.port}/" not in qr_target

    public_page.goto(qr_target)
    assert "有効です" in public_page.inner_text("main")
    public_page.screenshot(path=str(artifacts / "node-03-qr.png"))

    # Typed by hand, in full width and without separators, from the paper.
    code = verification_code(digest).replace("-", "")
    public_page.goto(f"{inagi.public}/verify/")
    public_page.fill("#certificate_id", certificate_id)
    public_page.fill("#d", "".join(chr(ord(c) + 0xFEE0) for c in code))
    public_page.click("button:has-text('確認する')")
    public_page.wait_for_url(re.compile(r"/registry/verify/check\?"))
    assert "有効です" in public_page.inner_text("main")

    # The whole file, uploaded.
    public_page.click("text=確認のページへ戻る")
    public_page.wait_for_url(f"{inagi.public}/verify/")
    public_page.set_input_files("#file", str(pdf_path))
    public_page.click("button:has-text('検証する')")
    public_page.wait_for_url(f"{inagi.public}/verify/pdf")
    assert "真正かつ有効な証明書です" in public_page.inner_text("main")
    public_page.screenshot(path=str(artifacts / "node-04-pdf.png"))

    # The status endpoint over ordinary TLS, and `juki cert verify --url` through it.
    status = httpx.get(
        f"{inagi.public}/api/v1/certificates/{certificate_id}/status",
        params={"digest": digest},
        verify=ssl.create_default_context(cafile=str(inagi.files.root_certificate)),
    )
    assert status.json() == {"status": "valid"}
    root = str(inagi.files.root_certificate)
    verify = ["cert", "verify", str(pdf_path), "--root", root, "--url", inagi.public, "--json"]
    assert main(verify) == 0


def move_in(inagi: Node, given: str, kana: str, birth: str, placement: dict[str, Any]) -> Any:
    """A move-in from abroad through the node's registry API, with the console's certificate."""
    today = datetime.now(JST).date().isoformat()
    body = {
        "person": {
            "family_name": "中村",
            "given_name": given,
            "family_name_kana": "ナカムラ",
            "given_name_kana": kana,
            "birth_date": birth,
            "sex": "male",
            "honseki": "東京都稲城市東長沼2111番地",
            "koseki_head": "中村　誠",
        },
        "origin": "abroad",
        "address": "東京都稲城市東長沼2111番地",
        "moved_on": today,
        "notified_on": today,
        "previous_address": "アメリカ合衆国",
        "placement": placement,
    }
    with Console(inagi.files) as console:
        r = console.client.post(
            f"{inagi.config.endpoint}/registry/api/v1/events/move-in",
            json=body,
            headers={"Authorization": f"Bearer {inagi.token}", "X-Juki-Terminal": "E2E-01"},
        )
    assert r.status_code == 201, r.text
    return r.json()


def test_confirm_screen_tells_apart_two_members_with_the_same_name(
    staff_page: Any, inagi: Node, artifacts: Path
) -> None:
    head = move_in(inagi, "誠", "マコト", "1975-06-01", {"kind": "new_household"})
    joined = {"kind": "join_household", "household_id": head["household_id"]}
    father = move_in(inagi, "健", "ケン", "1948-02-11", {**joined, "relationship": "father"})
    son = move_in(inagi, "健", "ケン", "2001-04-02", {**joined, "relationship": "child"})
    sign_in(staff_page, inagi)
    staff_page.goto(f"{inagi.terminal}/certificates/new?code={head['resident_code']}")
    staff_page.check(f"#member-{father['resident_code']}")
    staff_page.check(f"#member-{son['resident_code']}")
    staff_page.uncheck(f"#member-{head['resident_code']}")
    staff_page.click("text=内容を確認")
    staff_page.wait_for_url(f"{inagi.terminal}/certificates/confirm")
    persons = staff_page.locator("#persons li").all_inner_texts()
    staff_page.screenshot(path=str(artifacts / "node-05-same-names.png"))
    assert len(persons) == 2 and persons[0] != persons[1]
    assert "父、昭和23年2月11日生" in persons[0] and father["resident_code"][-4:] in persons[0]
    assert "子、平成13年4月2日生" in persons[1] and son["resident_code"][-4:] in persons[1]
    assert "同じ氏名の方がいます" in staff_page.inner_text("main")


def test_the_public_listener_serves_nothing_but_verification(inagi: Node) -> None:
    trusted = ssl.create_default_context(cafile=str(inagi.files.root_certificate))
    with httpx.Client(verify=trusted, timeout=10) as client:
        for path in ("/registry/terminal/login", "/registry/api/v1/stats", "/admin/v1/status"):
            assert (
                client.get(f"https://127.0.0.1:{inagi.config.public_port}{path}").status_code == 404
            )
        # And the node's own address still wants a client certificate.
        with pytest.raises(httpx.TransportError):
            client.get(f"{inagi.config.endpoint}/health")


def test_api_docs_work_offline_on_the_node(staff_page: Any, inagi: Node, artifacts: Path) -> None:
    outside: list[str] = []

    def only_the_node(route: Any) -> None:
        url = route.request.url
        if url.startswith(inagi.config.endpoint):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    staff_page.route("**/*", only_the_node)
    staff_page.goto(f"{inagi.config.endpoint}/registry/docs")
    try:
        staff_page.wait_for_selector(".swagger-ui .info .title", timeout=60_000)
    finally:
        staff_page.screenshot(path=str(artifacts / "node-06-docs.png"))
    assert "juki registry API" in staff_page.inner_text(".swagger-ui .info .title")
    staff_page.wait_for_selector('[data-path="/api/v1/certificates/{certificate_id}/status"]')
    assert outside == []
    assert json.loads(staff_page.evaluate("JSON.stringify(location.pathname)")) == (
        "/registry/docs"
    )


def test_a_demo_operator_enrols_and_signs_in_at_a_node_terminal_with_the_card_pin(
    browser: Any, inagi: Node, artifacts: Path
) -> None:
    """What `juki demo` prints a trainer (DIR/demo-sign-in.txt, owner only): the supervisor
    enrols 照合情報 with Chromium's virtual authenticator and the code from the guide, then
    signs in at 稲城市's node terminal (https://localhost:PORT: WebAuthn needs a host name)
    with the demo card's PIN — a SoftHSM2 token the node process opens."""
    guide_file = inagi.files.root / GUIDE_FILE
    assert guide_file.stat().st_mode & 0o777 == 0o600
    guide = guide_file.read_text(encoding="utf-8")
    section = guide[guide.index(f"({INAGI}): ") :]
    terminal = re.search(r"\): (https://localhost:\d+/registry/terminal)/login", section)
    line = re.search(rf"{SUPERVISOR} \(registry_supervisor\) 登録コード (\S+)  カード", section)
    assert terminal and line, guide
    assert f"暗証番号 {DEMO_PIN}" in guide
    origin = terminal.group(1).removesuffix("/registry/terminal")
    context = browser.new_context(
        locale="ja-JP",
        ignore_https_errors=True,  # the node's certificate names 127.0.0.1, issued by the root
        client_certificates=[
            {
                "origin": origin,
                "certPath": str(inagi.files.console_certificate),
                "keyPath": str(inagi.files.console_key),
            }
        ],
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        chromium_authenticator(page)
        page.goto(f"{terminal.group(1)}/enrol")
        page.fill("#operator_id", SUPERVISOR)
        page.fill("#code", line.group(1))
        page.fill("#terminal", DEMO_TERMINAL)
        page.click("#enrol-button")
        page.wait_for_selector("#verify-status.done")
        page.goto(f"{terminal.group(1)}/login")
        page.fill("#operator_id", SUPERVISOR)
        page.fill("#pin", DEMO_PIN)
        page.fill("#terminal", DEMO_TERMINAL)
        page.click("#login-button")
        page.wait_for_selector("header nav, #verify-status.error")
        assert page.url == f"{terminal.group(1)}/", page.inner_text("main")
        page.screenshot(path=str(artifacts / "node-demo-signed-in.png"))
    finally:
        context.close()
    engine = make_engine(f"sqlite:///{inagi.config.directory}/node.db")
    try:
        with engine.connect() as conn:
            logins = conn.execute(
                sa.select(oplog.c.outcome, oplog.c.terminal_id).where(
                    oplog.c.actor_id == SUPERVISOR, oplog.c.action == "login"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in logins] == [("ok", DEMO_TERMINAL)]


def test_a_security_officer_reports_an_incident_at_a_node_terminal(
    staff_page: Any, inagi: Node, artifacts: Path
) -> None:
    """The incident ledger (事故の記録, docs/ledgers.md) on the running node: reported from the
    terminal's form, listed with the seed's next response step, and in the node's oplog."""
    from playwright.sync_api import expect

    engine = make_engine(f"sqlite:///{inagi.config.directory}/node.db")
    try:
        token = create_operator(
            SqlUnitOfWork(engine), ADMIN, "e2e-sec", "保安 試験", Role.SECURITY_OFFICER
        )
        browser_session(staff_page.context, f"{inagi.terminal}/", engine, token, "E2E-02")
        staff_page.goto(f"{inagi.terminal}/ledgers/incidents")
        staff_page.get_by_label("種別").select_option("failure")
        staff_page.get_by_label("概要").fill("CSの応答停止（試験）")
        staff_page.get_by_role("button", name="報告する").click()
        main_text = staff_page.locator("main")  # the incident's page, with the steps to follow
        expect(main_text).to_contain_text("事故を報告しました")
        expect(main_text).to_contain_text("1. 障害対策マニュアルの作業手順による対処")
        staff_page.screenshot(path=str(artifacts / "node-ledger-incident.png"), full_page=True)
        staff_page.get_by_role("link", name="一覧に戻る").click()
        row = staff_page.locator("#incidents tbody tr", has_text="CSの応答停止（試験）")
        expect(row).to_contain_text("システム障害")
        expect(row).to_contain_text("対応中")
        with engine.connect() as conn:
            logged = conn.execute(
                sa.select(oplog.c.action, oplog.c.outcome).where(oplog.c.actor_id == "e2e-sec")
            ).all()
    finally:
        engine.dispose()
    assert ("report_incident", "ok") in [tuple(r) for r in logged]
