"""The counter terminal refuses what no database can hold (issue 10 §4): NUL, lone surrogates and
noncharacters in a search, a spoiled copy's note or a void reason are a 422 page, never a 500,
on SQLite and PostgreSQL (where a NUL reached the database as an error)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import CertEnv, registry_app
from support.terminal_session import open_session

MANAGER = Actor("manager", Role.OPERATIONS_MANAGER, "console")
BAD = ["\x00", "山\x00田", "\ufffe", "\ufdd0"]


@pytest.fixture
def signed_in(env: CertEnv) -> Iterator[tuple[TestClient, str]]:
    token = create_operator(
        SqlUnitOfWork(env.engine, clock=env.reg.clock),
        MANAGER,
        "super-9",
        "管理 九子",
        Role.REGISTRY_SUPERVISOR,
    )
    with TestClient(registry_app(env), raise_server_exceptions=False) as client:
        yield client, open_session(client, env.engine, token, "T09")


def test_forbidden_characters_are_a_422_page(signed_in: tuple[TestClient, str]) -> None:
    """Each forbidden character in each field, on one signed-in terminal per backend."""
    client, csrf = signed_in
    certificate = "00000000-0000-4000-8000-000000000000"
    for bad in BAD:
        search = client.get("/terminal/residents", params={"kana": f"ヤマ{bad}"})
        assert search.status_code == 422, (bad, search.text[:300])
        void = client.post(
            f"/terminal/certificates/{certificate}/void",
            data={"csrf": csrf, "reason": f"誤交付{bad}"},
            follow_redirects=False,
        )
        assert void.status_code == 422, (bad, void.text[:300])
        spoiled = client.post(
            f"/terminal/certificates/{certificate}/spoiled",
            data={"csrf": csrf, "issue_number": "1", "disposal": f"破棄{bad}"},
            follow_redirects=False,
        )
        assert spoiled.status_code == 422, (bad, spoiled.text[:300])
    # the same requests without the bad character get past validation: a search answers
    assert client.get("/terminal/residents", params={"kana": "ヤマ"}).status_code == 200
