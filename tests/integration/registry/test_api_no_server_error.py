"""No input to the registry app gives a 500, on SQLite or PostgreSQL (issue 10 §4).

A hypothesis property drives every JSON route of `create_registry_app` — the registry API and
the certificate API it installs — against a populated registry, with bodies that are arbitrary
JSON, or shaped like the route's OpenAPI schema but with any JSON at any place: nulls, wrong
types, NUL bytes, noncharacters and lone surrogates in strings, dates in year 0, 10000 and
beyond what PostgreSQL or Python hold, ids of real residents and households mixed with junk.
Every answer is below 500, and every 422 names the field (`loc`) and the rule (`type`) with a
Japanese message. The app raises instead of answering 500 here, so hypothesis shrinks the
failing request and shows the exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.nodes.apps import create_registry_app
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import CertEnv, cert_env
from support.no500 import ODD_STRINGS, Shapes, json_values
from support.pgserver import DatabasePool

EXAMPLES = 15  # per route and database in CI (~45 routes, two databases); `make test-slow`: 300
SLOW_EXAMPLES = 300

# -- the registry under test ----------------------------------------------------------------


class Target:
    def __init__(self, env: CertEnv) -> None:
        self.env = env
        self.token = create_operator(
            SqlUnitOfWork(env.engine, clock=env.reg.clock),
            Actor("admin", Role.OPERATIONS_MANAGER, "console"),
            "fuzz-supervisor",
            "検証 花子",
            Role.REGISTRY_SUPERVISOR,
        )
        app = create_registry_app(env.engine, clock=env.reg.clock)
        app.state.certificates.use(env.desk)
        self.client = TestClient(app)
        self.spec = self.client.get("/openapi.json").json()
        self.routes = schema_routes(self.spec)
        people = env.people
        records = [getattr(people, name) for name in vars(people)]
        self.pool = sorted(
            {r.record_id for r in records}
            | {r.household_id for r in records}
            | {r.resident_code for r in records}
            | {"1", "99999999", "葛\U000e0102西"}
        )


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    tmp: Path = tmp_path_factory.mktemp("no500")
    if request.param == "postgres":
        pool: DatabasePool = request.getfixturevalue("pg_pool")
        url = pool.take()
        # A migrated database from the pool, given back empty: cert_env's migration is a no-op.
    else:
        url = f"sqlite:///{tmp}/registry.db"
    env = cert_env(url, tmp)
    try:
        yield Target(env)
    finally:
        env.engine.dispose()
        if request.param == "postgres":
            pool.give_back(url)


def schema_routes(spec: dict[str, Any]) -> list[str]:
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method in operations
    )


# Every route of the app's schema, read from an app built on an unused engine: a route added
# later joins the property without anyone listing it. The governance ledgers' routes are driven
# by their own property, as an operator whose role lets the body reach the rules (here they
# would stop at 403): tests/integration/governance/test_ledger_web.py.
ROUTES = [
    r
    for r in schema_routes(create_registry_app(sa.create_engine("sqlite://")).openapi())
    if " /api/v1/ledgers" not in r
]


def test_routes_cover_the_registry_and_certificate_apis() -> None:
    assert "POST /api/v1/events/move-in" in ROUTES
    assert "POST /api/v1/certificates/wide-area" in ROUTES
    assert len(ROUTES) >= 27


def _request_parts(
    target: Target, key: str
) -> st.SearchStrategy[tuple[str, dict[str, str], bytes | None]]:
    method, path = key.split(" ", 1)
    operation = target.spec["paths"][path][method.lower()]
    params = operation.get("parameters", [])
    shapes = Shapes(target.spec, target.pool)
    text = st.one_of(st.sampled_from(target.pool), st.sampled_from(ODD_STRINGS), st.text())
    path_values = st.fixed_dictionaries({p["name"]: text for p in params if p["in"] == "path"})
    query_values = st.fixed_dictionaries(
        {},
        optional={
            p["name"]: json_values(target.pool).map(
                lambda v: v if isinstance(v, str) else json.dumps(v)
            )
            for p in params
            if p["in"] == "query"
        },
    )
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body: st.SearchStrategy[bytes | None] = st.one_of(
            shapes.of(content["application/json"]["schema"]).map(
                lambda v: json.dumps(v).encode("ascii")
            ),
            st.sampled_from([b"", b"{", b"\xff\xfe", b"null", b'"\\u0000"', b"[]"]),
        )
    elif content:
        body = st.binary(max_size=2048)
    else:
        body = st.none()
    return st.tuples(path_values.map(lambda values: _fill(path, values)), query_values, body)


def _encoded(value: str) -> str:
    """Percent-encoded byte by byte, lone surrogates included (as the bytes a client could
    send): the test client itself refuses to encode those."""
    raw = value.encode("utf-8", "surrogatepass")
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else f"%{b:02X}" for b in raw)


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _encoded(values[m.group(1)]), path)


def _with_query(url: str, query: dict[str, str]) -> str:
    pairs = "&".join(f"{_encoded(k)}={_encoded(v)}" for k, v in query.items())
    return f"{url}?{pairs}" if pairs else url


def drive(target: Target, route: str, examples: int) -> None:
    method = route.split(" ", 1)[0]
    headers = {
        "Authorization": f"Bearer {target.token}",
        "Content-Type": "application/json",
    }

    @settings(
        max_examples=examples,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    @given(parts=_request_parts(target, route))
    def run(parts: tuple[str, dict[str, str], bytes | None]) -> None:
        url, query, body = parts
        response = target.client.request(
            method, _with_query(url, query), content=body, headers=headers
        )
        assert response.status_code < 500, response.text
        if response.status_code == 422:
            for item in response.json()["detail"]:
                assert item["loc"], item
                assert item["type"], item
                assert item["msg_ja"], item

    run()


@pytest.mark.parametrize("route", ROUTES)
def test_no_input_gives_a_server_error(target: Target, route: str) -> None:
    drive(target, route, EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("route", ROUTES)
def test_no_input_gives_a_server_error_long_run(target: Target, route: str) -> None:
    drive(target, route, SLOW_EXAMPLES)


# -- the rules the property found broken, named -----------------------------------------------


def _post(target: Target, path: str, body: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {target.token}", "Content-Type": "application/json"}
    return target.client.post(path, content=json.dumps(body).encode("ascii"), headers=headers)


@pytest.mark.parametrize(
    "bad", ["山\x00田", "山\ufffe", "\uffff", "山\ufdd0田", "山\ud800", "\U0010ffff"]
)
def test_a_forbidden_character_in_a_name_is_a_422_naming_the_field(
    target: Target, bad: str
) -> None:
    record = target.env.people.head
    r = _post(
        target,
        "/api/v1/events/name-change",
        {
            "record_id": record.record_id,
            "family_name": bad,
            "given_name": "太郎",
            "family_name_kana": "ヤマダ",
            "given_name_kana": "タロウ",
            "effective_on": "2025-03-01",
            "notified_on": "2025-03-02",
        },
    )
    assert r.status_code == 422
    (item,) = r.json()["detail"]
    assert item["loc"] == ["body", "family_name"]
    # pydantic refuses a lone surrogate itself (string_unicode); juki the rest
    assert item["type"] in ("forbidden_character", "string_unicode")
    assert "使用できない文字" in item["msg_ja"]
    if "\ud800" in bad:
        return  # a URL cannot carry a surrogate: its bytes are not UTF-8, the path reads U+FFFD
    r = target.client.get(
        "/api/v1/residents/" + "".join(f"%{b:02X}" for b in bad.encode("utf-8")),
        headers={"Authorization": f"Bearer {target.token}"},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "record_id"]


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"family_name": None}, "required"),
        ({"birth_date": None}, "required"),
        ({"family_name": True}, "type"),
        ({"electoral_registered": "yes"}, "type"),
        ({"birth_date": "10000-01-01"}, "type"),
    ],
)
def test_correction_keeps_each_item_type_and_required_items(
    target: Target, fields: dict[str, Any], rule: str
) -> None:
    """職権修正 cannot clear an item 法7条 requires, nor give an item a value of another type."""
    r = _post(
        target,
        "/api/v1/events/correction-by-authority",
        {
            "record_id": target.env.people.sealed.record_id,
            "fields": fields,
            "effective_on": "2025-03-01",
            "note": "入力誤りの修正",
        },
    )
    assert r.status_code == 422, r.text
    (item,) = r.json()["detail"]
    assert item["type"] == rule
    assert item["loc"][:2] == ["body", "fields"]


def test_no_correction_makes_or_unmakes_a_householder(target: Target) -> None:
    """職権修正 of a 続柄 (令12条): never the householder's, never into 世帯主 (世帯主変更 does)."""
    people = target.env.people
    for record, relationship in ((people.head, "husband"), (people.wife, "householder")):
        r = _post(
            target,
            "/api/v1/events/correction-by-authority",
            {
                "record_id": record.record_id,
                "fields": {"relationship": relationship},
                "effective_on": "2025-03-01",
                "note": "続柄の誤記",
            },
        )
        assert r.status_code == 422, r.text
        (item,) = r.json()["detail"]
        assert (item["loc"], item["type"]) == (
            ["body", "fields", "relationship"],
            "householder_by_event",
        )
