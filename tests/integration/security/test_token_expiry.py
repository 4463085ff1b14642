"""Operator tokens end: they expire, they can be revoked, and a 401 says which (issue 10 §4).

On SQLite and PostgreSQL: the registry API answers an expired token with `token_expired`, a
revoked one with `token_revoked`, a deactivated operator with `operator_inactive`, each with a
Japanese message; a new token replaces the old one; revoking and issuing are actions of the
operations manager, logged like every other. `juki operator token|revoke` do it from the console.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.cli import main
from juki.core.clock import JST, FixedClock
from juki.core.errors import DomainRuleError, PermissionDeniedError, ValidationError
from juki.core.settings import DEFAULT_OPERATOR_TOKEN_DAYS, Settings
from juki.nodes.apps import create_registry_app
from juki.security.actors import Actor
from juki.security.operators import (
    DEFAULT_TOKEN_VALIDITY,
    TOKEN_LOGIN,
    TokenRefused,
    check_token,
    create_operator,
    deactivate_operator,
    issue_token,
    revoke_token,
)
from juki.security.permissions import Role
from juki.security.tables import operators, oplog
from juki.security.uow import SqlUnitOfWork
from juki.security.verification import ledger
from juki.storage.engine import make_engine

MANAGER = Actor("manager", Role.OPERATIONS_MANAGER, "console")
CLERK = Actor("clerk.01", Role.COUNTER_CLERK, "T-01")
MANAGER_OF_ACCESS = Actor("access.01", Role.ACCESS_MANAGER, "console")
STATS = "/api/v1/stats"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(migrated_db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def client(engine: sa.Engine, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_registry_app(engine, clock=clock)) as c:
        yield c


def uow(engine: sa.Engine, clock: FixedClock) -> SqlUnitOfWork:
    return SqlUnitOfWork(engine, clock=clock)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def clerk_token(engine: sa.Engine, clock: FixedClock, days: int = 30) -> str:
    return create_operator(
        uow(engine, clock), MANAGER, "clerk.01", "窓口 一郎", Role.COUNTER_CLERK, timedelta(days)
    )


def test_the_default_validity_is_the_settings_default() -> None:
    assert timedelta(days=DEFAULT_OPERATOR_TOKEN_DAYS) == DEFAULT_TOKEN_VALIDITY
    assert Settings().operator_token_days == DEFAULT_OPERATOR_TOKEN_DAYS
    assert Settings.from_env({"JUKI_OPERATOR_TOKEN_DAYS": "7"}).operator_token_days == 7


def test_a_token_works_until_its_expiry_then_401_expired(
    engine: sa.Engine, clock: FixedClock, client: TestClient
) -> None:
    token = clerk_token(engine, clock, days=30)
    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    assert client.get(STATS, headers=bearer(token)).status_code != 401
    clock.advance(timedelta(seconds=1))
    r = client.get(STATS, headers=bearer(token))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json()["type"] == "token_expired"
    assert "有効期限" in r.json()["msg_ja"]


def test_a_revoked_token_is_401_revoked_and_a_new_token_works(
    engine: sa.Engine, clock: FixedClock, client: TestClient
) -> None:
    old = clerk_token(engine, clock)
    assert client.get(STATS, headers=bearer(old)).status_code != 401
    revoke_token(uow(engine, clock), MANAGER, "clerk.01")
    r = client.get(STATS, headers=bearer(old))
    assert (r.status_code, r.json()["type"]) == (401, "token_revoked")
    assert "失効" in r.json()["msg_ja"]
    with pytest.raises(DomainRuleError) as info:
        revoke_token(uow(engine, clock), MANAGER, "clerk.01")  # already revoked: said so
    assert info.value.rule == "already_revoked"
    new = issue_token(uow(engine, clock), MANAGER, "clerk.01", timedelta(days=7))
    assert new != old
    assert client.get(STATS, headers=bearer(new)).status_code != 401
    # The old token's hash is gone with it: it stands for no one now.
    r = client.get(STATS, headers=bearer(old))
    assert (r.status_code, r.json()["type"]) == (401, "authentication_required")
    clock.advance(timedelta(days=7))
    assert client.get(STATS, headers=bearer(new)).json()["type"] == "token_expired"


def test_a_deactivated_operator_is_401_inactive(
    engine: sa.Engine, clock: FixedClock, client: TestClient
) -> None:
    token = clerk_token(engine, clock)
    deactivate_operator(uow(engine, clock), MANAGER, "clerk.01")
    r = client.get(STATS, headers=bearer(token))
    assert (r.status_code, r.json()["type"]) == (401, "operator_inactive")
    with pytest.raises(TokenRefused) as refused:
        check_token(uow(engine, clock), token, "T-01")
    assert refused.value.reason == "inactive"


def test_a_locked_out_suspended_or_withdrawn_operators_token_is_refused_and_logged(
    engine: sa.Engine, clock: FixedClock, client: TestClient
) -> None:
    """A lockout at the terminal stops the operator's token too (401 `operator_locked`), and
    so do suspension and withdrawal; each refusal is in the oplog; a cleared lockout and a
    reinstatement restore the token."""
    token = clerk_token(engine, clock)
    with uow(engine, clock) as u:
        u.operators.set_lock("clerk.01", clock.now().isoformat())  # as the sign-in's lockout does
        u.commit()
    r = client.get(STATS, headers=bearer(token))
    assert (r.status_code, r.json()["type"]) == (401, "operator_locked")
    assert "ロック" in r.json()["msg_ja"]
    with pytest.raises(TokenRefused) as refused:
        check_token(uow(engine, clock), token, "console")
    assert refused.value.reason == "locked"
    ledger.clear_lockout(uow(engine, clock), MANAGER_OF_ACCESS, "clerk.01", "本人確認の上で解除")
    assert client.get(STATS, headers=bearer(token)).status_code == 200
    ledger.suspend_operator(uow(engine, clock), MANAGER_OF_ACCESS, "clerk.01", "調査のため")
    assert client.get(STATS, headers=bearer(token)).json()["type"] == "operator_inactive"
    ledger.reinstate_operator(uow(engine, clock), MANAGER_OF_ACCESS, "clerk.01", "調査終了")
    assert client.get(STATS, headers=bearer(token)).status_code == 200
    ledger.withdraw_operator(uow(engine, clock), MANAGER_OF_ACCESS, "clerk.01", "退職")
    assert client.get(STATS, headers=bearer(token)).status_code == 401
    with engine.connect() as conn:
        refusals = conn.execute(
            sa.select(oplog.c.actor_id, oplog.c.outcome, oplog.c.detail, oplog.c.terminal_id)
            .where(oplog.c.action == TOKEN_LOGIN)
            .order_by(oplog.c.entry_id)
        ).all()
    assert [(a, o, d) for a, o, d, _ in refusals] == [
        ("clerk.01", "denied", "token refused: locked"),
        ("clerk.01", "denied", "token refused: locked"),
        ("clerk.01", "denied", "token refused: inactive"),
        ("clerk.01", "denied", "token refused: inactive"),
    ]
    assert refusals[1][3] == "console"


def test_revoking_and_issuing_are_the_managers_and_logged(
    engine: sa.Engine, clock: FixedClock
) -> None:
    clerk_token(engine, clock)
    with pytest.raises(PermissionDeniedError):
        revoke_token(uow(engine, clock), CLERK, "clerk.01")
    with pytest.raises(PermissionDeniedError):
        issue_token(uow(engine, clock), CLERK, "clerk.01")
    revoke_token(uow(engine, clock), MANAGER, "clerk.01")
    issue_token(uow(engine, clock), MANAGER, "clerk.01")
    with engine.connect() as conn:
        entries = conn.execute(
            sa.select(oplog.c.actor_id, oplog.c.outcome, oplog.c.detail)
            .where(oplog.c.target == "operator:clerk.01")
            .order_by(oplog.c.entry_id)
        ).all()
        row = conn.execute(sa.select(operators).where(operators.c.operator_id == "clerk.01"))
        stored = row.mappings().one()
    assert [(a, o) for a, o, _ in entries] == [
        ("manager", "ok"),
        ("clerk.01", "denied"),
        ("clerk.01", "denied"),
        ("manager", "ok"),
        ("manager", "ok"),
    ]
    assert entries[3][2] == "token revoked"
    assert stored["token_revoked_at"] is None
    expires = datetime.fromisoformat(stored["token_expires_at"])
    assert expires == clock.now() + DEFAULT_TOKEN_VALIDITY


@pytest.mark.parametrize("days", [0, -1, 367])
def test_a_validity_outside_a_day_to_a_year_is_refused(
    engine: sa.Engine, clock: FixedClock, days: int
) -> None:
    with pytest.raises(ValidationError) as info:
        clerk_token(engine, clock, days=days)
    assert (info.value.field, info.value.rule) == ("days", "token_validity")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(operators)).scalar_one() == 0


def test_the_commands_issue_and_revoke(
    migrated_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The contract: `operator add` registers (and prints the enrolment code, no token);
    `operator token --purpose --days` prints the token once; suspend and withdraw take a
    reason; each is in the ledger with who did it."""
    db = ["--db", migrated_db_url]
    add = ["operator", "add", *db, "--id", "c1", "--name", "窓口 一郎", "--role", "counter_clerk"]
    assert main(add) == 0
    enrolment = capsys.readouterr().out.strip()
    assert enrolment and not enrolment.startswith("juki_")
    token = ["operator", "token", *db, "--id", "c1", "--purpose", "夜間の統計"]
    assert main([*token, "--days", "0"]) == 1
    assert (
        capsys.readouterr().err.strip()
        == "days: a token is valid for 1 to 366 days [token_validity]"
    )
    assert main([*token[:-2], "--purpose", " ", "--days", "2"]) == 1
    assert "[purpose]" in capsys.readouterr().err
    assert main([*token, "--days", "2"]) == 0
    second = capsys.readouterr().out.strip()
    assert second.startswith("juki_")
    assert main(["operator", "revoke", *db, "--id", "c1"]) == 0
    assert "c1" in capsys.readouterr().out
    engine = make_engine(migrated_db_url)
    try:
        with pytest.raises(TokenRefused) as refused:
            check_token(SqlUnitOfWork(engine), second, "-")
    finally:
        engine.dispose()
    assert refused.value.reason == "revoked"
    assert main(["operator", "suspend", *db, "--id", "c1", "--reason", "長期休暇"]) == 0
    assert main(["operator", "withdraw", *db, "--id", "c1", "--reason", "退職"]) == 0
    capsys.readouterr()
    assert main(["operator", "ledger", *db, "--id", "c1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["event"], r["reason"]) for r in rows] == [
        ("registered", "registered"),
        ("token_issued", "夜間の統計"),
        ("token_revoked", "revoked"),
        ("suspended", "長期休暇"),
        ("withdrawn", "退職"),
    ]
    assert {r["by_role"] for r in rows} == {"access_manager"}
    assert main(["operator", "revoke", *db, "--id", "nobody"]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
