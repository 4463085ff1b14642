"""A terminal session for tests of the screens behind the sign-in: the operator named by a
token gets a live session as if they had signed in with 照合情報 and their card, and the
browser (a TestClient, or a Playwright context) its cookie. The sign-in itself, with both
factors, is tested in tests/integration/security and tests/e2e/test_operator_login_browser.py;
these tests are about what comes after it."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.core.clock import Clock, SystemClock
from juki.security.operators import check_token
from juki.security.uow import SqlUnitOfWork
from juki.security.verification.ports import StoredSession
from juki.security.verification.rules import new_secret, sha256_hex

SESSION_COOKIE = "juki_session"


def session_secret(engine: sa.Engine, token: str, terminal: str, clock: Clock) -> str:
    """A live session of the token's operator at `terminal`; its secret (the cookie's value)."""
    actor = check_token(SqlUnitOfWork(engine, clock=clock), token, terminal)
    secret = new_secret()
    with SqlUnitOfWork(engine, clock=clock) as uow:
        now = clock.now().isoformat()
        for key, _ in uow.verification.live_sessions(actor.actor_id):
            uow.verification.end_session(key, now, "logout")
        uow.verification.add_session(
            sha256_hex(secret),
            StoredSession(actor.actor_id, actor.role.value, terminal, now, now),
        )
        uow.commit()
    return secret


def _desk_clock(client: TestClient) -> Clock:
    holder = getattr(client.app.state, "certificates", None)  # type: ignore[attr-defined]
    return holder().clock if holder is not None else SystemClock()


def open_session(
    client: TestClient,
    engine: sa.Engine,
    token: str,
    terminal: str = "T01",
    *,
    base: str = "/terminal",
    clock: Clock | None = None,
) -> str:
    """Sign the client in at `base`; the page's CSRF token."""
    secret = session_secret(engine, token, terminal, clock or _desk_clock(client))
    client.cookies.set(SESSION_COOKIE, secret, path=base)
    home = client.get(f"{base}/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert csrf, home.text[:500]
    return csrf.group(1)


def browser_session(
    context: Any,
    url: str,
    engine: sa.Engine,
    token: str,
    terminal: str,
    clock: Clock | None = None,
) -> None:
    """The same for a Playwright context: the cookie for the terminal at `url` (its mount)."""
    secret = session_secret(engine, token, terminal, clock or SystemClock())
    context.add_cookies([{"name": SESSION_COOKIE, "value": secret, "url": url}])
