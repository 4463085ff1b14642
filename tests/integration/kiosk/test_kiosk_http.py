"""The relay over HTTP (`/kiosk/v1/*` on the national node) with a store's credential, on the
in-memory network (built once for the module): a whole kiosk session through `HttpRelay`, each
call in the national oplog as the store; an unregistered, withdrawn or non-store certificate
refused and logged; bad input a 422 naming the field; a client timeout a `HopTimeout` that
aborts the issuance."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.certificates.kiosk.tables import kiosk_requests
from juki.core.errors import PermissionDeniedError
from juki.core.settings import Settings
from juki.kiosk.http_relay import HttpRelay
from juki.kiosk.ports import RelayRefused
from juki.kiosk.session import KioskSession, SessionAborted
from juki.kiosk.wire import OFFER_PATH, REQUESTS_PATH
from juki.network import pki
from juki.nodes.apps import create_node_app
from juki.nodes.kiosk_stores import withdraw_store
from juki.security.tables import oplog
from support.kiosk_world import (
    CLERK,
    INAGI,
    NATIONAL_OPERATOR,
    PIN,
    STORE,
    World,
    as_store,
    config_for,
    kiosk_world,
    registered_store,
    store_certificate,
)


@dataclass
class Http:
    world: World
    client: TestClient


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Http]:
    with kiosk_world(tmp_path_factory.mktemp("kiosk-http")) as world:
        national = world.net.national
        app = create_node_app(national, config_for(national), Settings())
        registered_store(world.net, app, STORE)
        with TestClient(app) as client:
            yield Http(world, client)


def _oplog(world: World, action_prefix: str = "kiosk") -> list[sa.Row[tuple[object, ...]]]:
    o = oplog.c
    with world.net.national.engine.connect() as conn:
        rows = conn.execute(sa.select(oplog).where(o.action.like(f"{action_prefix}%")))
        return list(rows)


def _session(http: Http, relay: HttpRelay) -> KioskSession:
    return KioskSession.start(
        relay, http.world.net.root_cert, store_id=STORE, clock=http.world.clock
    )


def test_a_whole_session_over_http_each_call_logged_as_the_store(http: Http) -> None:
    before = len(_oplog(http.world))
    session = _session(http, HttpRelay(http.client))
    card = http.world.cards["A"]
    session.authenticate(card, PIN)
    session.choose(INAGI, "residence", copies=1)
    timings: list[str | None] = []
    http.client.event_hooks["response"] = [lambda r: timings.append(r.headers.get("server-timing"))]
    try:
        result = session.request()
    finally:
        http.client.event_hooks["response"] = []
    assert result.outcome == "issued" and (result.pdf or b"").startswith(b"%PDF")
    # the hops' timing for `bench kiosk`: durations only, nothing of the request
    assert re.fullmatch(r"relay;dur=[0-9.]+, municipality_hop;dur=[0-9.]+", timings[-1] or "")
    session.spoiled(result.issue_numbers[0])
    assert session.finish().fee_yen == 0  # the only copy jammed: nothing charged
    new = _oplog(http.world)[before:]
    assert {(r.actor_id, r.role, r.terminal_id) for r in new} == {
        (f"store:{STORE}", "kiosk_store", STORE)
    }
    actions = [r.action for r in new]
    assert actions.count("kiosk_challenge") == 1 and "kiosk_municipality_key" in actions
    assert [r.detail.split(" ")[0] for r in new if r.action == "kiosk_relay"] == [
        "issued",
        "spoiled",
    ]


def test_a_store_not_registered_withdrawn_or_not_a_store_is_refused_and_logged(
    http: Http,
) -> None:
    app, net = http.client.app, http.world.net
    other = store_certificate(net, "STORE-9999")  # root-issued but never registered
    _key, node_cert = pki.issue_key_pair(
        net.root_key, net.root_cert, node_id=INAGI, kind="municipality", now=http.world.clock.now()
    )
    try:
        for cert, why in [
            (other, "store not registered"),
            (node_cert, "a municipality certificate, not a store's"),
            (None, "no client certificate"),
        ]:
            as_store(app, cert)  # type: ignore[arg-type]
            reply = http.client.post("/kiosk/v1/challenge")
            assert reply.status_code == 401 and reply.json()["type"] == "store_not_registered"
            assert _oplog(http.world)[-1].detail == why
            assert _oplog(http.world)[-1].outcome == "rejected"
        with pytest.raises(PermissionDeniedError):
            withdraw_store(net.national, CLERK, STORE)
        registered_store(net, app, "STORE-0002")
        assert http.client.post("/kiosk/v1/challenge").status_code == 200
        assert withdraw_store(net.national, NATIONAL_OPERATOR, "STORE-0002")
        with pytest.raises(RelayRefused) as refused:
            HttpRelay(http.client).challenge()
        assert refused.value.rule == "store_not_registered"
        assert _oplog(http.world)[-1].detail == "store withdrawn"
    finally:
        registered_store(net, app, STORE)


def test_bad_input_is_a_422_naming_the_field(http: Http) -> None:
    good = {
        "request_id": "A" * 43,
        "lg_code": INAGI,
        "card_certificate": "not a certificate",
        "challenge": "AAAA",
        "signature": "AAAA",
        "session_key": "AAAA",
        "sealed_request": "x",
    }
    reply = http.client.post(REQUESTS_PATH, json=good)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][-1] == "card_certificate"
    reply = http.client.post(REQUESTS_PATH, json={**good, "lg_code": "13225x"})
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"][-1] == "lg_code"
    reply = http.client.get("/kiosk/v1/municipalities/999999/key")
    assert reply.status_code == 422 and reply.json()["detail"][0]["type"] == "unknown_municipality"


def test_a_client_timeout_is_a_hop_timeout_and_aborts(http: Http) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == REQUESTS_PATH:
            raise httpx.ReadTimeout("the relay did not answer", request=request)
        reply = http.client.request(
            request.method, request.url.path, content=request.content, headers=request.headers
        )
        return httpx.Response(reply.status_code, content=reply.content, headers=reply.headers)

    flaky = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://relay")
    session = _session(http, HttpRelay(flaky))
    session.authenticate(http.world.cards["B"], PIN)
    session.choose(INAGI, "residence", copies=1)
    with pytest.raises(SessionAborted):
        session.request()
    assert session.erased
    assert _oplog(http.world)[-1].detail == "abandoned by the kiosk"


def test_a_void_that_arrives_before_its_request_voids_it_all_the_same(http: Http) -> None:
    """The relay's kiosk_void can overtake its request (a slow first hop that timed out): the
    municipality keeps the void, and the late request is refused with nothing issued."""
    world, relay = http.world, HttpRelay(http.client)
    session = _session(http, relay)
    session.authenticate(world.cards["B"], PIN)
    request = session.choose(INAGI, "residence", copies=1)
    relay.abandon(STORE, request.request_id, request.card_serial, INAGI)
    world.net.run_until_quiet()  # the void reaches 稲城市 first
    result = session.request()
    assert result.outcome == "refused" and result.pdf is None
    r = kiosk_requests.c
    with world.net.municipality(INAGI).engine.connect() as conn:
        row = conn.execute(
            sa.select(r.outcome, r.certificate_id).where(r.request_id == request.request_id)
        ).one()
    assert (row.outcome, row.certificate_id) == ("voided", None)


def test_the_offer_over_http_is_logged_as_the_store_validated_and_in_the_schema(
    http: Http,
) -> None:
    before = len(_oplog(http.world))
    offer = HttpRelay(http.client).offer(INAGI)
    assert offer.serviceable and offer.fee("residence") == 300 and offer.hours_ja == "6:30〜23:00"
    new = _oplog(http.world)[before:]
    assert [(r.action, r.target, r.actor_id) for r in new] == [
        ("kiosk_municipality_offer", f"municipality:{INAGI}", f"store:{STORE}")
    ]
    malformed = http.client.get(OFFER_PATH.format(lg_code="13225x"))
    assert malformed.status_code == 422 and "lg_code" in malformed.text
    unknown = http.client.get(OFFER_PATH.format(lg_code="999999"))
    assert unknown.status_code == 422 and "unknown_municipality" in unknown.text
    assert OFFER_PATH in http.client.get("/openapi.json").json()["paths"]


def test_a_busy_municipality_tells_the_kiosk_to_wait_and_the_same_request_then_goes_through(
    http: Http,
) -> None:
    """Admission: with every slot of 稲城市 taken, a request is answered at once with a 503, its
    place in line and when to ask again, logged once however often it knocks; nothing of it is
    used, so the same request (the same signed challenge) goes through when a slot frees, and
    the certificate is the card holder's."""
    world, app = http.world, http.client.app
    admission = app.state.kiosk_relay.admission  # type: ignore[attr-defined]
    held = [f"held-{i}".ljust(43, "x") for i in range(admission.slots)]
    assert all(admission.enter(INAGI, h).admitted for h in held)
    replies: list[httpx.Response] = []
    http.client.event_hooks["response"] = [replies.append]
    pauses: list[float] = []

    def pause(seconds: float) -> None:  # the kiosk waits; meanwhile the slots free up
        pauses.append(seconds)
        if len(pauses) == 2:
            for _ in held:
                admission.leave(INAGI, 0.3)

    session = KioskSession.start(
        HttpRelay(http.client), world.net.root_cert, store_id=STORE, clock=world.clock, pause=pause
    )
    before = len(_oplog(world))
    try:
        session.authenticate(world.cards["A"], PIN)
        request = session.choose(INAGI, "residence", copies=1)
        result = session.request()
    finally:
        http.client.event_hooks["response"] = []
    busy = [r for r in replies if r.status_code == 503]
    assert len(busy) == 2 and session.waits == 2 and len(pauses) == 2
    body = busy[0].json()
    assert (body["type"], body["position"]) == ("busy", 1) and "お待ちください" in body["msg_ja"]
    assert int(busy[0].headers["retry-after"]) >= 1 and 0 < pauses[0] <= 2.0
    assert result.outcome == "issued" and result.pdf is not None
    with world.net.municipality(INAGI).engine.connect() as conn:
        row = conn.execute(
            sa.select(kiosk_requests).where(kiosk_requests.c.request_id == request.request_id)
        ).one()
    assert row.subject_resident_code == world.people["A"].resident_code
    waits = [r for r in _oplog(world)[before:] if "told to wait" in r.detail]
    assert len(waits) == 1 and waits[0].outcome == "rejected"
    assert (admission.in_flight(INAGI), admission.waiting(INAGI)) == (0, 0)
    session.finish()
    # the schema says so: a 503 with its body, for kiosks written from the OpenAPI document
    responses = http.client.get("/openapi.json").json()["paths"][REQUESTS_PATH]["post"]
    assert "BusyOut" in str(responses["responses"]["503"])
