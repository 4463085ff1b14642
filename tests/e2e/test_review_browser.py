"""仮登録 → 本登録 in Chromium (issue 11, acceptance): a clerk signed in with 照合情報 (Chromium's
virtual authenticator) and a SoftHSM2 operator card enters a 転居 at the terminal; the
certificate the counter would print for that resident still shows the old address and the CS
outbox holds nothing for it; the clerk's own approval is refused; a supervisor — another
operator, in a session of their own — approves, and then the certificate shows the new address
and the outbox holds the identity_info message. The clerk then enters a 出生 into the household
through the entry screen and its confirmation; the newborn has no record until the supervisor
approves it.

One module, one browser (the session's), one server; the rules behind each step are tested
without a browser in tests/integration/registry/test_review_sql.py and test_review_api.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from juki.certificates.desk import CertificateDesk
from juki.core.clock import JST, FixedClock
from juki.core.settings import Settings
from juki.nodes.apps import create_registry_app
from juki.registry.model import ResidentRecord
from juki.registry.tables import outbox, record_changes, resident_records
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from juki.security.verification import ledger
from juki.security.verification.cards import Pkcs11Reader
from support.browser_signin import ADMIN, enrol, register_with_card, sign_in
from support.cert_population import LiveServer, Registry, init_registry, person, shared_renderer
from support.soft_authenticator import chromium_authenticator as authenticator

HOME = "132250"
PIN = "1357"
OLD_ADDRESS = "東京都稲城市東長沼2111番地"
NEW_ADDRESS = "東京都稲城市押立1780番地"
BABY = {
    "family_name": "青木",
    "given_name": "美玖",
    "family_name_kana": "アオキ",
    "given_name_kana": "ミク",
    "birth_date": "2025-03-28",
    "honseki": "東京都稲城市東長沼2111番地",
    "koseki_head": "青木　健",
}


@dataclass
class Counter:
    engine: sa.Engine
    url: str
    resident: ResidentRecord
    codes: dict[str, str]  # each operator's enrolment code

    def births(self) -> int:
        """Records of the newborn entered at the terminal."""
        r = resident_records.c
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        r.given_name == BABY["given_name"],
                        r.household_id == self.resident.household_id,
                    )
                ).scalar_one()
            )

    def identity_messages(self) -> int:
        """identity_info messages the CS would send for the resident."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(
                        outbox.c.key == self.resident.resident_code,
                        outbox.c.message_type == "identity_info_changed",
                    )
                ).scalar_one()
            )


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory, softhsm: str) -> Iterator[Counter]:
    tmp = tmp_path_factory.mktemp("review-e2e")
    engine = init_registry(f"sqlite:///{tmp}/registry.db")
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    resident = Registry(engine, clock).move_in(
        person("青木", "健", "アオキ", "ケン", date(1988, 10, 10)), address=OLD_ADDRESS
    )
    settings = Settings(  # change_review: on, as every municipality runs by default
        keys_dir=str(tmp / "keys"),
        print_dir=str(tmp / "print"),
        pkcs11_module=softhsm,
        webauthn_rp_id="localhost",
    )
    app = create_registry_app(engine, clock=clock, settings=settings)
    app.state.certificates.use(
        CertificateDesk(engine, settings, clock=clock, renderer=shared_renderer())
    )
    for terminal in ("T01", "T02"):
        ledger.register_terminal(
            SqlUnitOfWork(engine, clock=clock), ADMIN, terminal, HOME, "市民課"
        )
    reader = Pkcs11Reader(softhsm)
    codes = {
        "clerk-r": register_with_card(engine, clock, reader, "clerk-r", PIN),
        "super-r": register_with_card(
            engine, clock, reader, "super-r", PIN, Role.REGISTRY_SUPERVISOR, "審査 花子"
        ),
    }
    with LiveServer(app) as server:
        url = server.url.replace("127.0.0.1", "localhost")  # WebAuthn needs a host name
        yield Counter(engine, url, resident, codes)
    engine.dispose()


def signed_in(page: Any, counter: Counter, operator_id: str, terminal: str) -> None:
    authenticator(page)
    enrol(page, counter.url, operator_id, counter.codes[operator_id])
    assert sign_in(page, counter.url, operator_id, PIN, terminal) == ""


def certificate_address(page: Any, counter: Counter) -> str:
    """The address the counter's residence certificate for the resident would print (the
    confirm screen shows the content as the certificate builders make it)."""
    page.goto(f"{counter.url}/terminal/certificates/new?code={counter.resident.resident_code}")
    page.click("button[accesskey=k]")
    page.wait_for_url(re.compile(r"/terminal/certificates/confirm"))
    return str(page.inner_text("#line-address"))


def test_a_clerks_move_waits_for_another_operators_approval(
    browser: Any, page: Any, counter: Counter, artifacts: Path
) -> None:
    signed_in(page, counter, "clerk-r", "T01")
    before = counter.identity_messages()
    page.goto(f"{counter.url}/terminal/residents?kana=アオキ")
    page.click("a[aria-label$='の転居を入力']")
    page.wait_for_url(re.compile(r"/terminal/relocation"))
    page.fill("#new_address", NEW_ADDRESS)
    page.fill("#moved_on", "2025-03-30")
    page.screenshot(path=str(artifacts / "review-01-relocation.png"))
    page.click("#enter-button")
    page.wait_for_url(re.compile(r"/terminal/review"))
    assert "仮登録しました" in page.inner_text("#review-message")
    row = page.inner_text("#pending tbody tr")
    assert f"転居（1名） → {NEW_ADDRESS}" in row and "自己承認禁止" in row
    assert page.query_selector("button.approve") is None  # no approval offered to the clerk
    page.screenshot(path=str(artifacts / "review-02-pending.png"))

    # 仮登録: on no certificate, in no message
    assert certificate_address(page, counter) == OLD_ADDRESS
    assert counter.identity_messages() == before

    # the clerk's approval, posted anyway, is refused and logged
    page.goto(f"{counter.url}/terminal/review")
    csrf = page.get_attribute("input[name=csrf]", "value")
    change_id = page.get_attribute("input[name=change]", "value")
    refused = page.request.post(
        f"{counter.url}/terminal/review/approval", form={"csrf": csrf, "change": change_id}
    )
    assert refused.status == 403 and "権限がありません" in refused.text()

    # a supervisor, another operator at another terminal, approves
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    boss = context.new_page()
    signed_in(boss, counter, "super-r", "T02")
    approve(boss, counter, artifacts / "review-03-supervisor.png")

    # 本登録: the certificate prints the new address, the CS has the identity_info to send
    assert certificate_address(page, counter) == NEW_ADDRESS
    assert counter.identity_messages() == before + 1
    c = record_changes.c
    with counter.engine.connect() as conn:
        last = conn.execute(
            sa.select(c.actor_id, c.approved_by)
            .where(c.record_id == counter.resident.record_id)
            .order_by(c.seq.desc())
            .limit(1)
        ).one()
        refusal = conn.execute(
            sa.select(oplog.c.outcome).where(
                oplog.c.actor_id == "clerk-r", oplog.c.action == "approve_change"
            )
        ).scalar_one()
    assert tuple(last) == ("clerk-r", "super-r")
    assert refusal == "denied"

    # 出生 at the entry screen: filled in, confirmed, filed; on no record until approved
    enter_birth(page, counter, artifacts)
    assert counter.births() == 0
    approve(boss, counter, artifacts / "review-06-birth-approval.png")
    context.close()
    assert counter.births() == 1


def approve(boss: Any, counter: Counter, shot: Path) -> None:
    """The supervisor approves the one change waiting, the clerk's."""
    boss.goto(f"{counter.url}/terminal/review")
    assert "clerk-r（T01）" in boss.inner_text("#pending")
    boss.screenshot(path=str(shot))
    boss.click("button.approve")
    boss.wait_for_selector("#review-message")
    assert "承認しました（本登録）" in boss.inner_text("#review-message")
    assert boss.query_selector("#no-pending") is not None


def enter_birth(page: Any, counter: Counter, artifacts: Path) -> None:
    page.goto(f"{counter.url}/terminal/residents?kana=アオキ")
    page.click("a[aria-label$='の異動を入力']")
    page.click("#entry-birth")
    page.wait_for_url(re.compile(r"/terminal/entry/birth"))
    for field, value in BABY.items():
        page.fill(f"#{field}", value)
    page.select_option("#sex", "female")
    page.select_option("#relationship", "child")
    page.click("#confirm-button")
    page.wait_for_selector("#entry-confirm")
    assert "美玖" in page.inner_text("#entry-confirm")
    page.screenshot(path=str(artifacts / "review-04-birth-confirm.png"))
    page.click("#enter-button")
    page.wait_for_url(re.compile(r"/terminal/review"))
    assert "仮登録しました" in page.inner_text("#review-message")
    page.screenshot(path=str(artifacts / "review-05-birth-pending.png"))
