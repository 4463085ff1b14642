"""Signing in at the terminal in Chromium with both factors: Chromium's virtual platform
authenticator (user-verifying) stands for the device's biometric (照合情報), a SoftHSM2 token for
the operator card. Shared by the browser tests of sign-in itself
(tests/e2e/test_operator_login_browser.py) and of what needs a real signed-in operator
(tests/e2e/test_review_browser.py)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from juki.core.clock import Clock
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from juki.security.verification import ledger
from juki.security.verification.cards import Pkcs11Reader
from support.softhsm import new_card

ACCESS = Actor("access-1", Role.ACCESS_MANAGER, "console")
PINS = Actor("pin-1", Role.PIN_MANAGER, "console")
ADMIN = Actor("sysadmin-1", Role.SYSTEM_ADMINISTRATOR, "console")


def register_with_card(
    engine: sa.Engine,
    clock: Clock,
    reader: Pkcs11Reader,
    operator_id: str,
    pin: str,
    role: Role = Role.COUNTER_CLERK,
    name: str = "窓口 一郎",
) -> str:
    """Registered, with a card issued; the enrolment code the operator is handed."""
    code = ledger.register_operator(
        SqlUnitOfWork(engine, clock=clock), ACCESS, operator_id, name, role
    )
    label = f"e2e-{uuid.uuid4().hex[:10]}"
    new_card(label, pin)
    public_key = reader.make_key(label, pin)
    ledger.issue_card(SqlUnitOfWork(engine, clock=clock), PINS, operator_id, label, public_key)
    return code


def enrol(page: Any, url: str, operator_id: str, code: str) -> None:
    page.goto(f"{url}/terminal/enrol")
    page.fill("#operator_id", operator_id)
    page.fill("#code", code)
    page.fill("#terminal", "T01")
    page.click("#enrol-button")
    page.wait_for_selector("#verify-status.done")
    assert "照合情報を登録しました" in page.inner_text("#verify-status")


def sign_in(page: Any, url: str, operator_id: str, pin: str, terminal: str) -> str:
    """Submit the sign-in form; '' when signed in, else the refusal shown."""
    page.goto(f"{url}/terminal/login")
    page.fill("#operator_id", operator_id)
    page.fill("#pin", pin)
    page.fill("#terminal", terminal)
    page.click("#login-button")
    page.wait_for_selector("header nav, #verify-status.error")  # home, or the refusal
    if page.url.endswith("/terminal/"):
        return ""
    return str(page.inner_text("#verify-status.error"))
