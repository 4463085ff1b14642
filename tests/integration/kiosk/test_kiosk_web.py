"""The kiosk web UI (`juki.kiosk.web`) over the in-memory network (one world per module): the
screens in order, what a jam, a short payment, an idle visit and a forged form do, and no input
giving a 500. The browser's whole flow on node processes is tests/e2e/e2e_network/
test_kiosk_browser.py; these check what a browser cannot see (the till, the relay's record, the
server-side erasure)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.cards.soft import SoftCardToken
from juki.cards.token import CardToken
from juki.certificates.kiosk.model import DEFAULT_SETTINGS, KioskSettings
from juki.certificates.kiosk.services import set_kiosk_settings
from juki.certificates.model import CertificateKind
from juki.certificates.store import SqlCertificates
from juki.certificates.tables import certificates
from juki.kiosk.devices import CardNotPresent, FilePrintSink, PlaceableCard
from juki.kiosk.machine import KioskMachine, Municipality
from juki.kiosk.web import csrf_checked, kiosk_app, kiosk_visitor
from support.cert_population import MANAGER
from support.kiosk_world import INAGI, PIN, STORE, World, kiosk_world
from support.no500 import ODD_STRINGS

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
SCREEN = re.compile(r'data-screen="([a-z_]+)"')


class CardsOnHand:
    """The reader over the world's in-memory software cards (the demo's reads token files)."""

    def __init__(self, cards: dict[str, SoftCardToken]) -> None:
        self.cards = {c.serial: c for c in cards.values()}

    def present(self) -> Sequence[PlaceableCard]:
        return [PlaceableCard(s, s, Path(s)) for s in self.cards]

    def take(self, serial: str) -> CardToken:
        if serial not in self.cards:
            raise CardNotPresent()
        return self.cards[serial]


@dataclass
class Kiosk:
    world: World
    machine: KioskMachine
    printer: FilePrintSink
    client: TestClient

    def screen(self) -> str:
        page = self.client.get("/")
        assert page.status_code == 200, page.text
        found = SCREEN.search(page.text)
        assert found is not None
        return found.group(1)

    def post(self, path: str, **form: object) -> str:
        csrf = CSRF.search(self.client.get("/").text)
        assert csrf is not None
        answer = self.client.post(path, data={"csrf": csrf.group(1), **form})
        assert answer.status_code == 200, answer.text  # after the redirect
        return self.screen()

    def to_pay(self, serial: str, copies: int = 1) -> None:
        assert self.post("/start") == "card"
        assert self.post("/card", serial=serial) == "municipality"
        assert self.post("/municipality", lg_code=INAGI) == "pin"
        assert self.post("/pin", pin=PIN) == "take_card"
        assert self.post("/card-taken") == "kind"
        assert self.post("/kind", kind="residence") == "options"
        assert self.post("/options", members="self", items=["honseki"]) == "copies"
        assert self.post("/copies", copies=copies) == "confirm"
        assert self.post("/confirm") == "pay"

    def fresh(self) -> None:
        self.client.cookies.clear()


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    where = tmp_path_factory.mktemp("kiosk-web")
    with kiosk_world(where) as world:
        printer = FilePrintSink(where / "printed")
        machine = KioskMachine(
            relay=world.relay,
            root=world.net.root_cert,
            store_id=STORE,
            clock=world.clock,
            reader=CardsOnHand(world.cards),
            printer=printer,
            municipalities=[Municipality(INAGI, "稲城市", "東京都")],
        )
        with TestClient(kiosk_app(machine)) as client:
            yield Kiosk(world, machine, printer, client)


def _issued(kiosk: Kiosk, pdf: bytes) -> sa.Row[tuple[object, ...]]:
    c = certificates.c
    digest = hashlib.sha256(pdf).hexdigest()
    with kiosk.world.net.municipality(INAGI).engine.connect() as conn:
        return conn.execute(sa.select(certificates).where(c.pdf_sha256 == digest)).one()


def _pay(k: Kiosk, *coins: int) -> str:
    screen = ""
    for coin in coins:
        screen = k.post("/coin", coin=coin)
    return k.post("/pay") if coins else screen


def test_a_whole_visit_prints_the_holders_certificate_voids_a_jam_charges_and_erases(
    kiosk: Kiosk,
) -> None:
    kiosk.fresh()
    kiosk.to_pay(kiosk.world.cards["A"].serial, copies=2)
    assert "600円" in kiosk.client.get("/").text  # the municipality's fee, shown before paying
    takings = kiosk.machine.till.takings_yen
    assert _pay(kiosk, 500) == "pay"  # 500 of 600: refused, nothing printed
    assert "100円不足" in kiosk.client.get("/").text
    assert not list(kiosk.printer.directory.glob("*.pdf"))
    kiosk.printer.jam_next = 1  # the first copy jams
    assert _pay(kiosk, 500) == "reminder"
    assert "書損" in kiosk.client.get("/").text
    assert kiosk.post("/reminded") == "receipt"
    receipt = kiosk.client.get("/").text
    assert 'id="printed">1部' in receipt and 'id="charged">300円' in receipt  # jam not charged
    assert 'id="change">700円' in receipt
    assert kiosk.machine.till.takings_yen == takings + 300

    visit = kiosk.machine.visits[next(iter(kiosk.machine.visits))]
    assert kiosk.post("/finish") == "start"
    assert visit.erased and not kiosk.machine.visits  # back at the start: nothing kept
    assert kiosk.world.relay.retained()[-1]["status"] == "issued"

    # the page printed is the certificate the municipality made for the card holder, and the
    # jammed copy is recorded spoiled there (the relay's void message, through its outbox)
    (page_file,) = kiosk.printer.directory.glob("*.pdf")
    row = _issued(kiosk, page_file.read_bytes())
    assert row.subject_resident_code == kiosk.world.people["A"].resident_code
    assert row.channel == "kiosk" and page_file.stem in row.issue_numbers
    kiosk.world.net.run_until_quiet()
    with kiosk.world.net.municipality(INAGI).engine.connect() as conn:
        spoiled = SqlCertificates(conn).spoiled_numbers(row.certificate_id)
    assert len(spoiled) == 1 and spoiled[0] != page_file.stem


def test_an_idle_visit_times_out_aborts_the_issuance_refunds_and_erases(kiosk: Kiosk) -> None:
    kiosk.fresh()
    kiosk.to_pay(kiosk.world.cards["A"].serial)
    kiosk.post("/coin", coin=100)
    takings = kiosk.machine.till.takings_yen
    request_id = kiosk.world.relay.retained()[-1]["request_id"]
    kiosk.world.clock.advance(kiosk.machine.idle + timedelta(seconds=1))
    assert kiosk.machine.sweep() == 1 and not kiosk.machine.visits
    page = kiosk.client.get("/").text
    assert 'data-screen="start"' in page and "100円は返却しました" in page
    assert kiosk.machine.till.takings_yen == takings
    record = {r["request_id"]: r for r in kiosk.world.relay.retained()}[request_id]
    assert record["status"] == "abandoned"  # the municipality is told to void it


def test_a_wrong_pin_says_tries_left_and_a_cancel_returns_the_coins(kiosk: Kiosk) -> None:
    kiosk.fresh()
    kiosk.post("/start")
    kiosk.post("/card", serial=kiosk.world.cards["R"].serial)
    kiosk.post("/municipality", lg_code=INAGI)
    assert kiosk.post("/pin", pin="9999") == "pin"
    assert "あと2回" in kiosk.client.get("/").text
    assert kiosk.post("/pin", pin="12a4") == "pin"  # not 4 digits: said so, no try spent
    assert kiosk.post("/pin", pin=PIN) == "take_card"
    assert kiosk.post("/cancel") == "stopped"
    assert "料金はかかりません" in kiosk.client.get("/").text
    assert kiosk.post("/finish") == "start"


def test_a_form_without_this_visits_csrf_token_or_out_of_order_is_refused(kiosk: Kiosk) -> None:
    kiosk.fresh()
    kiosk.client.get("/")
    forged = kiosk.client.post("/start", data={"csrf": "0" * 64})
    assert forged.status_code == 403 and "有効期限" in forged.text
    assert kiosk.post("/start") == "card"
    csrf = CSRF.search(kiosk.client.get("/").text)
    assert csrf is not None
    early = kiosk.client.post("/pay", data={"csrf": csrf.group(1)})
    assert early.status_code == 409 and "順序" in early.text
    kiosk.post("/cancel")
    kiosk.post("/finish")


def test_every_route_is_in_the_openapi_and_declares_the_visitor_and_posts_their_csrf(
    kiosk: Kiosk,
) -> None:
    app = kiosk.client.app
    schema = kiosk.client.get("/openapi.json").json()
    routes = [r for r in app.routes if isinstance(r, APIRoute)]  # type: ignore[attr-defined]
    for route in routes:
        calls = {d.call for d in route.dependant.dependencies}
        calls |= {d.call for dep in route.dependant.dependencies for d in dep.dependencies}
        assert kiosk_visitor in calls, route.path
        if "POST" in route.methods:
            assert csrf_checked in calls, route.path
        assert route.path in schema["paths"], route.path


PATHS = ["/", "/start", "/card", "/municipality", "/pin", "/card-taken", "/kind", "/options"]
PATHS += ["/copies", "/confirm", "/coin", "/pay", "/reminded", "/finish", "/cancel", "/nowhere"]
FIELDS = ["csrf", "serial", "lg_code", "pin", "kind", "members", "items", "copies", "coin"]
FORM = {"content-type": "application/x-www-form-urlencoded"}
VALUES = st.one_of(st.sampled_from([*ODD_STRINGS, INAGI, PIN, "0", "-1", "1e9"]), st.text())


def _raw(text: str) -> str:
    """Form-encoded as sent by anything, lone surrogates' bytes included."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(PATHS),
            st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=4),
            st.booleans(),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_no_input_gives_a_server_error(
    kiosk: Kiosk, steps: list[tuple[str, dict[str, str], bool]]
) -> None:
    kiosk.fresh()
    for path, form, right_csrf in steps:
        if right_csrf:
            found = CSRF.search(kiosk.client.get("/").text)
            form = {**form, "csrf": found.group(1)} if found else form
        if path == "/":
            answer = kiosk.client.get(path)
        else:
            body = "&".join(f"{_raw(k)}={_raw(v)}" for k, v in form.items())
            answer = kiosk.client.post(path, content=body, headers=FORM)
        assert answer.status_code < 500, (path, form, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html")
    for key in list(kiosk.machine.visits):
        kiosk.machine.close(key)


def _set_offer(kiosk: Kiosk, settings: KioskSettings) -> None:
    inagi = kiosk.world.net.municipality(INAGI)
    assert inagi.kiosk is not None
    set_kiosk_settings(inagi.kiosk.desk.kiosk_uow(), MANAGER, settings)


def _to_municipality(kiosk: Kiosk) -> None:
    kiosk.fresh()
    assert kiosk.post("/start") == "card"
    assert kiosk.post("/card", serial=kiosk.world.cards["L"].serial) == "municipality"


def test_the_kind_screen_shows_only_what_is_offered_with_its_fee(kiosk: Kiosk) -> None:
    _set_offer(
        kiosk,
        dataclasses.replace(
            DEFAULT_SETTINGS,
            kinds=frozenset({CertificateKind.RESIDENCE, CertificateKind.SEAL}),
            fees=MappingProxyType({**DEFAULT_SETTINGS.fees, CertificateKind.SEAL: 200}),
        ),
    )
    try:
        _to_municipality(kiosk)
        assert kiosk.post("/municipality", lg_code=INAGI) == "pin"
        assert kiosk.post("/pin", pin=PIN) == "take_card"
        assert kiosk.post("/card-taken") == "kind"
        offered = kiosk.client.get("/").text.split('id="offered"')[1].split("</div>")[0]
        assert "住民票の写し 300円" in offered and "印鑑登録証明書 200円" in offered
        assert "記載事項証明書" not in offered
        assert kiosk.post("/kind", kind="record_items") == "kind"  # posted anyway: refused
        assert "交付していません" in kiosk.client.get("/").text
        assert kiosk.post("/kind", kind="seal") == "copies"
        kiosk.post("/cancel")
        assert kiosk.post("/finish") == "start"
    finally:
        _set_offer(kiosk, DEFAULT_SETTINGS)


@pytest.mark.parametrize(
    ("why", "said"),
    [
        ("outside_hours", "ただいまサービス時間外です"),
        ("closure", "休止中"),
        ("disconnected", "接続できません"),
    ],
)
def test_a_municipality_that_cannot_serve_now_is_said_before_the_pin(
    kiosk: Kiosk, why: str, said: str
) -> None:
    net, clock = kiosk.world.net, kiosk.world.clock
    shift = {"outside_hours": timedelta(hours=14), "closure": timedelta(days=273)}.get(why)
    if shift is not None:
        clock.advance(shift)
    else:
        net.disconnect(INAGI)
    try:
        _to_municipality(kiosk)
        assert kiosk.post("/municipality", lg_code=INAGI) == "stopped"  # no PIN asked
        page = kiosk.client.get("/").text
        assert said in page and "料金はかかりません" in page
        assert ("6:30〜23:00" in page) is (why != "disconnected")
        assert kiosk.post("/finish") == "start"
    finally:
        if shift is not None:
            clock.advance(-shift)
        else:
            net.reconnect(INAGI)
