"""Operator verification in Chromium (issue 11, acceptance): Chromium's virtual WebAuthn
authenticator (a platform authenticator that verifies the user) stands for the device's
biometric, and a SoftHSM2 token for the operator card. An operator enrols 照合情報 with the
code from `juki operator add`, signs in with it and the card's PIN, is logged out when idle
(the server's clock is moved, nothing sleeps), is refused a second session while the first is
live, and is locked out after repeated wrong PINs until an administrator clears it.

One server for the module; each test has its own operator, page and authenticator. The rules
behind each step are tested without a browser in tests/integration/security.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from juki.certificates.desk import CertificateDesk
from juki.core.clock import JST, FixedClock
from juki.core.settings import Settings
from juki.nodes.apps import create_registry_app
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from juki.security.verification import ledger
from juki.security.verification.cards import Pkcs11Reader
from support.browser_signin import (
    ACCESS,
    ADMIN,
    PINS,
    enrol,
    register_with_card,
)
from support.browser_signin import sign_in as _sign_in
from support.cert_population import LiveServer, init_registry
from support.soft_authenticator import chromium_authenticator as authenticator

HOME = "132250"  # 稲城市, the registry's municipality
PIN = "2468"


@dataclass
class Office:
    engine: sa.Engine
    clock: FixedClock
    url: str  # http://localhost:PORT — WebAuthn needs a host name, not an IP address
    reader: Pkcs11Reader

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, clock=self.clock)

    def operator(self, operator_id: str) -> str:
        """Registered, with a card issued; the enrolment code the operator is handed."""
        return register_with_card(self.engine, self.clock, self.reader, operator_id, PIN)

    def logged(self, operator_id: str, action: str) -> list[tuple[str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(oplog.c.outcome, oplog.c.detail)
                .where(oplog.c.actor_id == operator_id, oplog.c.action == action)
                .order_by(oplog.c.entry_id)
            )
            return [(r.outcome, r.detail) for r in rows]


def sign_in(page: Any, office: Office, operator_id: str, pin: str, terminal: str) -> str:
    return _sign_in(page, office.url, operator_id, pin, terminal)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory, softhsm: str) -> Iterator[Office]:
    tmp = tmp_path_factory.mktemp("operator-e2e")
    engine = init_registry(f"sqlite:///{tmp}/registry.db")
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    settings = Settings(
        keys_dir=str(tmp / "keys"),
        print_dir=str(tmp / "print"),
        pkcs11_module=softhsm,
        webauthn_rp_id="localhost",
        login_max_failures=3,
        idle_minutes=15,
    )
    app = create_registry_app(engine, clock=clock, settings=settings)
    app.state.certificates.use(CertificateDesk(engine, settings, clock=clock))
    o = Office(engine, clock, "", Pkcs11Reader(softhsm))
    for terminal in ("T01", "T02"):
        ledger.register_terminal(o.uow(), ADMIN, terminal, HOME, "市民課 窓口")
    with LiveServer(app) as server:
        o.url = server.url.replace("127.0.0.1", "localhost")
        yield o
    engine.dispose()


def test_enrol_sign_in_with_both_factors_then_logged_out_when_idle(
    page: Any, office: Office, artifacts: Path
) -> None:
    code = office.operator("clerk-a")
    authenticator(page)
    enrol(page, office.url, "clerk-a", code)
    page.screenshot(path=str(artifacts / "operator-01-enrolled.png"))
    assert sign_in(page, office, "clerk-a", PIN, "T01") == ""
    assert "clerk-a（窓口担当者）端末 T01" in page.inner_text("header")
    office.clock.advance(timedelta(minutes=14))
    page.goto(f"{office.url}/terminal/residents")  # in use: the session lives on
    assert page.url.endswith("/terminal/residents")
    office.clock.advance(timedelta(minutes=15))
    page.goto(f"{office.url}/terminal/residents")
    assert page.url.endswith("/terminal/login?ended=idle")
    assert "一定時間操作がなかったため" in page.inner_text("#verify-status")
    page.screenshot(path=str(artifacts / "operator-02-idle.png"))
    assert office.logged("clerk-a", "login") == [("ok", "照合情報 and operator card")]
    assert office.logged("clerk-a", "logout") == [("ok", "idle")]


def test_a_second_session_is_refused_while_the_first_is_live(
    browser: Any, page: Any, office: Office
) -> None:
    code = office.operator("clerk-b")
    cdp, first = authenticator(page)
    enrol(page, office.url, "clerk-b", code)
    assert sign_in(page, office, "clerk-b", PIN, "T01") == ""
    # The same operator at another terminal, with the same 照合情報 (copied to its device).
    context = browser.new_context(locale="ja-JP")
    try:
        other = context.new_page()
        other_cdp, second = authenticator(other)
        for credential in cdp.send("WebAuthn.getCredentials", {"authenticatorId": first})[
            "credentials"
        ]:
            other_cdp.send(
                "WebAuthn.addCredential", {"authenticatorId": second, "credential": credential}
            )
        refused = sign_in(other, office, "clerk-b", PIN, "T02")
        assert "他の端末でログイン中" in refused
        page.click("text=ログアウト")  # the first leaves the seat
        page.wait_for_url(f"{office.url}/terminal/login")
        assert sign_in(other, office, "clerk-b", PIN, "T02") == ""
    finally:
        context.close()
    outcomes = [o for o, _ in office.logged("clerk-b", "login")]
    assert outcomes == ["ok", "denied", "ok"]
    assert ("denied", "session_exists") in office.logged("clerk-b", "login")


def test_repeated_wrong_pins_lock_out_until_an_administrator_clears_it(
    page: Any, office: Office, artifacts: Path
) -> None:
    code = office.operator("clerk-c")
    authenticator(page)
    enrol(page, office.url, "clerk-c", code)
    assert "暗証番号が正しくありません" in sign_in(page, office, "clerk-c", "0000", "T01")
    assert "暗証番号が正しくありません" in sign_in(page, office, "clerk-c", "1111", "T01")
    assert "ロックされています" in sign_in(page, office, "clerk-c", "2222", "T01")
    assert "ロックされています" in sign_in(page, office, "clerk-c", PIN, "T01")
    page.screenshot(path=str(artifacts / "operator-03-locked.png"))
    ledger.clear_lockout(office.uow(), PINS, "clerk-c", "本人確認の上で解除")
    assert sign_in(page, office, "clerk-c", PIN, "T01") == ""
    events = [e.event for e in ledger.operator_ledger(office.uow(), ACCESS, "clerk-c")]
    assert events[-2:] == ["locked_out", "lockout_cleared"]
