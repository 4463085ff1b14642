"""Meta-test: every route, command and service action has a rule (issue 11, point 2).

The oracle is `support.rules`: each route of the registry app and each `juki` command is listed
with the `Permission` its service checks, or in a reasoned allow-list (public, session only,
node admin token, console). A route or command added without an entry fails here; so does a
service action whose permission is not a literal `Permission` (or one of the reasoned dynamic
ones), and a permission nothing uses.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

import juki
from juki.cli import COMMANDS as CLI_COMMANDS
from juki.cli import build_parser
from juki.core.settings import Settings
from juki.nodes.admin_api import ADMIN_ACTOR
from juki.nodes.apps import create_registry_app
from juki.security.permissions import SENSITIVE_ITEMS, Permission, is_allowed
from support.rules import (
    COMMANDS,
    DYNAMIC_ACTIONS,
    NODE_ROUTES,
    REGISTRY_ROUTES,
    ActionCall,
    Console,
    NodeAdmin,
    action_calls,
    command_leaves,
    route_keys,
    takes_token,
)

SRC = Path(juki.__file__).parent


@pytest.fixture(scope="module")
def calls() -> list[ActionCall]:
    return action_calls(SRC)


@pytest.fixture(scope="module")
def registry_app() -> Iterator[FastAPI]:
    engine = sa.create_engine("sqlite://")  # building the app touches no database
    try:
        yield create_registry_app(engine)
    finally:
        engine.dispose()


def test_every_route_of_the_registry_app_has_a_rule(registry_app: FastAPI) -> None:
    served = set(route_keys(registry_app.routes))
    assert served - set(REGISTRY_ROUTES) == set(), "routes without a rule"
    assert set(REGISTRY_ROUTES) - served == set(), "rules for routes that are gone"


def test_a_route_added_without_a_rule_is_caught() -> None:
    app = create_registry_app(sa.create_engine("sqlite://"))

    @app.get("/api/v1/residents/{record_id}/everything")
    def everything(record_id: str) -> dict[str, str]:
        return {}

    unruled = set(route_keys(app.routes)) - set(REGISTRY_ROUTES)
    assert unruled == {"GET /api/v1/residents/{record_id}/everything"}


def test_node_admin_routes_act_as_one_who_may_administer() -> None:
    # The admin token stands for the node's 運用管理者; its actor's role is in the table.
    assert all(isinstance(r, NodeAdmin) for k, r in NODE_ROUTES.items() if "/admin/v1/" in k)
    assert is_allowed(ADMIN_ACTOR.role, Permission.VIEW_OPLOG)


def _leaves() -> dict[str, argparse.ArgumentParser]:
    out: dict[str, argparse.ArgumentParser] = {}
    for name in CLI_COMMANDS:
        for path, parser in command_leaves(build_parser(Settings(), [name])):
            if path.split(" ")[0] == name:
                out[path] = parser
    return out


def test_every_command_has_a_rule_and_a_permission_means_a_token() -> None:
    leaves = _leaves()
    assert set(leaves) - set(COMMANDS) == set(), "commands without a rule"
    assert set(COMMANDS) - set(leaves) == set(), "rules for commands that are gone"
    for path, parser in leaves.items():
        rule = COMMANDS[path]
        # A command that reads or changes personal data takes an operator's token; one that
        # takes none says why (support.rules.Console).
        assert takes_token(parser) == isinstance(rule, Permission), path
        assert isinstance(rule, Permission | Console) or path == "cert verify", path


def test_every_service_action_names_its_permission(calls: list[ActionCall]) -> None:
    assert len(calls) >= 60
    dynamic = {c.module for c in calls if c.permission is None}
    assert dynamic == set(DYNAMIC_ACTIONS), "a permission passed as a variable, unexplained"
    for module, chosen in DYNAMIC_ACTIONS.items():
        literal = {c.permission for c in calls if c.module == module and c.permission}
        assert chosen <= literal, module


def test_every_permission_guards_an_action_or_a_sensitive_item(calls: list[ActionCall]) -> None:
    used = {c.permission for c in calls if c.permission is not None}
    # Every action permission is checked somewhere; every visibility one hides items.
    assert set(Permission) - used == set(SENSITIVE_ITEMS)


def test_every_ruled_route_and_command_names_a_checked_permission(
    calls: list[ActionCall],
) -> None:
    used = {c.permission for c in calls if c.permission is not None}
    named = {
        r for r in (*REGISTRY_ROUTES.values(), *COMMANDS.values()) if isinstance(r, Permission)
    }
    assert named <= used
