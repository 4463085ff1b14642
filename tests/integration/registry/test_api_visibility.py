"""Per-role visibility of 個人番号, 住民票コード, 本籍 and 在留資格 in the registry API's record
views, on SQLite and PostgreSQL, and the oplog's mark on each showing of a 個人番号."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.nodes.apps import create_registry_app
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from support.cert_population import MANAGER, CertEnv, cert_env
from support.pgserver import DatabasePool

FOREIGN_ITEMS = ("residence_status", "period_of_stay", "stay_expiry", "residence_card_number")


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CertEnv]:
    tmp: Path = tmp_path_factory.mktemp("visibility")
    if request.param == "postgres":
        pool: DatabasePool = request.getfixturevalue("pg_pool")
        url = pool.take()
    else:
        url = f"sqlite:///{tmp}/registry.db"
    built = cert_env(url, tmp)
    try:
        yield built
    finally:
        built.engine.dispose()
        if request.param == "postgres":
            pool.give_back(url)


def _marks(env: CertEnv, actor_id: str) -> list[bool]:
    c = oplog.c
    with env.engine.connect() as conn:
        rows = conn.execute(
            sa.select(c.my_number_shown)
            .where(c.actor_id == actor_id, c.action == "view_record")
            .order_by(c.seq)
        ).all()
        return [r[0] for r in rows]


def test_each_role_sees_only_its_items_and_every_shown_my_number_is_logged(env: CertEnv) -> None:
    uow = SqlUnitOfWork(env.engine, clock=env.reg.clock)
    client = TestClient(create_registry_app(env.engine, clock=env.reg.clock))
    head, foreigner = env.people.head, env.people.foreigner

    def as_(role: Role) -> tuple[str, dict[str, str]]:
        actor_id = f"vis-{role.value}"[:32]
        token = create_operator(uow, MANAGER, actor_id, "閲覧 確認", role)
        return actor_id, {"Authorization": f"Bearer {token}", "X-Juki-Terminal": "T-V"}

    def get(headers: dict[str, str], path: str) -> Any:
        r = client.get(f"/api/v1/residents/{path}", headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    clerk_id, clerk = as_(Role.COUNTER_CLERK)
    seen = get(clerk, head.record_id)
    assert seen["my_number"] is None and head.my_number is not None
    assert (seen["resident_code"], seen["honseki"], seen["koseki_head"]) == (
        head.resident_code,
        head.honseki,
        head.koseki_head,
    )
    foreign = get(clerk, foreigner.record_id)
    assert [foreign[k] for k in FOREIGN_ITEMS] == [
        foreigner.residence_status,
        foreigner.period_of_stay,
        foreigner.stay_expiry.isoformat() if foreigner.stay_expiry else None,
        foreigner.residence_card_number,
    ]
    assert all("my_number" not in c["fields"] for c in get(clerk, f"{head.record_id}/history"))
    assert _marks(env, clerk_id) == [False, False, False]

    supervisor_id, supervisor = as_(Role.REGISTRY_SUPERVISOR)
    assert get(supervisor, head.record_id)["my_number"] == head.my_number
    numbered = get(supervisor, f"{head.record_id}/history")
    assert head.my_number in [c["fields"].get("my_number") for c in numbered]
    assert get(supervisor, foreigner.record_id)["my_number"] == foreigner.my_number
    assert _marks(env, supervisor_id) == [True, True, foreigner.my_number is not None]

    # Oversight roles read no record at all (VIEW_RECORD), so they are shown no item either.
    _, auditor = as_(Role.AUDITOR)
    assert client.get(f"/api/v1/residents/{head.record_id}", headers=auditor).status_code == 403
