"""支援措置 through the registry's HTTP API, on SQLite and PostgreSQL: a supervisor records,
renews, releases and terminates; a clerk may only ask whether a person is protected; bad input
is a 422 naming the field and the rule (with a Japanese message) and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.core.clock import JST, FixedClock
from juki.nodes.apps import create_registry_app
from juki.registry.model import ResidentRecord
from juki.registry.tables import support_measure_persons, support_measures
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.backends import SqlBackend, sql_backend
from support.residents import family, seed

API = "/api/v1"
ADMIN = Actor("admin", Role.OPERATIONS_MANAGER, "console")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 10, 0, tzinfo=JST))


@pytest.fixture
def backend(migrated_db_url: str, clock: FixedClock) -> Iterator[SqlBackend]:
    with sql_backend(migrated_db_url) as sql:
        seed(sql)
        yield sql


@pytest.fixture
def people(backend: SqlBackend) -> tuple[ResidentRecord, ResidentRecord, ResidentRecord]:
    return family(backend)


@pytest.fixture
def client(backend: SqlBackend, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_registry_app(backend.engine, clock=clock)) as c:
        yield c


def headers(engine: sa.Engine, clock: FixedClock, role: Role, operator_id: str) -> dict[str, str]:
    uow = SqlUnitOfWork(engine, clock=clock)
    # valid for a year: the scenario reaches the measure's last month (延長)
    token = create_operator(uow, ADMIN, operator_id, "窓口", role, timedelta(days=366))
    return {"Authorization": f"Bearer {token}", "X-Juki-Terminal": "T-01"}


@pytest.fixture
def supervisor(backend: SqlBackend, clock: FixedClock) -> dict[str, str]:
    return headers(backend.engine, clock, Role.REGISTRY_SUPERVISOR, "super-01")


@pytest.fixture
def clerk(backend: SqlBackend, clock: FixedClock) -> dict[str, str]:
    return headers(backend.engine, clock, Role.COUNTER_CLERK, "clerk-01")


def body(record_id: str, **kw: Any) -> dict[str, Any]:
    return {
        "kind": "domestic_violence",
        "requested_on": "2025-03-28",
        "record_ids": [record_id],
        "restrained": [
            {"family_name": "山田", "given_name": "次郎", "address": "大阪府大阪市北区1番"}
        ],
        "note": "配偶者暴力相談支援センターの意見",
        **kw,
    }


def count(backend: SqlBackend) -> tuple[int, int]:
    return len(backend.rows(support_measures.name)), len(backend.rows(support_measure_persons.name))


def test_supervisor_records_and_manages_a_measure(
    client: TestClient,
    supervisor: dict[str, str],
    clerk: dict[str, str],
    people: tuple[ResidentRecord, ...],
    clock: FixedClock,
) -> None:
    wife = people[1]
    r = client.post(f"{API}/support-measures", json=body(wife.record_id), headers=supervisor)
    assert r.status_code == 201, r.text
    m = r.json()
    assert (m["last_day"], m["in_force_today"], m["kind_ja"]) == (
        "2026-03-31",
        True,
        "DV（配偶者からの暴力）",
    )
    assert m["restrained"][0]["address"] == "大阪府大阪市北区1番"
    url = f"{API}/support-measures/{m['measure_id']}"
    r = client.post(
        f"{url}/release",
        headers=supervisor,
        json={
            "released_from": "2025-04-01",
            "released_until": "2025-04-03",
            "purpose": "調停手続",
            "requested_on": "2025-04-01",
        },
    )
    assert r.status_code == 200 and r.json()["in_force_today"] is False
    protection = client.get(f"{API}/residents/{wife.record_id}/protection", headers=clerk)
    assert protection.json()["protected"] is False
    r = client.get(
        f"{API}/residents/{wife.record_id}/protection", params={"on": "2025-04-04"}, headers=clerk
    )
    assert r.json() == {
        "record_id": wife.record_id,
        "on": "2025-04-04",
        "protected": True,
        "until": "2026-03-31",
    }
    clock.advance(datetime(2026, 3, 2, tzinfo=JST) - clock.now())
    r = client.post(f"{url}/renewal", headers=supervisor, json={"requested_on": "2026-03-02"})
    assert r.status_code == 200 and r.json()["last_day"] == "2027-03-31"
    r = client.post(
        f"{url}/termination",
        headers=supervisor,
        json={"terminated_on": "2026-03-02", "reason": "本人の申出"},
    )
    assert r.status_code == 200 and r.json()["in_force_today"] is False
    listed = client.get(f"{API}/residents/{wife.record_id}/support-measures", headers=supervisor)
    assert [x["measure_id"] for x in listed.json()] == [m["measure_id"]]
    assert client.get(url, headers=supervisor).json()["terminated_on"] == "2026-03-02"


def test_clerk_may_only_ask_whether_protected(
    client: TestClient,
    supervisor: dict[str, str],
    clerk: dict[str, str],
    people: tuple[ResidentRecord, ...],
    backend: SqlBackend,
) -> None:
    wife = people[1]
    r = client.post(f"{API}/support-measures", json=body(wife.record_id), headers=clerk)
    assert r.status_code == 403 and r.json()["msg_ja"]
    assert count(backend) == (0, 0)
    m = client.post(f"{API}/support-measures", json=body(wife.record_id), headers=supervisor)
    r = client.get(f"{API}/support-measures/{m.json()['measure_id']}", headers=clerk)
    assert r.status_code == 403
    r = client.get(f"{API}/residents/{wife.record_id}/protection", headers=clerk)
    assert r.status_code == 200 and r.json()["protected"] is True
    assert "restrained" not in r.json()
    assert client.get(f"{API}/residents/nope/protection", headers=clerk).status_code == 404


# Each bad body on one registry and client: a refusal changes nothing (checked after each), so
# the cases cannot hide one another.
BAD_BODIES: list[tuple[dict[str, Any], list[str], str | None]] = [
    ({"restrained": []}, ["body", "restrained"], "too_short"),
    ({"note": "  "}, ["body", "note"], "required"),
    ({"requested_on": "2025-04-02"}, ["body", "requested_on"], "future_date"),
    ({"kind": "unknown"}, ["body", "kind"], "enum"),
    (
        {"restrained": [{"family_name": "山田", "given_name": "次郎", "name_kana": "abc"}]},
        ["body", "restrained", "0", "name_kana"],
        None,
    ),
]


def test_bad_input_names_the_field_and_changes_nothing(
    client: TestClient,
    supervisor: dict[str, str],
    people: tuple[ResidentRecord, ...],
    backend: SqlBackend,
) -> None:
    for change, loc, rule in BAD_BODIES:
        r = client.post(
            f"{API}/support-measures", json=body(people[1].record_id, **change), headers=supervisor
        )
        assert r.status_code == 422, (loc, r.text)
        [error] = r.json()["detail"]
        assert [str(x) for x in error["loc"]] == loc
        if rule is not None:
            assert error["type"] == rule, loc
        assert error.get("msg_ja"), loc
        assert count(backend) == (0, 0), loc
    # the same body, mended, is recorded: the refusals were the bad fields' alone
    ok = client.post(f"{API}/support-measures", json=body(people[1].record_id), headers=supervisor)
    assert ok.status_code == 201, ok.text
    assert count(backend)[0] == 1
