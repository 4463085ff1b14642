"""Operator verification end to end below the browser (issue 11 §1), on SQLite and PostgreSQL:
照合情報 (a WebAuthn credential made by a software authenticator and verified by the `webauthn`
library) plus an operator card in SoftHSM2 opened by its PIN; lockout after repeated failures,
cleared by an administrator; idle logout; one session per operator; registered terminals bound
to their municipality; transfer, suspension and withdrawal end what they must. Every step is in
the ledger and the oplog."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from juki.security.verification import ledger, login
from juki.security.verification.cards import Pkcs11Reader
from juki.security.verification.rules import LoginPolicy, LoginRefused, Refusal
from juki.security.verification.webauthn_rp import WebAuthnRelyingParty
from juki.storage.engine import make_engine
from support.soft_authenticator import SoftAuthenticator
from support.softhsm import new_card

HOME = "132250"  # 稲城市
OTHER = "131016"  # 千代田区
RP_ID = "localhost"
ORIGIN = "http://localhost:8000"
PIN = "4321"
ACCESS = Actor("access-1", Role.ACCESS_MANAGER, "console")
PINS = Actor("pin-1", Role.PIN_MANAGER, "console")
ADMIN = Actor("sysadmin-1", Role.SYSTEM_ADMINISTRATOR, "console")
POLICY = LoginPolicy(max_failures=3, idle_limit=timedelta(minutes=15))


@dataclass(frozen=True)
class Card:
    reader: Pkcs11Reader
    label: str
    public_key_pem: str


@pytest.fixture(scope="module")
def card(softhsm: str) -> Card:
    """One operator card for the module: made once (an RSA key is slow to make)."""
    label = f"op-{uuid.uuid4().hex[:12]}"
    new_card(label, PIN)
    reader = Pkcs11Reader(softhsm)
    return Card(reader, label, reader.make_key(label, PIN))


@dataclass
class Office:
    engine: sa.Engine
    clock: FixedClock
    card: Card
    rp: WebAuthnRelyingParty

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, clock=self.clock)

    def operator(self, operator_id: str = "clerk-1") -> SoftAuthenticator:
        """A registered clerk with 照合情報 enrolled and the card issued."""
        code = ledger.register_operator(
            self.uow(), ACCESS, operator_id, "窓口 一郎", Role.COUNTER_CLERK
        )
        device = SoftAuthenticator(RP_ID, ORIGIN)
        started = login.begin_enrolment(self.uow(), self.rp, operator_id, code, "T01")
        login.finish_enrolment(
            self.uow(), self.rp, started.challenge_id, device.create(started.options), ORIGIN
        )
        ledger.issue_card(self.uow(), PINS, operator_id, self.card.label, self.card.public_key_pem)
        return device

    def sign_in(
        self,
        device: SoftAuthenticator,
        operator_id: str = "clerk-1",
        *,
        pin: str = PIN,
        terminal: str = "T01",
        strict: bool = True,
    ) -> login.SignedIn:
        started = login.begin_login(self.uow(), self.rp, operator_id, terminal)
        return login.finish_login(
            self.uow(),
            self.rp,
            self.card.reader,
            POLICY,
            HOME,
            challenge_id=started.challenge_id,
            response=device.get(started.options, strict=strict),
            pin=pin,
            origin=ORIGIN,
        )

    def refused(self, device: SoftAuthenticator, **kw: Any) -> LoginRefused:
        with pytest.raises(LoginRefused) as refused:
            self.sign_in(device, **kw)
        return refused.value

    def log(self, action: str) -> list[tuple[str, str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(oplog.c.actor_id, oplog.c.outcome, oplog.c.detail)
                .where(oplog.c.action == action)
                .order_by(oplog.c.entry_id)
            )
            return [tuple(r) for r in rows]


@pytest.fixture
def office(migrated_db_url: str, card: Card) -> Iterator[Office]:
    engine = make_engine(migrated_db_url)
    o = Office(
        engine,
        FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST)),
        card,
        WebAuthnRelyingParty(RP_ID),
    )
    ledger.register_terminal(o.uow(), ADMIN, "T01", HOME, "市民課 窓口1")
    ledger.register_terminal(o.uow(), ADMIN, "T02", HOME, "市民課 窓口2")
    ledger.register_terminal(o.uow(), ADMIN, "X01", OTHER, "千代田区の端末")
    try:
        yield o
    finally:
        engine.dispose()


def test_both_factors_open_a_session_and_the_ledger_and_oplog_say_so(office: Office) -> None:
    device = office.operator()
    signed_in = office.sign_in(device)
    actor = login.session_actor(office.uow(), POLICY, signed_in.secret)
    assert (actor.actor_id, actor.role, actor.terminal_id) == ("clerk-1", Role.COUNTER_CLERK, "T01")
    events = [e.event for e in ledger.operator_ledger(office.uow(), ACCESS, "clerk-1")]
    assert events == ["registered", "verifier_registered", "card_issued"]
    assert office.log("login") == [("clerk-1", "ok", "照合情報 and operator card")]
    login.logout(office.uow(), signed_in.secret)
    with pytest.raises(login.SessionEnded):
        login.session_actor(office.uow(), POLICY, signed_in.secret)
    assert office.log("logout") == [("clerk-1", "ok", "logout")]


def test_an_enrolment_code_works_once_and_a_device_without_verification_is_refused(
    office: Office,
) -> None:
    code = ledger.register_operator(office.uow(), ACCESS, "c2", "窓口 二郎", Role.COUNTER_CLERK)
    lazy = SoftAuthenticator(RP_ID, ORIGIN, verifies_user=False)
    started = login.begin_enrolment(office.uow(), office.rp, "c2", code, "T01")
    with pytest.raises(Exception, match="registration does not verify"):
        login.finish_enrolment(
            office.uow(), office.rp, started.challenge_id, lazy.create(started.options), ORIGIN
        )
    with pytest.raises(LoginRefused) as wrong:
        login.begin_enrolment(office.uow(), office.rp, "c2", "not-the-code", "T01")
    assert wrong.value.reason is Refusal.ENROLMENT_CODE


def test_repeated_failures_lock_out_until_an_administrator_clears_it(office: Office) -> None:
    device = office.operator()
    assert office.refused(device, pin="0000").reason is Refusal.PIN_INCORRECT
    assert office.refused(device, pin="0000").reason is Refusal.PIN_INCORRECT
    third = office.refused(device, pin="0000")
    assert third.locked_now and "ロック" in third.message_ja
    assert office.refused(device).reason is Refusal.LOCKED  # the right PIN no longer helps
    ledger.clear_lockout(office.uow(), PINS, "clerk-1", "本人確認の上で解除")
    office.sign_in(device)
    events = [e.event for e in ledger.operator_ledger(office.uow(), ACCESS, "clerk-1")]
    assert events[-2:] == ["locked_out", "lockout_cleared"]
    assert [o for _, o, _ in office.log("login")] == ["denied"] * 4 + ["ok"]
    assert office.log("lockout") == [("clerk-1", "ok", "locked after 3 failures")]


def test_one_session_per_operator_until_the_first_idles_out(office: Office) -> None:
    device = office.operator()
    first = office.sign_in(device)
    office.clock.advance(timedelta(minutes=14))
    login.session_actor(office.uow(), POLICY, first.secret)  # still in use: kept alive
    assert office.refused(device, terminal="T02").reason is Refusal.SESSION_EXISTS
    office.clock.advance(timedelta(minutes=15))
    with pytest.raises(login.SessionEnded) as ended:
        login.session_actor(office.uow(), POLICY, first.secret)
    assert ended.value.reason == "idle"
    office.sign_in(device, terminal="T02")
    assert ("clerk-1", "ok", "idle") in office.log("logout")


def test_only_registered_terminals_of_this_municipality(office: Office) -> None:
    device = office.operator()
    assert office.refused(device, terminal="T99").reason is Refusal.UNKNOWN_TERMINAL
    assert office.refused(device, terminal="X01").reason is Refusal.OTHER_MUNICIPALITY
    office.sign_in(device)  # none of these counted towards a lockout


def test_transfer_withdraws_card_and_verifier_and_ends_the_session(office: Office) -> None:
    device = office.operator()
    session = office.sign_in(device)
    code = ledger.transfer_operator(
        office.uow(), ACCESS, "clerk-1", Role.REGISTRY_SUPERVISOR, "4月1日付 異動"
    )
    assert code
    with pytest.raises(login.SessionEnded):
        login.session_actor(office.uow(), POLICY, session.secret)
    assert (
        login.begin_login(office.uow(), office.rp, "clerk-1", "T01").options["allowCredentials"]
        == []
    )
    with pytest.raises(LoginRefused) as refused:
        office.sign_in(device, strict=False)
    assert refused.value.reason is Refusal.NO_CREDENTIAL
    entry = ledger.operator_ledger(office.uow(), ACCESS, "clerk-1")[-1]
    assert (entry.event, entry.by_actor, entry.reason) == (
        "transferred",
        "access-1",
        "4月1日付 異動",
    )
    assert "cards withdrawn 1" in entry.detail


def test_suspension_and_withdrawal_refuse_sign_in(office: Office) -> None:
    device = office.operator()
    ledger.suspend_operator(office.uow(), ACCESS, "clerk-1", "調査のため")
    assert office.refused(device).reason is Refusal.INACTIVE
    ledger.reinstate_operator(office.uow(), ACCESS, "clerk-1", "調査終了")
    office.sign_in(device)
    ledger.withdraw_operator(office.uow(), ACCESS, "clerk-1", "退職")
    assert office.refused(device, strict=False).reason is Refusal.INACTIVE
    events = [e.event for e in ledger.operator_ledger(office.uow(), ACCESS, "clerk-1")]
    assert events[-3:] == ["suspended", "reinstated", "withdrawn"]


def test_a_challenge_answers_once_and_stale_ones_are_refused(office: Office) -> None:
    device = office.operator()
    started = login.begin_login(office.uow(), office.rp, "clerk-1", "T01")
    answer = device.get(started.options)

    def finish() -> login.SignedIn:
        return login.finish_login(
            office.uow(),
            office.rp,
            office.card.reader,
            POLICY,
            HOME,
            challenge_id=started.challenge_id,
            response=answer,
            pin=PIN,
            origin=ORIGIN,
        )

    login.logout(office.uow(), finish().secret)
    with pytest.raises(LoginRefused) as replayed:
        finish()
    assert replayed.value.reason is Refusal.CHALLENGE
    late = login.begin_login(office.uow(), office.rp, "clerk-1", "T01")
    office.clock.advance(timedelta(minutes=6))
    with pytest.raises(LoginRefused) as stale:
        login.finish_login(
            office.uow(),
            office.rp,
            office.card.reader,
            POLICY,
            HOME,
            challenge_id=late.challenge_id,
            response=device.get(late.options),
            pin=PIN,
            origin=ORIGIN,
        )
    assert stale.value.reason is Refusal.CHALLENGE
