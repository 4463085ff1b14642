"""Meta-test and checks for the node app: every route declares its authentication, and the
admin API refuses a missing or wrong token.

The nodes are real (in-process network on SQLite) but no socket is opened: the app is driven
through Starlette's TestClient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from juki.certificates import tables as certificate_tables
from juki.certificates.ports import WideAreaAsk
from juki.certificates.wide_area import WideAreaRefused
from juki.core.clock import JST, FixedClock
from juki.core.settings import Settings
from juki.network.batch import MAX_BATCH_ENVELOPE_BYTES
from juki.network.directory import NodeKind
from juki.network.envelope import Envelope
from juki.network.https import HttpsTransport
from juki.network.messages import MoveInNotice, body_of
from juki.nodes.admin_api import admin
from juki.nodes.apps import create_node_app
from juki.nodes.config import NodeConfig
from juki.nodes.kiosk_api import kiosk_store
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.portal_api import portal_app
from juki.nodes.provide_api import provision_agency
from juki.nodes.wide_area import CsContentSource
from juki.security.operators import token_sha256
from juki.security.tables import oplog
from juki.web.auth import operator_actor, public
from support.rules import NODE_ROUTES, REGISTRY_ROUTES, route_keys

AUTH_MARKERS: tuple[Callable[..., Any], ...] = (
    admin,
    operator_actor,
    public,
    kiosk_store,
    provision_agency,
    portal_app,
)
TOKEN = "correct-admin-token"


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def markers_of(route: Any) -> list[str]:
    return [c.__name__ for c in _calls(route.dependant) if c is not None and c in AUTH_MARKERS]


def _flat(app: FastAPI) -> list[Any]:
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(iter_contexts(app.routes)) if iter_contexts else list(app.routes)


def routes_of(app: FastAPI) -> list[tuple[str, Any]]:
    """(path, route) of the node's own API routes.

    The registry API mounted under /registry has its own meta-test
    (tests/unit/web/test_route_auth.py); here it is only checked to be mounted.
    """
    return [
        (r.path, r) for r in _flat(app) if isinstance(getattr(r, "original_route", r), APIRoute)
    ]


def mounts_of(app: FastAPI) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in _flat(app):
        original = getattr(r, "original_route", r)
        if isinstance(original, Mount):
            out[original.path] = original.app
    return out


def config_for(node_id: str, kind: Any, name: str) -> NodeConfig:
    return NodeConfig(
        node_id=node_id,
        kind=kind,
        name=name,
        parent=None,
        host="127.0.0.1",
        port=1,
        db="sqlite://",
        key="/nonexistent/key.pem",
        certificate="/nonexistent/cert.pem",
        root_certificate="/nonexistent/root.pem",
        admin_token_sha256=token_sha256(TOKEN),
        directory_url="https://127.0.0.1:1",
        log="/nonexistent/node.log",
        root_key="/nonexistent/root-key.pem",
    )


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessNetwork]:
    tmp: Path = tmp_path_factory.mktemp("nodes")
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(small_layout(), lambda n: f"sqlite:///{tmp}/{n}.db", clock, seed=3)
    yield network
    network.dispose()


@pytest.fixture(scope="module")
def apps(net: InProcessNetwork) -> dict[str, FastAPI]:
    return {
        node_id: create_node_app(node, config_for(node_id, node.kind, node_id), Settings())
        for node_id, node in net.nodes.items()
        if node_id in ("national", "130001", "132250")
    }


def test_every_route_of_every_kind_declares_exactly_one_authentication(
    apps: dict[str, FastAPI],
) -> None:
    for node_id, app in apps.items():
        routes = routes_of(app)
        assert len(routes) >= 10, node_id
        wrong = {
            f"{node_id} {sorted(r.methods)} {path}": m
            for path, r in routes
            if len(m := markers_of(r)) != 1
        }
        assert wrong == {}


def test_only_the_network_door_health_and_metrics_are_public(apps: dict[str, FastAPI]) -> None:
    door = {"/net/v1/messages", "/net/v1/queries"}
    expected = {
        "national": door | {"/net/v1/directory", "/health", "/metrics"},
        "130001": door | {"/health", "/metrics"},
        "132250": door | {"/health", "/metrics"},
    }
    for node_id, app in apps.items():
        public_paths = {p for p, r in routes_of(app) if markers_of(r) == ["public"]}
        assert public_paths == expected[node_id], node_id


def test_every_route_of_every_kind_has_a_rule(apps: dict[str, FastAPI]) -> None:
    """The node's own routes are in support.rules.NODE_ROUTES, and the registry app mounted
    under /registry in REGISTRY_ROUTES: a new route without a rule fails here."""
    ruled = set(NODE_ROUTES) | {
        f"{k.split(' ', 1)[0]} /registry{k.split(' ', 1)[1]}" for k in REGISTRY_ROUTES
    }
    for node_id, app in apps.items():
        served = set(route_keys(app.routes))
        assert served - ruled == set(), node_id
    assert "POST /registry/api/v1/events/move-in" in set(route_keys(apps["132250"].routes))


def test_only_municipalities_serve_the_registry_api(apps: dict[str, FastAPI]) -> None:
    registry = mounts_of(apps["132250"])["/registry"]
    assert isinstance(registry, FastAPI)
    assert registry.title == "juki registry API"
    assert "/registry" not in mounts_of(apps["national"])
    assert "/registry" not in mounts_of(apps["130001"])


def test_a_municipality_reviews_changes_unless_its_node_json_says_not(
    apps: dict[str, FastAPI],
) -> None:
    registry = mounts_of(apps["132250"])["/registry"]
    assert registry.state.review_policy.review is True  # the default, as `juki network init` writes
    data = config_for("132250", NodeKind.MUNICIPALITY, "稲城市").to_json()
    assert NodeConfig.from_json(data).certificate_settings().change_review is True
    off = NodeConfig.from_json({**data, "change_review": False})
    assert off.certificate_settings().change_review is False


def test_admin_routes_are_all_under_the_admin_prefix(apps: dict[str, FastAPI]) -> None:
    for app in apps.values():
        for path, r in routes_of(app):
            assert (markers_of(r) == ["admin"]) == path.startswith("/admin/v1/"), path


def test_national_only_and_municipality_only_routes(apps: dict[str, FastAPI]) -> None:
    paths = {node_id: {p for p, _ in routes_of(app)} for node_id, app in apps.items()}
    assert "/admin/v1/nodes/{node_id}/status" in paths["national"]
    assert "/admin/v1/snapshot" in paths["132250"]
    # provision at national and the prefectures; the admin lookup that returned everything
    # is gone from every node
    assert {n for n, p in paths.items() if "/provision/v1/requests" in p} == {"national", "130001"}
    assert not any(path.startswith("/admin/v1/lookup") for p in paths.values() for path in p)
    for node_id in ("130001", "132250"):
        assert "/net/v1/directory" not in paths[node_id]
    assert "/admin/v1/snapshot" not in paths["national"]


def _admin_calls(node_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/admin/v1/status", None),
        ("GET", "/admin/v1/digests", None),
        ("GET", "/admin/v1/fuhyo-digests", None),
        ("POST", "/admin/v1/disconnect", {"decided_by": "市長", "reason": "点検"}),
        ("POST", "/admin/v1/reconnect", None),
        ("GET", "/admin/v1/disconnections", None),
        ("POST", "/admin/v1/directory/refresh", None),
        ("POST", "/admin/v1/check-result", {"summary": "x"}),
        ("GET", "/admin/v1/dead-letters", None),
        ("POST", "/admin/v1/dead-letters/1/replay", None),
    ]
    if node_id == "national":
        calls += [
            ("POST", "/admin/v1/nodes/132250/status", {"status": "active"}),
        ]
    if node_id == "132250":
        calls.append(("POST", "/admin/v1/snapshot", None))
    return calls


@pytest.mark.parametrize("node_id", ["national", "130001", "132250"])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer " + "x" * 1000},
    ],
    ids=["missing", "wrong", "not-bearer", "huge"],
)
def test_admin_routes_refuse_without_the_right_token(
    apps: dict[str, FastAPI], net: InProcessNetwork, node_id: str, headers: dict[str, str]
) -> None:
    node = net.nodes[node_id]
    before = node.status()
    client = TestClient(apps[node_id])
    for method, path, body in _admin_calls(node_id):
        r = client.request(method, path, json=body, headers=headers)
        assert r.status_code == 401, f"{method} {path}"
        assert r.json()["type"] == "authentication_required"
        assert r.json()["msg_ja"]
        assert r.headers["www-authenticate"] == "Bearer"
    assert node.status() == before


def test_admin_routes_answer_with_the_token(apps: dict[str, FastAPI]) -> None:
    client = TestClient(apps["132250"])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status = client.get("/admin/v1/status", headers=auth)
    assert status.status_code == 200
    assert status.json()["node_id"] == "132250"
    assert status.json()["registry_outbox"] == 0
    digests = client.get("/admin/v1/digests", headers=auth).json()
    assert [d["lg_code"] for d in digests] == ["132250"]
    fuhyo = client.get("/admin/v1/fuhyo-digests", headers=auth).json()
    assert [(d["lg_code"], d["count"]) for d in fuhyo] == [("132250", 0)]
    assert "/admin/v1/fuhyo-digests" in client.get("/openapi.json").json()["paths"]
    assert client.post("/admin/v1/dead-letters/999/replay", headers=auth).status_code == 404


@pytest.mark.parametrize("node_id", ["national", "130001"])
def test_provision_without_an_agency_certificate_is_401_and_logged(
    apps: dict[str, FastAPI], net: InProcessNetwork, node_id: str
) -> None:
    """No client certificate (an admin token is no agency's credential): refused, logged."""
    client = TestClient(apps[node_id])
    body = {"task": "別表第一 の 一", "purpose": "恩給", "lines": ['{"resident_code": "1"}']}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/provision/v1/requests", json=body, headers=auth)
    assert (r.status_code, r.json()["type"]) == (401, "agency_not_registered")
    assert r.json()["msg_ja"]
    with net.nodes[node_id].engine.connect() as conn:
        last = conn.execute(
            sa.select(oplog.c.action, oplog.c.outcome, oplog.c.detail)
            .order_by(oplog.c.seq.desc())
            .limit(1)
        ).one()
    assert tuple(last) == ("provide_identity_info", "rejected", "no client certificate")


def test_the_network_door_maps_refusals_to_http_and_counts_them(
    apps: dict[str, FastAPI],
) -> None:
    client = TestClient(apps["130001"])
    garbage = client.post("/net/v1/messages", content=b"\xff not json")
    assert (garbage.status_code, garbage.json()["reason"]) == (400, "malformed")
    # more than a batch may be (a message alone: less; `test_memory_network.py`)
    huge = client.post("/net/v1/messages", content=b"{" + b" " * MAX_BATCH_ENVELOPE_BYTES + b"}")
    assert (huge.status_code, huge.json()["reason"]) == (413, "oversized")
    metrics = client.get("/metrics").text
    assert 'juki_messages_refused_total{reason="malformed"} 1.0' in metrics
    assert 'juki_messages_refused_total{reason="oversized"} 1.0' in metrics
    assert "juki_outbox_pending_total" in metrics
    assert client.get("/health").json()["status"] == "ok"


def test_a_dead_letter_is_listed_and_replay_says_when_it_still_fails(
    apps: dict[str, FastAPI], net: InProcessNetwork
) -> None:
    fujisawa = net.nodes["142051"]
    envelope = Envelope(
        message_id="01890000-0000-7000-8000-0000000000d1",
        message_type="move_in_notice",
        schema_version=2,
        sender="142051",
        recipient="132250",
        created_at=fujisawa.clock.now().isoformat(),
        seq=1,
        body=body_of(
            MoveInNotice(  # nobody with this code moved out of 稲城市
                resident_code="24727059608",
                family_name="山田",
                given_name="太郎",
                birth_date=date(1980, 5, 5),
                sex="male",
                previous_address="東京都稲城市東長沼1番地",
                new_address="神奈川県藤沢市辻堂1番地",
                moved_on=date(2025, 4, 1),
                notified_on=date(2025, 4, 1),
                from_lg_code="132250",
                to_lg_code="142051",
            )
        ),
    ).signed(fujisawa.identity.key)
    client = TestClient(apps["132250"])
    r = client.post("/net/v1/messages", content=envelope.to_bytes())
    assert (r.status_code, r.json()["status"]) == (200, "dead_letter")
    again = client.post("/net/v1/messages", content=envelope.to_bytes())
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    (dead,) = client.get("/admin/v1/dead-letters", headers=auth).json()
    assert (dead["direction"], dead["peer"], dead["message_type"]) == (
        "in",
        "142051",
        "move_in_notice",
    )
    assert "body" not in dead  # identity_info stays out of the admin listing
    replay = client.post(f"/admin/v1/dead-letters/{dead['dead_letter_id']}/replay", headers=auth)
    assert (replay.status_code, replay.json()["reason"]) == (409, "still_failing")


def test_every_route_is_in_the_openapi_document(apps: dict[str, FastAPI]) -> None:
    for node_id, app in apps.items():
        paths = app.openapi()["paths"]
        missing = [
            f"{node_id} {method} {path}"
            for path, r in routes_of(app)
            for method in r.methods
            if method.lower() not in paths.get(path, {})
        ]
        assert missing == []


def test_the_query_door_refuses_what_the_message_door_refuses(apps: dict[str, FastAPI]) -> None:
    client = TestClient(apps["132250"])
    garbage = client.post("/net/v1/queries", content=b"\xff not json")
    assert (garbage.status_code, garbage.json()["reason"]) == (400, "malformed")
    huge = client.post("/net/v1/queries", content=b"{" + b" " * (300 * 1024) + b"}")
    assert (huge.status_code, huge.json()["reason"]) == (413, "oversized")


class ToEndpoint:
    """The in-process directory names `memory://` endpoints; send to the test app instead."""

    def __init__(self, transport: HttpsTransport, endpoint: str) -> None:
        self.transport = transport
        self.endpoint = endpoint

    def query(self, recipient: str, endpoint: str, payload: bytes) -> bytes:
        return self.transport.query(recipient, self.endpoint, payload)


def test_a_wide_area_query_over_https_gets_a_signed_answer(
    apps: dict[str, FastAPI], net: InProcessNetwork
) -> None:
    """B's CS asks A's node app through the HTTPS transport (TestClient is an httpx client):
    the route, the transport's mapping and B's verification of A's signed answer, end to end.
    Nobody lives in this 稲城市, so A answers with its signed refusal, registered at A."""
    fujisawa = net.municipality("142051")
    inagi = net.municipality("132250")
    client = TestClient(apps["132250"], base_url="https://127.0.0.1:1")
    fujisawa.query_transport = ToEndpoint(HttpsTransport(client), "https://127.0.0.1:1")
    try:
        with pytest.raises(WideAreaRefused) as err:
            CsContentSource(fujisawa).fetch(
                WideAreaAsk(
                    home_lg_code="132250",
                    resident_code="24727059608",
                    members=(),
                    items=(),
                    operator_id="fujisawa-clerk",
                )
            )
    finally:
        fujisawa.query_transport = net.transport
    assert err.value.rule == "not_resident"
    assert err.value.message_ja.startswith("東京都稲城市")
    with inagi.engine.connect() as conn:
        (row,) = conn.execute(sa.select(certificate_tables.wide_area_requests)).mappings().all()
    assert (row["requesting_lg_code"], row["outcome"], row["rule"]) == (
        "142051",
        "refused",
        "not_resident",
    )
    # The same request again is a replay: refused by A before anything is read (403).
    request = Envelope(
        message_id=row["request_id"],
        message_type="certificate_content_request",
        schema_version=1,
        sender="142051",
        recipient="132250",
        created_at=fujisawa.clock.now().isoformat(),
        seq=0,
        body={
            "resident_code": "24727059608",
            "members": [],
            "items": [],
            "from_lg_code": "142051",
            "to_lg_code": "132250",
            "operator_id": "fujisawa-clerk",
        },
    ).signed(fujisawa.identity.key)
    again = client.post("/net/v1/queries", content=request.to_bytes())
    assert (again.status_code, again.json()["reason"]) == (403, "replay")


def test_admin_inputs_the_database_cannot_hold_are_422(apps: dict[str, FastAPI]) -> None:
    """NUL and noncharacters in a path or query, and an id past BIGINT, are refused at the edge:
    on PostgreSQL each reached the database as a 500."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    national = TestClient(apps["national"])
    r = national.post("/admin/v1/nodes/13%00/status", json={"status": "active"}, headers=auth)
    assert r.status_code == 422
    municipality = TestClient(apps["132250"])
    r = municipality.post(f"/admin/v1/dead-letters/{2**63}/replay", headers=auth)
    assert (r.status_code, r.json()["detail"][0]["type"]) == (422, "less_than_equal")
