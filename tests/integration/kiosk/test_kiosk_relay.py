"""The kiosk relay end to end on the in-memory network (built once for the module): a kiosk
session at a store, the relay on the national node, 稲城市's certificate server.

A resident's certificate is issued through the relay and the relay keeps nothing of it; a
revoked card, a signature by the wrong key and a replayed challenge are refused; a timeout at
either hop aborts the issuance with the certificate voided and nothing charged; two sessions
at once never get each other's certificate."""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import time, timedelta
from types import MappingProxyType

import pytest
import sqlalchemy as sa
from cryptography import x509
from PIL import Image

from juki.cards import ca_store
from juki.cards import services as cards
from juki.cards.commands import ContinueCardUse
from juki.cards.model import Backend
from juki.cards.soft import SoftCardToken
from juki.cards.store import SqlCardUnitOfWork
from juki.cards.verify import CardRefused
from juki.certificates.kiosk.model import DEFAULT_SETTINGS, KioskSettings
from juki.certificates.kiosk.offer import KioskOffer, OfferStatus
from juki.certificates.kiosk.services import set_kiosk_settings
from juki.certificates.kiosk.tables import kiosk_requests
from juki.certificates.model import CertificateKind
from juki.certificates.store import SqlCertificates
from juki.certificates.tables import certificates
from juki.core.errors import ValidationError
from juki.kiosk.ports import HopTimeout, KioskCall, RelayAnswer, RelayRefused
from juki.kiosk.sealing import KeyStatement
from juki.kiosk.session import (
    CardLockedAtKiosk,
    KioskStop,
    Receipt,
    SessionAborted,
    WrongPinAtKiosk,
)
from juki.network import tables as network_tables
from juki.network.envelope import Envelope
from juki.network.transport import TransportError
from juki.nodes.cards import CertifierRefused, NetworkCertifier
from juki.nodes.kiosk import MunicipalKiosk
from juki.nodes.kiosk_relay import KioskRelay
from juki.registry import services as svc
from juki.registry.commands import (
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
    RecordMoveOut,
    RegisterSeal,
)
from juki.registry.model import ResidentRecord
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.tables import oplog
from support.card_holders import issue_card
from support.cert_population import MANAGER, make_desk
from support.kiosk_world import CLERK, INAGI, PIN, STORE, World, arrive, kiosk_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with kiosk_world(tmp_path_factory.mktemp("relay")) as built:
        yield built


def _rows(engine: sa.Engine) -> dict[str, set[str]]:
    """Every row of every table, as text."""
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {
            t.name: {repr(tuple(r)) for r in conn.execute(sa.select(t))} for t in meta.sorted_tables
        }


def _certificate_row(world: World, certificate_id: str) -> sa.Row[tuple[object, ...]]:
    c = certificates.c
    with world.net.municipality(INAGI).engine.connect() as conn:
        return conn.execute(sa.select(certificates).where(c.certificate_id == certificate_id)).one()


def test_a_resident_gets_her_certificate_and_the_relay_keeps_nothing_of_it(world: World) -> None:
    national = world.net.national
    before = _rows(national.engine)
    person, card = world.people["A"], world.cards["A"]

    session = world.session()
    assert session.authenticate(card, PIN) == card.serial
    session.choose(INAGI, "residence", copies=2)
    result = session.request()
    assert result.outcome == "issued" and result.pdf is not None and result.pdf.startswith(b"%PDF")
    assert len(result.issue_numbers) == 2 and result.fee_yen > 0
    row = _certificate_row(world, result.certificate_id or "")
    assert row.subject_resident_code == person.resident_code  # the card holder's, no one else's
    receipt = session.finish()
    assert (receipt.printed, receipt.fee_yen) == (True, result.fee_yen)
    assert session.erased

    # the relay's record: exactly the minimal issuance line
    assert world.relay.retained() == [
        {
            "request_id": result.request_id,
            "at": world.clock.now().isoformat(),
            "store_id": STORE,
            "lg_code": INAGI,
            "kind": "residence",
            "copies": 2,
            "fee_yen": result.fee_yen,
            "status": "issued",
        }
    ]
    # nothing new anywhere in the national node's tables names her, her card or the certificate
    # (its identity index held her 本人確認情報 before, as it holds everyone's)
    after = _rows(national.engine)
    new = "\n".join(r for t, rows in after.items() for r in rows - before.get(t, set()))
    needles = [
        person.family_name + person.given_name,
        person.given_name,
        "スミカ",
        person.resident_code,
        "東長沼1番地",
        card.serial,
        result.certificate_id or "",
        *result.issue_numbers,
    ]
    assert new and not [n for n in needles if n in new]
    # and no file of its storage holds the certificate's bytes, in any encoding
    pdf = result.pdf
    pieces = [_distinctive(pdf, i) for i in (len(pdf) // 4, len(pdf) // 2, len(pdf) - 100)]
    pieces += [base64.b64encode(pdf)[1000:1064], base64.urlsafe_b64encode(pdf)[2000:2064]]
    files = [p for p in world.where.iterdir() if p.name.startswith("national.db")]
    assert files
    for path in files:
        data = path.read_bytes()
        assert not [p for p in pieces if p in data], path.name
        assert (result.certificate_id or "").encode() not in data


def _distinctive(data: bytes, start: int, size: int = 48) -> bytes:
    """The first `size` bytes from `start` on that could only be this document's: a window of
    many different bytes, not a run of padding (48 NUL bytes from inside the PDF matched a
    database's -shm file, which is mostly zeros)."""
    for at in range(start, len(data) - size):
        piece = data[at : at + size]
        if len(set(piece)) >= size // 3:
            return piece
    raise AssertionError(f"no distinctive {size} bytes after {start}")


def _sealed_call(world: World, token: SoftCardToken, signer: SoftCardToken) -> KioskCall:
    """A kiosk's call as far as the relay: the card certificate of `token`, signed by `signer`."""
    session = world.session()
    challenge = session._challenge
    assert challenge is not None
    return KioskCall(
        STORE,
        "x" * 43,
        INAGI,
        token.auth_certificate(),
        challenge,
        signer.sign_auth(PIN, challenge),
        b"\x01" * 32,
        "AAAAAAAAAAAAAAAAAAAAAAAA",
    )


def test_a_revoked_card_a_wrong_key_and_a_replayed_challenge_are_refused(world: World) -> None:
    a, b, revoked = world.cards["A"], world.cards["B"], world.cards["R"]
    with pytest.raises(CardRefused) as wrong_key:
        world.relay.request(_sealed_call(world, a, signer=b))
    assert wrong_key.value.rule == "signature_invalid"

    inagi = world.net.municipality(INAGI)
    NetworkCertifier(inagi).revoke(revoked.serial, world.people["R"].resident_code, INAGI, "lost")
    session = world.session()
    session.authenticate(revoked, PIN)
    session.choose(INAGI, "residence")
    with pytest.raises(CardRefused) as gone:
        session.request()
    assert gone.value.rule == "certificate_revoked" and session.erased

    # a challenge already used (the call failed after the card check): refused as a replay
    call = _sealed_call(world, b, signer=b)
    with pytest.raises(RelayRefused):
        world.relay.request(call)  # the card passes; the sealed request is not one
    with pytest.raises(CardRefused) as replay:
        world.relay.request(call)
    assert replay.value.rule == "challenge_replayed"


def test_wrong_pins_say_the_tries_left_then_the_card_is_locked(world: World) -> None:
    card = world.cards["L"]
    session = world.session()
    for left in (2, 1):
        with pytest.raises(WrongPinAtKiosk) as wrong:
            session.authenticate(card, "9999")
        assert wrong.value.tries_left == left and "あと" in wrong.value.message_ja
    with pytest.raises((WrongPinAtKiosk, CardLockedAtKiosk)):
        session.authenticate(card, "9999")
    with pytest.raises(CardLockedAtKiosk) as locked:
        world.session().authenticate(card, PIN)
    assert "窓口" in locked.value.message_ja


class _LostAnswers:
    """The query transport of the national node, losing the answer of every kiosk_request
    after the municipality made it (a timeout on the relay → municipality hop)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def query(self, recipient: str, endpoint: str, payload: bytes) -> bytes:
        answer: bytes = self.inner.query(recipient, endpoint, payload)  # type: ignore[attr-defined]
        if Envelope.from_bytes(payload).message_type == "kiosk_request":
            raise TransportError("timed out waiting for the answer")
        return answer


class _SlowRelay:
    """The kiosk → relay hop: the relay answers, the kiosk gives up waiting."""

    def __init__(self, relay: KioskRelay) -> None:
        self.relay = relay
        self.answered: list[RelayAnswer] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.relay, name)

    def request(self, call: KioskCall) -> RelayAnswer:
        self.answered.append(self.relay.request(call))
        raise HopTimeout("no answer within the kiosk's limit")


def _issued_for(world: World, request_id: str) -> sa.Row[tuple[object, ...]]:
    from juki.certificates.kiosk.tables import kiosk_requests

    k = kiosk_requests.c
    with world.net.municipality(INAGI).engine.connect() as conn:
        entry = conn.execute(sa.select(kiosk_requests).where(k.request_id == request_id)).one()
    return _certificate_row(world, str(entry.certificate_id))


def test_a_timeout_at_either_hop_aborts_voids_and_charges_nothing(world: World) -> None:
    national = world.net.national
    card = world.cards["B"]

    # relay → municipality: the answer is lost; the relay aborts and tells the municipality
    saved = national.query_transport
    national.query_transport = _LostAnswers(saved)
    try:
        session = world.session()
        session.authenticate(card, PIN)
        request_id = session.choose(INAGI, "residence").request_id
        with pytest.raises(RelayRefused) as aborted:
            session.request()
    finally:
        national.query_transport = saved
    assert aborted.value.rule == "aborted" and "料金はかかりません" in aborted.value.message_ja
    assert session.erased
    world.net.run_until_quiet()  # the kiosk_void travels through the outbox
    assert _issued_for(world, request_id).status == "void"
    assert request_id not in {r["request_id"] for r in world.relay.retained()}

    # kiosk → relay: the relay answered, the kiosk timed out; it abandons, nothing charged
    slow = _SlowRelay(world.relay)
    session = world.session(slow)
    session.authenticate(card, PIN)
    request_id = session.choose(INAGI, "residence").request_id
    with pytest.raises(SessionAborted):
        session.request()
    assert session.erased
    world.net.run_until_quiet()
    assert _issued_for(world, request_id).status == "void"
    (line,) = [r for r in world.relay.retained() if r["request_id"] == request_id]
    assert line["status"] == "abandoned"

    # a session left alone past its deadline is erased, and aborts
    session = world.session()
    session.authenticate(card, PIN)
    world.clock.advance(timedelta(minutes=4))
    try:
        with pytest.raises(SessionAborted):
            session.choose(INAGI, "residence")
    finally:
        world.clock.advance(-timedelta(minutes=4))
    assert session.erased


class _CrossingRelay:
    """A relay with the 2023 fault: it hands each session the previous session's answer."""

    def __init__(self, relay: KioskRelay) -> None:
        self.relay = relay
        self.last: RelayAnswer | None = None

    def __getattr__(self, name: str) -> object:
        return getattr(self.relay, name)

    def request(self, call: KioskCall) -> RelayAnswer:
        answer = self.relay.request(call)
        previous, self.last = self.last, answer
        return previous or answer


def test_two_sessions_at_once_never_cross(world: World) -> None:
    a, b = world.session(), world.session()
    a.authenticate(world.cards["A"], PIN)
    b.authenticate(world.cards["B"], PIN)
    a.choose(INAGI, "residence")
    b.choose(INAGI, "residence")
    got_b, got_a = b.request(), a.request()
    for got, key in ((got_a, "A"), (got_b, "B")):
        row = _certificate_row(world, got.certificate_id or "")
        assert row.subject_resident_code == world.people[key].resident_code
    assert got_a.pdf != got_b.pdf
    # a jam at A's kiosk: that copy is recorded spoiled (書損) at the municipality, not charged
    a.spoiled(got_a.issue_numbers[0])
    with pytest.raises(ValidationError):
        a.spoiled(got_b.issue_numbers[0])
    assert a.finish() == Receipt(got_a.request_id, False, 0, (got_a.issue_numbers[0],))
    assert b.finish().fee_yen == got_b.fee_yen
    world.net.run_until_quiet()
    with world.net.municipality(INAGI).engine.connect() as conn:
        spoiled = SqlCertificates(conn).spoiled_numbers(got_a.certificate_id or "")
    assert spoiled == (got_a.issue_numbers[0],)
    assert _certificate_row(world, got_a.certificate_id or "").status == "void"  # its only copy

    # even a relay that swaps answers gets no page out: the answer is not this session's
    crossing = _CrossingRelay(world.relay)
    first, second = world.session(crossing), world.session(crossing)
    first.authenticate(world.cards["A"], PIN)
    second.authenticate(world.cards["B"], PIN)
    first.choose(INAGI, "residence")
    second.choose(INAGI, "residence")
    assert first.request().outcome == "issued"
    with pytest.raises(KioskStop) as crossed:
        second.request()
    assert crossed.value.rule == "answer_mismatch" and second.erased
    # and a swapped ciphertext under the right ids does not open either
    first.finish()
    third = world.session(crossing)
    third.authenticate(world.cards["B"], PIN)
    sent = third.choose(INAGI, "residence")
    assert crossing.last is not None
    forged = replace(crossing.last, request_id=sent.request_id, card_serial=world.cards["B"].serial)
    with pytest.raises(KioskStop):
        third._opened(forged)
    assert third.erased


def test_a_key_statement_from_another_municipality_is_not_sealed_to(world: World) -> None:
    """The relay cannot substitute a key: the session takes only the chosen municipality's."""
    real = world.relay.municipality_key(INAGI)
    other = KeyStatement("142051", real.public_key, real.signature, real.node_certificate)

    class Substituting:
        def __getattr__(self, name: str) -> object:
            return getattr(world.relay, name)

        def municipality_key(self, lg_code: str) -> KeyStatement:
            return replace(other, lg_code=lg_code, node_certificate=_fujisawa_cert(world))

    session = world.session(Substituting())
    session.authenticate(world.cards["A"], PIN)
    session.choose(INAGI, "residence")
    with pytest.raises(KioskStop) as refused:
        session.request()
    assert refused.value.rule == "municipality_key" and session.erased


def _fujisawa_cert(world: World) -> x509.Certificate:
    return world.net.nodes["142051"].identity.certificate


FUJISAWA = "142051"
NEW_HOME = "神奈川県藤沢市鵠沼石上2丁目2番2号"


def _moved_with_her_card(world: World) -> tuple[ResidentRecord, SoftCardToken]:
    """A resident of 稲城市 with a card files a card 転出届 to 藤沢市 and moves in there."""
    net, inagi, fujisawa = (
        world.net,
        world.net.municipality(INAGI),
        world.net.municipality(FUJISAWA),
    )
    arrived = arrive(net, "海洋", "真央", "マオ", 9)
    net.run_until_quiet()  # her my_number comes back from national
    registry = SqlRegistryUnitOfWork(inagi.engine, clock=world.clock)
    her = svc.get_record(registry, CLERK, arrived.record_id)
    card = issue_card(inagi, her.resident_code)
    today = world.clock.today()
    move_out = RecordMoveOut(
        (her.record_id,), NEW_HOME, today, today, destination_lg_code=FUJISAWA, card=True
    )
    svc.record_move_out(registry, CLERK, move_out)
    net.run_until_quiet()
    items = PersonalItems("海洋", "真央", "カイヨウ", "マオ", her.birth_date, her.sex)
    svc.record_move_in(
        SqlRegistryUnitOfWork(fujisawa.engine, clock=world.clock),
        CLERK,
        RecordMoveIn(
            person=items,
            origin=MoveInOrigin.CARD,
            address=NEW_HOME,
            moved_on=today,
            notified_on=today,
            previous_address=her.address,
            placement=NewHousehold(),
            resident_code=her.resident_code,
            my_number=her.my_number,
            previous_lg_code=INAGI,
        ),
    )
    net.run_until_quiet()
    return her, card


def test_a_card_continued_after_a_move_prints_from_the_new_municipality_until_suspended(
    world: World,
) -> None:
    net, national = world.net, world.net.national
    inagi, fujisawa = net.municipality(INAGI), net.municipality(FUJISAWA)
    her, card = _moved_with_her_card(world)
    before = ca_store_holder(world, card.serial)
    assert before == INAGI  # the CA still routes the card to 稲城市

    # 継続利用 may be asked only by the municipality she now lives in: 稲城市's validly signed
    # request is refused by national and recorded, and changes nothing
    with pytest.raises(CertifierRefused) as refused:
        NetworkCertifier(inagi).take_over(card.serial, her.resident_code, INAGI)
    assert refused.value.rule == "ca_refused_request"
    assert ca_store_holder(world, card.serial) == INAGI
    r = network_tables.net_refusals.c
    with national.engine.connect() as conn:
        why = conn.execute(
            sa.select(r.reason, r.detail)
            .where(r.claimed_sender == INAGI)
            .order_by(r.refusal_id.desc())
        ).first()
    assert why is not None and why.reason == "unauthorised" and her.resident_code in why.detail

    continued = cards.continue_card_use(
        SqlCardUnitOfWork(fujisawa.engine, clock=world.clock),
        CLERK,
        ContinueCardUse(
            card.serial, her.resident_code, Backend.SOFT, world.clock.today(), world.clock.today()
        ),
        NetworkCertifier(fujisawa),
    )
    assert (continued.lg_code, continued.continued_from) == (FUJISAWA, INAGI)
    assert ca_store_holder(world, card.serial) == FUJISAWA
    fujisawa.kiosk = MunicipalKiosk(
        fujisawa, make_desk(fujisawa.engine, world.where / "fj", world.clock)
    )

    # the old municipality is refused at the relay; the new one prints her certificate
    session = world.session()
    session.authenticate(card, PIN)
    session.choose(INAGI, "residence")
    with pytest.raises(RelayRefused) as wrong:
        session.request()
    assert wrong.value.rule == "wrong_municipality"
    session = world.session()
    session.authenticate(card, PIN)
    session.choose(FUJISAWA, "residence")
    result = session.request()
    assert result.outcome == "issued"
    c = certificates.c
    with fujisawa.engine.connect() as conn:
        subject = conn.execute(
            sa.select(c.subject_resident_code).where(c.certificate_id == result.certificate_id)
        ).scalar_one()
    assert subject == her.resident_code
    session.finish()

    # 一時停止 at 藤沢市: the CRL (cached until then) lists the card at once, and the relay
    # refuses it before any municipality is asked
    crl = national.card_crl()
    assert national.card_crl() is crl  # nothing changed: not signed again
    cards.suspend_card(
        SqlCardUnitOfWork(fujisawa.engine, clock=world.clock),
        CLERK,
        card.serial,
        NetworkCertifier(fujisawa),
    )
    assert national.card_crl() is not crl
    issued_before = world.relay.retained()
    session = world.session()
    session.authenticate(card, PIN)
    session.choose(FUJISAWA, "residence")
    with pytest.raises(CardRefused) as held:
        session.request()
    assert held.value.rule == "card_suspended" and session.erased
    assert world.relay.retained() == issued_before


def ca_store_holder(world: World, serial: str) -> str:
    with world.net.national.engine.connect() as conn:
        held = ca_store.holder(conn, serial, world.clock.now())
    assert held is not None
    return held.lg_code


def test_an_answer_too_large_for_one_envelope_is_voided_and_never_half_sent(world: World) -> None:
    """A 印鑑登録証明書 whose registered impression is a large, incompressible PNG (within the
    registry's 1 MiB) makes a sealed answer over the 256 KiB envelope: the municipality voids
    the certificate it made and refuses; the relay charges nothing and records no issuance."""
    inagi, her = world.net.municipality(INAGI), world.people["B"]
    noise = Image.frombytes("RGB", (300, 300), random.Random(7).randbytes(300 * 300 * 3))
    png = io.BytesIO()
    noise.save(png, format="PNG")
    registry = SqlRegistryUnitOfWork(inagi.engine, clock=world.clock)
    svc.register_seal(
        registry, CLERK, RegisterSeal(her.record_id, png.getvalue(), world.clock.today())
    )
    before = world.relay.retained()
    session = world.session()
    session.authenticate(world.cards["B"], PIN)
    request = session.choose(INAGI, "seal")
    with pytest.raises(RelayRefused) as refused:
        session.request()
    assert refused.value.rule == "municipality_refused" and "answer_too_large" in str(refused.value)
    assert world.relay.retained() == before
    r, c = kiosk_requests.c, certificates.c
    with inagi.engine.connect() as conn:
        row = conn.execute(
            sa.select(r.outcome, c.status)
            .join(certificates, c.certificate_id == r.certificate_id)
            .where(r.request_id == request.request_id)
        ).one()
    assert (row.outcome, row.status) == ("issued", "void")


def _kiosk_settings(world: World, settings: KioskSettings) -> None:
    inagi = world.net.municipality(INAGI)
    assert inagi.kiosk is not None
    set_kiosk_settings(inagi.kiosk.desk.kiosk_uow(), MANAGER, settings)


def _shifted(world: World, delta: timedelta) -> KioskOffer:
    world.clock.advance(delta)
    try:
        return world.relay.offer(INAGI)
    finally:
        world.clock.advance(-delta)


class _NoAnswers:
    def __init__(self, inner: object) -> None:
        self.inner = inner

    def query(self, recipient: str, endpoint: str, payload: bytes) -> bytes:
        raise TransportError("timed out waiting for the answer")


def test_the_relay_asks_the_municipality_what_it_offers_now_and_it_is_only_advice(
    world: World,
) -> None:
    """The offer travels as `kiosk_offer_request`/`kiosk_offer`: the kinds and fees of the
    municipality's settings while open, and why not otherwise; the request is checked again."""
    hours = (time(6, 30), time(23, 0))
    all_three = (("record_items", 300), ("residence", 300), ("seal", 300))
    assert world.session().offer(INAGI) == KioskOffer(INAGI, OfferStatus.OPEN, all_three, *hours)
    _kiosk_settings(
        world,
        replace(
            DEFAULT_SETTINGS,
            kinds=frozenset({CertificateKind.RESIDENCE, CertificateKind.SEAL}),
            fees=MappingProxyType({**DEFAULT_SETTINGS.fees, CertificateKind.SEAL: 200}),
        ),
    )
    try:
        assert world.relay.offer(INAGI).fees == (("residence", 300), ("seal", 200))
    finally:
        _kiosk_settings(world, DEFAULT_SETTINGS)
    assert _shifted(world, timedelta(hours=14, minutes=30)).status is OfferStatus.OUTSIDE_HOURS
    closed = _shifted(world, timedelta(days=273))  # 12/30 09:00
    assert (closed.status, closed.fees, closed.opens) == (OfferStatus.CLOSED_DAY, (), time(6, 30))
    no_kiosk = next(
        lg
        for lg, node in world.net.nodes.items()
        if getattr(node, "kiosk", False) is None and node.kind.value == "municipality"
    )
    assert world.relay.offer(no_kiosk).status is OfferStatus.NOT_OFFERED
    national = world.net.national
    saved = national.query_transport
    national.query_transport = _NoAnswers(saved)
    try:
        assert world.relay.offer(INAGI).status is OfferStatus.UNREACHABLE
    finally:
        national.query_transport = saved
    world.net.disconnect(INAGI)
    try:
        assert world.relay.offer(INAGI).status is OfferStatus.DISCONNECTED
    finally:
        world.net.reconnect(INAGI)
    with pytest.raises(RelayRefused) as unknown:
        world.relay.offer("999999")
    assert unknown.value.field == "lg_code"

    # advice, never authority: open at 22:59, refused at 23:00 when the request comes
    world.clock.advance(timedelta(hours=13, minutes=59))
    try:
        session = world.session()
        assert session.offer(INAGI).serviceable
        session.authenticate(world.cards["A"], PIN)
        session.choose(INAGI, "residence")
        world.clock.advance(timedelta(minutes=1))
        refused = session.request()
        session.finish()
    finally:
        world.clock.advance(-timedelta(hours=14))
    assert (refused.outcome, refused.refusal_code) == ("refused", "outside_hours")

    # each answer is in the municipality's oplog as the relay; nothing personal in it
    o = oplog.c
    with world.net.municipality(INAGI).engine.connect() as conn:
        logged = conn.execute(
            sa.select(o.actor_id, o.detail).where(o.target == "kiosk_offer")
        ).all()
    assert {a for a, _d in logged} == {"relay:national"}
    assert {d for _a, d in logged} >= {"open", "outside_hours", "closed_day"}
