"""The resident portal's web app against the national node's portal relay over HTTP
(`/portal/v1/*`, TestClient), on the in-memory network (built once for the module, the kiosk
world): a card holder logs in with card and PIN and sees their page; a wrong PIN is refused and
counts toward the lock; the relay refuses a client whose certificate is not the registered
portal's, and logs it; no input gives a server error; the routes are in the OpenAPI schemas."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.cards.model import KeyKind
from juki.cards.soft import SoftCardToken
from juki.cards.token import CardToken
from juki.core.clock import SystemClock
from juki.core.settings import Settings
from juki.kiosk.devices import CardNotPresent, PlaceableCard
from juki.nodes.apps import create_node_app
from juki.nodes.portal_api import issue_portal_certificate, register_portal
from juki.portal.client import HttpPortalRelay
from juki.portal.web import BrowserSessions, Portal, portal_app
from juki.portal.wire import DISCLOSURE_PATH, SESSIONS_PATH
from juki.registry.corrections import open_requests, reject_request
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from support.kiosk_world import (
    CLERK,
    INAGI,
    NATIONAL_OPERATOR,
    PIN,
    World,
    as_store,
    config_for,
    kiosk_world,
    store_certificate,
)
from support.no500 import ODD_STRINGS

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
FORM = {"content-type": "application/x-www-form-urlencoded"}


class HeldCards:
    """The card reader of this test: the world's software cards, each one object, so that a
    wrong PIN's count stays on the card as it would in the chip."""

    def __init__(self, cards: dict[str, SoftCardToken]) -> None:
        self._cards = {c.card_serial: (k, c) for k, c in cards.items()}

    def present(self) -> Sequence[PlaceableCard]:
        from pathlib import Path

        return [PlaceableCard(s, f"カード{k}", Path("/")) for s, (k, _c) in self._cards.items()]

    def take(self, serial: str) -> CardToken:
        if serial not in self._cards:
            raise CardNotPresent()
        return self._cards[serial][1]


@dataclass
class Site:
    world: World
    national: TestClient
    browser: TestClient


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with kiosk_world(tmp_path_factory.mktemp("portal-web")) as world:
        national = world.net.national
        app = create_node_app(national, config_for(national), Settings())
        _key, cert = issue_portal_certificate(national)
        register_portal(national, NATIONAL_OPERATOR, cert)
        as_store(app, cert)  # every TestClient connection presents the portal's certificate
        with TestClient(app) as relay_client:
            portal = Portal(
                relay=HttpPortalRelay(relay_client),
                reader=HeldCards(world.cards),
                sessions=BrowserSessions(SystemClock().now),
                names={INAGI: "稲城市"},
            )
            with TestClient(portal_app(portal), follow_redirects=False) as browser:
                yield Site(world, relay_client, browser)


def _csrf(browser: TestClient) -> str:
    found = CSRF.search(browser.get("/").text)
    assert found, "no form on the page"
    return found.group(1)


def _login(site: Site, who: str, pin: str = PIN) -> object:
    browser = site.browser
    browser.cookies.clear()
    serial = site.world.cards[who].card_serial
    return browser.post("/login", data={"csrf": _csrf(browser), "serial": serial, "pin": pin})


def test_a_holder_logs_in_and_sees_their_own_page(site: Site) -> None:
    answer = _login(site, "A")
    assert answer.status_code == 303 and answer.headers["location"] == "/mypage"  # type: ignore[attr-defined]
    page = site.browser.get("/mypage")
    assert page.status_code == 200
    person = site.world.people["A"]
    assert page.text.count(person.resident_code) == 3  # municipality, prefecture, national
    assert f"{person.family_name}　{person.given_name}" in page.text
    assert site.world.people["B"].given_name not in page.text
    logout = site.browser.post("/logout", data={"csrf": _csrf_on(site, page.text)})
    assert logout.status_code == 303
    assert site.browser.get("/mypage").status_code == 401


def test_a_holder_reads_the_counters_answer_to_their_correction(site: Site) -> None:
    assert _login(site, "B").status_code == 303  # type: ignore[attr-defined]
    page = site.browser.get("/mypage").text
    filed = site.browser.post(
        "/correction", data={"csrf": _csrf_on(site, page), "text": "生年月日が違います"}
    )
    assert filed.status_code == 303
    assert "受付済み" in site.browser.get("/mypage").text
    inagi = site.world.net.municipality(INAGI).engine
    (request,) = open_requests(SqlUnitOfWork(inagi), CLERK)
    reject_request(SqlUnitOfWork(inagi), CLERK, request.request_id, "戸籍の記載どおりです")
    shown = site.browser.get("/mypage").text
    assert "訂正できませんでした" in shown and "戸籍の記載どおりです" in shown


def _csrf_on(site: Site, html: str) -> str:
    found = CSRF.search(html)
    assert found
    return found.group(1)


def test_a_wrong_pin_is_refused_and_counts_toward_the_lock(site: Site) -> None:
    card = site.world.cards["L"]
    before = card.tries_left(KeyKind.AUTH)
    answer = _login(site, "L", "0000")
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert f"あと{before - 1}回" in answer.text  # type: ignore[attr-defined]
    assert card.tries_left(KeyKind.AUTH) == before - 1
    assert site.browser.get("/mypage").status_code == 401
    assert _login(site, "L").status_code == 303  # type: ignore[attr-defined]
    assert card.tries_left(KeyKind.AUTH) == before


def test_a_post_without_the_form_token_is_refused(site: Site) -> None:
    site.browser.cookies.clear()
    serial = site.world.cards["A"].card_serial
    answer = site.browser.post("/login", data={"csrf": "0" * 64, "serial": serial, "pin": PIN})
    assert answer.status_code == 403


def test_the_relay_refuses_and_logs_a_client_that_is_not_the_registered_portal(
    site: Site,
) -> None:
    app = site.national.app
    registered = app.state.tls_peers  # type: ignore[attr-defined]
    try:
        as_store(app, store_certificate(site.world.net, "NOT-A-PORTAL"))  # type: ignore[arg-type]
        answer = site.national.post(DISCLOSURE_PATH, json={"session": "x" * 43})
        assert answer.status_code == 401
        as_store(app, issue_portal_certificate(site.world.net.national)[1])  # type: ignore[arg-type]
        assert site.national.post(DISCLOSURE_PATH, json={"session": "x" * 43}).status_code == 401
    finally:
        app.state.tls_peers = registered  # type: ignore[attr-defined]
    with site.world.net.national.engine.connect() as conn:
        refused = conn.execute(
            sa.select(oplog.c.detail).where(
                (oplog.c.role == "resident_portal") & (oplog.c.outcome == "rejected")
            )
        ).all()
    details = [r.detail for r in refused]
    assert "a store certificate, not the portal's" in details
    assert "certificate is not the one registered" in details


def test_the_relay_names_the_field_of_a_bad_body(site: Site) -> None:
    answer = site.national.post(SESSIONS_PATH, json={"card_certificate": "x", "challenge": "!"})
    assert answer.status_code == 422
    fields = {tuple(d["loc"])[-1] for d in answer.json()["detail"]}
    assert {"card_certificate", "challenge", "signature"} <= fields
    gone = site.national.post(DISCLOSURE_PATH, json={"session": "y" * 43})
    assert gone.status_code == 422 and gone.json()["detail"][0]["type"] == "session_ended"


def test_the_routes_are_in_the_openapi_schemas(site: Site) -> None:
    paths = site.national.get("/openapi.json").json()["paths"]
    assert {p for p in paths if p.startswith("/portal/v1/")} == {
        "/portal/v1/challenge",
        "/portal/v1/sessions",
        "/portal/v1/sessions/end",
        "/portal/v1/disclosure",
        "/portal/v1/actions",
    }
    own = site.browser.get("/openapi.json").json()["paths"]
    assert {"/", "/mypage", "/login", "/self-notice", "/correction", "/logout"} <= set(own)


PATHS = ["/", "/mypage", "/login", "/self-notice", "/correction", "/logout"]
FIELDS = ["csrf", "serial", "pin", "action", "text"]
VALUES = st.one_of(st.sampled_from([*ODD_STRINGS, PIN, "register", "withdraw"]), st.text())


def _raw(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(PATHS),
            st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=4),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_no_input_gives_a_server_error(
    site: Site, steps: list[tuple[str, dict[str, str], bool]]
) -> None:
    browser = site.browser
    for path, form, right_csrf in steps:
        if right_csrf:
            found = CSRF.search(browser.get("/").text)
            form = {**form, "csrf": found.group(1)} if found else form
        if path in ("/", "/mypage"):
            answer = browser.get(path)
        else:
            body = "&".join(f"{_raw(k)}={_raw(v)}" for k, v in form.items())
            answer = browser.post(path, content=body, headers=FORM)
        assert answer.status_code < 500, (path, form, answer.text[:300])
