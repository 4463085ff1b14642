"""Signed-in terminals for tests of the counter's screens without a browser: two clerks'
and two supervisors' sessions on one registry app (a cookie jar each), their posts carrying
the session's CSRF token, and the 審査 list's pending changes."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from juki.registry import services as svc
from juki.registry.model import ResidentRecord
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import MANAGER, SUPERVISOR, CertEnv, registry_app
from support.terminal_session import open_session

TODAY = "2025-04-01"  # the registry's fixed clock
CHANGE_ID = re.compile(r'id="change-([0-9a-f-]{36})"')


class Counter:
    """Signed-in terminals: two clerks' and two supervisors'."""

    def __init__(self, env: CertEnv) -> None:
        self.env = env
        self.clients: dict[str, tuple[TestClient, str]] = {}
        app = registry_app(env)  # one app, a client (a cookie jar) per operator
        for operator_id, role in (
            ("clerk-e", Role.COUNTER_CLERK),
            ("super-e", Role.REGISTRY_SUPERVISOR),
            ("super-f", Role.REGISTRY_SUPERVISOR),
        ):
            token = create_operator(
                SqlUnitOfWork(env.engine, clock=env.reg.clock), MANAGER, operator_id, "窓口", role
            )
            client = TestClient(app)
            csrf = open_session(client, env.engine, token, operator_id[-1].upper() + "01")
            self.clients[operator_id] = (client, csrf)

    def operator(self, operator_id: str, role: Role) -> str:
        """Another signed-in operator (a cookie jar of their own); returns their id."""
        token = create_operator(SqlUnitOfWork(self.env.engine, clock=self.env.reg.clock),
                                MANAGER, operator_id, "窓口", role)  # fmt: skip
        client = TestClient(self.clients["clerk-e"][0].app)
        csrf = open_session(client, self.env.engine, token, operator_id[-1].upper() + "02")
        self.clients[operator_id] = (client, csrf)
        return operator_id

    def get(self, who: str, path: str) -> Any:
        return self.clients[who][0].get(f"/terminal{path}")

    def post(self, who: str, path: str, data: dict[str, Any]) -> Any:
        client, csrf = self.clients[who]
        return client.post(f"/terminal{path}", data={"csrf": csrf, **data}, follow_redirects=False)

    def pending(self) -> set[str]:
        return set(CHANGE_ID.findall(self.get("super-f", "/review").text))

    def record(self, record_id: str) -> ResidentRecord:
        return svc.get_record(self.env.reg.uow(), SUPERVISOR, record_id)
