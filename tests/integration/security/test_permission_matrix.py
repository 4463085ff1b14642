"""Generated from the one permission table: every role without a permission is refused, and the
refusal is in the oplog (issue 11, point 2); a command without a credential changes nothing.

One SQLite registry for the whole module (support.cert_population), one operator per role.
Every action permission is driven through `perform` (the one way every service action runs,
as tests/unit/security/test_rule_coverage.py proves), every read and every write route of the
registry and certificates JSON API over HTTP as each role without its permission (which also
checks support.rules names the permission its service checks; a write route gets the smallest
request its OpenAPI schema accepts, support.minimal_requests), and every command with a
permission without its token.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki import cli
from juki.core.errors import PermissionDeniedError
from juki.core.settings import Settings
from juki.nodes.apps import create_registry_app
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.credentials import MISSING
from juki.security.operators import create_operator
from juki.security.permissions import NODE_ROLES, SENSITIVE_ITEMS, Permission, Role, is_allowed
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from support.cert_population import MANAGER, CertEnv, cert_env
from support.minimal_requests import minimal_request
from support.rules import COMMANDS, REGISTRY_ROUTES, command_leaves

ACTIONS = sorted(set(Permission) - set(SENSITIVE_ITEMS))
OPERATORS = [r for r in Role if r not in NODE_ROLES]  # a node holds no operator token


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertEnv]:
    tmp: Path = tmp_path_factory.mktemp("matrix")
    built = cert_env(f"sqlite:///{tmp}/registry.db", tmp)
    try:
        yield built
    finally:
        built.engine.dispose()


def denied(env: CertEnv, target: str) -> set[tuple[str, str]]:
    """(action, role) of every refusal logged against `target`."""
    c = oplog.c
    with env.engine.connect() as conn:
        rows = conn.execute(
            sa.select(c.action, c.role).where(c.target == target, c.outcome == "denied")
        ).all()
    return {(a, r) for a, r in rows}


def test_every_role_without_an_action_permission_is_refused_and_logged(env: CertEnv) -> None:
    def never(_: Any) -> None:
        raise AssertionError("the work ran for a role without the permission")

    expected: set[tuple[str, str]] = set()
    for permission in ACTIONS:
        for role in Role:
            if is_allowed(role, permission):
                continue
            actor = Actor(f"matrix-{role.value}", role, "T-M")
            with pytest.raises(PermissionDeniedError):
                perform(env.reg.uow(), actor, permission, "matrix", never)
            expected.add((permission.value, role.value))
    assert len(expected) > 300
    assert denied(env, "matrix") == expected


def _path(template: str, env: CertEnv) -> tuple[str, dict[str, str]]:
    head = env.people.head
    path = (
        template.replace("{record_id}", head.record_id)
        .replace("{household_id}", head.household_id)
        .replace("{measure_id}", "m-1")
        .replace("{change_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{incident_id}", "1")
    )
    query = {"name_kana": "カサイ"} if template.endswith("/residents") else {}
    if template.endswith("/ledgers/summary"):
        query = {"since": "2025-04-01", "until": "2025-04-30"}
    return path, query


READ_ROUTES = sorted(
    (k.split(" ", 1)[1], p)
    for k, p in REGISTRY_ROUTES.items()
    if k.startswith("GET /api/") and isinstance(p, Permission)
)


@pytest.fixture(scope="module")
def tokens(env: CertEnv) -> dict[Role, str]:
    """One operator per role (but the node itself), for the HTTP cases."""
    uow = SqlUnitOfWork(env.engine, clock=env.reg.clock)
    return {
        role: create_operator(uow, MANAGER, f"m-{role.value}"[:32], "権限 確認", role)
        for role in OPERATORS
    }


@pytest.fixture(scope="module")
def client(env: CertEnv) -> Iterator[TestClient]:
    with TestClient(create_registry_app(env.engine, clock=env.reg.clock)) as c:
        yield c


def test_every_read_route_refuses_each_role_without_its_permission_and_logs_it(
    env: CertEnv, tokens: dict[Role, str], client: TestClient
) -> None:
    before = env.state()
    assert len(READ_ROUTES) >= 12
    for template, permission in READ_ROUTES:
        path, query = _path(template, env)
        for role in OPERATORS:
            if is_allowed(role, permission):
                continue
            headers = {"Authorization": f"Bearer {tokens[role]}", "X-Juki-Terminal": "T-M"}
            r = client.get(path, params=query, headers=headers)
            assert r.status_code == 403, (template, role, r.text)
            assert r.json()["msg_ja"], template
        refused = {role.value for action, role in _all_denied(env) if action == permission.value}
        lacking = {r.value for r in OPERATORS if not is_allowed(r, permission)}
        assert lacking <= refused, template
    assert env.state() == before


WRITE_ROUTES = sorted(
    (k.split(" ", 1)[1], p)
    for k, p in REGISTRY_ROUTES.items()
    if k.startswith("POST /api/") and isinstance(p, Permission)
)


def test_every_write_route_refuses_each_role_without_its_permission_and_logs_it(
    env: CertEnv, tokens: dict[Role, str], client: TestClient
) -> None:
    """Generated from the route table and the permission table: each write route of the
    registry and certificates APIs, called as each role lacking its permission with a request
    its schema accepts, answers 403, changes nothing, and leaves a `denied` entry."""
    doc = client.get("/openapi.json").json()
    assert len(WRITE_ROUTES) >= 30
    before = env.state()
    expected: set[tuple[str, str]] = set()
    for template, permission in WRITE_ROUTES:
        path, body = minimal_request(doc, "POST", template)
        for role in OPERATORS:
            if is_allowed(role, permission):
                continue
            headers = {"Authorization": f"Bearer {tokens[role]}", "X-Juki-Terminal": "T-W"}
            r = client.post(path, json=body, headers=headers)
            assert r.status_code == 403, (template, role, r.text)
            assert r.json()["msg_ja"], template
            expected.add((permission.value, role.value))
    assert env.state() == before
    c = oplog.c
    with env.engine.connect() as conn:
        rows = conn.execute(
            sa.select(c.action, c.role).where(c.outcome == "denied", c.terminal_id == "T-W")
        ).all()
    assert {(a, r) for a, r in rows} == expected


def _all_denied(env: CertEnv) -> set[tuple[str, Role]]:
    c = oplog.c
    with env.engine.connect() as conn:
        rows = conn.execute(
            sa.select(c.action, c.role).where(c.outcome == "denied", c.actor_id.like("m-%"))
        ).all()
    return {(a, Role(r)) for a, r in rows}


def _argv(path: str, parser: argparse.ArgumentParser, tmp: Path, url: str) -> list[str]:
    """The command with a plausible value for every required argument, and no token."""
    argv = path.split(" ")
    for action in parser._actions:
        if action.dest in ("help", "token", "db") or not (
            action.required or not action.option_strings
        ):
            continue
        if action.choices:
            value = str(next(iter(action.choices)))
        elif action.type is int:
            value = "1"
        elif action.type is Path:
            value = str(tmp / "out")
        elif getattr(action.type, "__name__", "") == "_date":
            value = date(2025, 4, 1).isoformat()
        elif getattr(action.type, "__name__", "") == "_year":
            value = "2025"
        else:
            value = "24727059608"
        argv += [action.option_strings[0], value] if action.option_strings else [value]
    takes_db = any(a.dest == "db" for a in parser._actions)
    return [*argv, *(["--db", url] if takes_db else []), "--token", ""]


def test_no_personal_data_command_runs_without_a_credential(
    env: CertEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every command whose rule is a permission (but `juki operator …`, which acts as the
    console's アクセス管理責任者 without one) exits 1 naming the token, and changes nothing."""
    monkeypatch.delenv("JUKI_TOKEN", raising=False)
    monkeypatch.setenv("JUKI_KEYS_DIR", env.desk.settings.keys_dir)
    monkeypatch.setenv("JUKI_PRINT_DIR", str(env.tmp / "print"))
    url = env.engine.url.render_as_string(hide_password=False)
    leaves = {
        path: parser
        for name in {p.split(" ")[0] for p in COMMANDS}
        for path, parser in command_leaves(cli.build_parser(Settings(), [name]))
        if path.split(" ")[0] == name
    }
    guarded = sorted(
        p for p, rule in COMMANDS.items() if isinstance(rule, Permission) and p[:8] != "operator"
    )
    assert len(guarded) >= 19
    with env.engine.connect() as conn:
        logged = conn.execute(sa.select(sa.func.count()).select_from(oplog)).scalar_one()
    before = env.state()
    for path in guarded:
        code = cli.main(_argv(path, leaves[path], tmp_path, url))
        out = capsys.readouterr()
        assert (code, out.out) == (1, ""), path
        assert out.err.startswith(MISSING[:40]), (path, out.err)
    assert env.state() == before
    with env.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(oplog)).scalar_one() == logged
    assert not (tmp_path / "out").exists()
