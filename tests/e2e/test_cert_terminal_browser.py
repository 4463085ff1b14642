"""The counter terminal in Chromium, by keyboard alone: sign in, search, choose, confirm, issue,
and check the certificate on the public verification page. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.browser_keys import accesskey, focused, tab_to, unlabelled_inputs, wait_for_focus
from support.cert_population import (
    KUZU_IVS,
    MANAGER,
    TSUJI_IVS,
    CertEnv,
    LiveServer,
    cert_env,
    registry_app,
)
from support.terminal_session import browser_session


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CertEnv, str, str]]:
    tmp = tmp_path_factory.mktemp("e2e")
    env = cert_env(f"sqlite:///{tmp}/registry.db", tmp)
    token = create_operator(
        SqlUnitOfWork(env.engine, clock=env.reg.clock),
        MANAGER,
        "clerk-1",
        "窓口 一郎",
        Role.COUNTER_CLERK,
    )
    with LiveServer(registry_app(env)) as server:
        yield env, server.url, token
    env.engine.dispose()


def test_issue_a_certificate_by_keyboard(
    page: Any, served: tuple[CertEnv, str, str], artifacts: Path
) -> None:
    env, base, token = served
    head = env.people.head
    page.goto(f"{base}/terminal/residents")
    assert page.url.endswith("/terminal/login")  # not signed in: sent to sign in
    wait_for_focus(page, "operator_id")  # the first field has focus
    assert unlabelled_inputs(page) == []
    page.screenshot(path=str(artifacts / "cert-01-login.png"))
    # Signed in (照合情報 + card: tests/e2e/test_operator_login_browser.py covers the sign-in).
    browser_session(page.context, f"{base}/terminal/", env.engine, token, "T01", env.reg.clock)
    page.goto(f"{base}/terminal/")
    assert "窓口担当者" in page.inner_text("header")

    accesskey(page, "s")  # 住民検索
    page.wait_for_url(re.compile(r"/terminal/residents"))
    wait_for_focus(page, "kana")
    page.keyboard.type("カサイ")
    page.keyboard.press("Enter")
    page.wait_for_selector("table")
    assert f"{KUZU_IVS}西　{TSUJI_IVS}" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "cert-02-search.png"))
    link = tab_to(page, lambda f: f["label"].startswith(f"{KUZU_IVS}西　{TSUJI_IVS}"))
    assert "solid" in link["outline"] and link["outline"].endswith("3px")  # visible focus
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/terminal/certificates/new"))

    assert unlabelled_inputs(page) == []
    wait_for_focus(page, "kind-residence")
    tab_to(page, lambda f: f["id"] == f"member-{env.people.wife.resident_code}")
    page.keyboard.press("Space")
    tab_to(page, lambda f: f["id"] == "item-householder")
    page.keyboard.press("Space")
    tab_to(page, lambda f: f["id"] == "copies")
    page.keyboard.press("Control+a")
    page.keyboard.type("2")
    page.screenshot(path=str(artifacts / "cert-03-request.png"), full_page=True)
    accesskey(page, "k")  # 内容を確認
    page.wait_for_url(re.compile(r"/terminal/certificates/confirm"))
    assert page.inner_text("#fee") == "600円"
    page.wait_for_function(  # the confirm button has the focus: Enter issues
        "document.activeElement && document.activeElement.innerText.startsWith('交付する')"
    )
    page.screenshot(path=str(artifacts / "cert-04-confirm.png"))
    page.keyboard.press("Enter")
    page.wait_for_selector("#issued")
    numbers = page.inner_text("#issue-numbers").split()
    assert len(numbers) == 2 and all(n.startswith("20250401-132250-T01-") for n in numbers)
    certificate_id = page.inner_text("#certificate-id")
    page.screenshot(path=str(artifacts / "cert-05-issued.png"), full_page=True)

    printed = env.tmp / "print" / f"{certificate_id}.pdf"
    assert printed.exists()
    from juki.certificates.verify import verify_pdf

    verdict = verify_pdf(printed.read_bytes(), env.desk.roots(), env.desk.lookup)
    assert verdict.ok and verdict.names == (head.full_name, env.people.wife.full_name)

    # the public page the QR code leads to shows the names as printed, variants included
    page.goto(f"{base}/verify/{certificate_id}?d={verdict.digest}")
    names = page.inner_text("dd >> nth=3")
    assert f"{KUZU_IVS}西　{TSUJI_IVS}" in names
    assert "有効です" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "cert-06-verify.png"), full_page=True)


def test_refusal_is_announced_and_focusable(
    page: Any, served: tuple[CertEnv, str, str], artifacts: Path
) -> None:
    env, base, token = served
    browser_session(page.context, f"{base}/terminal/", env.engine, token, "T02", env.reg.clock)
    page.goto(f"{base}/terminal/")
    page.goto(f"{base}/terminal/certificates/new?code={env.people.abolished.resident_code}")
    wait_for_focus(page, "kind-residence")
    page.keyboard.press("ArrowDown")  # within a radio group the arrow keys choose
    page.keyboard.press("ArrowDown")
    assert focused(page)["id"] == "kind-seal"
    accesskey(page, "k")
    alert = page.wait_for_selector("[role=alert]")
    assert "廃止された印鑑は証明できません" in alert.inner_text()
    page.screenshot(path=str(artifacts / "cert-07-refused.png"))
