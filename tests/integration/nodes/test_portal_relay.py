"""The portal relay's queries on the in-memory network (built once for the module, the kiosk
world: 稲城市 with four card holders): a card holder sees each level's copy of their
identity_info, a provision made about them, an operator's view of their record, and can
register for 本人通知 and file a correction; another holder sees none of it; a node without
authority asking a municipality or a prefecture is refused and recorded; a person under a
支援措置 sees everything, their household nothing of theirs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from juki.cards.model import KeyKind
from juki.cards.token import WrongPin
from juki.cards.verify import CardRefused
from juki.certificates.model import CertificateKind, CertificateRequest, Requester
from juki.certificates.third_party import IdDocument, RequestBasis, ThirdPartyRequest
from juki.core.errors import PermissionDeniedError
from juki.network import tables as network_tables
from juki.network.disclosure_messages import (
    DISCLOSURE_ANSWER,
    IDENTITY_DISCLOSURE_ANSWER,
    DisclosureRequest,
    IdentityDisclosureRequest,
)
from juki.network.transport import QueryRefused
from juki.nodes.portal_actions import list_corrections
from juki.nodes.portal_api import portal_actor
from juki.nodes.portal_relay import PortalRefused, PortalRelay
from juki.nodes.provide import provide_batch
from juki.nodes.provision_register import load_shipped_register
from juki.portal.rules import SessionEnded
from juki.portal.tables import correction_requests
from juki.provision.requests import parse_lines
from juki.registry import services as svc
from juki.registry.commands import JoinHousehold
from juki.registry.corrections import reject_request
from juki.registry.model import Relationship
from juki.registry.support.commands import RecordSupportMeasure
from juki.registry.support.model import RestrainedParty, SupportKind
from juki.registry.support.services import record_support_measure
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from support.kiosk_world import CLERK, INAGI, PIN, World, arrive, give_card, kiosk_world

APP = portal_actor()
AUDITOR = Actor("audit", Role.AUDITOR, "T9")
CREDITOR = ThirdPartyRequest(
    basis=RequestBasis.OWN_RIGHTS,
    purpose="貸金返還請求訴訟の提起のため、債務者の現住所を確認する",
    requester_name="佐藤　一郎",
    requester_address="東京都稲城市東長沼2丁目3番4号",
    id_document=IdDocument.DRIVER_LICENCE,
    id_document_number="第123456789012号",
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with kiosk_world(tmp_path_factory.mktemp("portal")) as built:
        yield built


@pytest.fixture(scope="module")
def relay(world: World) -> PortalRelay:
    return PortalRelay(world.net.national)


def _login(relay: PortalRelay, world: World, who: str) -> str:
    card = world.cards[who]
    challenge = relay.challenge()
    token, _session = relay.login(
        APP, card.auth_certificate(), challenge, card.sign_auth(PIN, challenge)
    )
    return token


def _provide(world: World, resident_code: str, agency: str) -> None:
    """A real provision at national: the shipped register loaded, the agency's lookup answered
    by the provision service (the names and address only), which records it."""
    national = world.net.national
    operator = Actor("nat-1", Role.NATIONAL_OPERATOR, "console")
    (world.where / "agencies").mkdir(exist_ok=True)
    load_shipped_register(national, operator, world.where / "agencies")
    line = json.dumps({"resident_code": resident_code, "items": ["name", "address"]})
    lookups, _ = parse_lines([line])
    result = provide_batch(national.engine, agency, "別表第一 の 九十一", "年金給付の本人確認",
                           lookups, clock=world.clock)  # fmt: skip
    assert [a.outcome.value for a in result.answers] == ["provided"]


def test_a_holder_sees_each_level_a_provision_and_an_operator_view(
    world: World, relay: PortalRelay
) -> None:
    a, b = world.people["A"], world.people["B"]
    _provide(world, a.resident_code, "nenkin")
    inagi = world.net.municipality(INAGI)
    svc.get_record(SqlRegistryUnitOfWork(inagi.engine, clock=world.clock), CLERK, a.record_id)

    shown = relay.disclosure(APP, _login(relay, world, "A"))
    assert shown.resident_code == a.resident_code
    assert [lv.level for lv in shown.levels] == ["municipality", "prefecture", "national"]
    for level in shown.levels:
        assert level.answered, level
        assert [h.resident_code for h in level.holdings] == [a.resident_code]
        assert level.holdings[0].given_name == a.given_name
    assert [(p.agency_id, p.items, p.node_id) for p in shown.provisions] == [
        ("nenkin", "address,name", world.net.national.node_id)  # as recorded: sorted
    ]
    assert [(v.role, v.lg_code) for v in shown.views] == [("counter_clerk", INAGI)]

    other = relay.disclosure(APP, _login(relay, world, "B"))
    assert other.resident_code == b.resident_code
    assert other.provisions == () and other.views == ()
    assert all(h.resident_code == b.resident_code for lv in other.levels for h in lv.holdings)


def test_self_notice_registration_and_a_correction_reach_the_municipality(
    world: World, relay: PortalRelay
) -> None:
    token = _login(relay, world, "R")
    assert not relay.disclosure(APP, token).self_notice_registered
    assert relay.act(APP, token, "register_self_notice", None).outcome == "done"
    assert relay.disclosure(APP, token).self_notice_registered
    again = relay.act(APP, token, "register_self_notice", None)
    assert (again.outcome, again.rule) == ("refused", "already_registered")
    # a third party obtains her certificate at the counter: she is told, in the portal's inbox
    desk = world.net.municipality(INAGI).kiosk.desk  # type: ignore[union-attr]
    code = world.people["R"].resident_code
    desk.issue(
        CLERK,
        CertificateRequest(
            CertificateKind.RESIDENCE, code, requester=Requester.THIRD_PARTY, third_party=CREDITOR
        ),
    )
    told = relay.disclosure(APP, token)
    assert [(n.kind, n.copies) for n in told.notices] == [("residence", 1)]
    assert [(c.issued_by, c.channel, c.requester) for c in told.certificates] == [
        (INAGI, "counter", "third_party")
    ]

    assert relay.act(APP, token, "correction", "住所の番地が違います").outcome == "done"
    refused = relay.act(APP, token, "correction", "\x07")
    assert (refused.outcome, refused.rule) == ("refused", "characters")
    with world.net.municipality(INAGI).engine.connect() as conn:
        rows = conn.execute(sa.select(correction_requests)).all()
        entries = conn.execute(
            sa.select(oplog.c.action, oplog.c.outcome).where(oplog.c.role == "portal_relay")
        ).all()
    assert [(r.resident_code, r.text, r.status) for r in rows] == [
        (world.people["R"].resident_code, "住所の番地が違います", "open")
    ]
    assert ("file_correction_request", "rejected") in entries
    # the counter's queue (`juki portal corrections`): a clerk reads it, an auditor may not
    queue = list_corrections(world.net.municipality(INAGI).engine, CLERK)
    assert [q["text"] for q in queue] == ["住所の番地が違います"]
    with pytest.raises(PermissionDeniedError):
        list_corrections(world.net.municipality(INAGI).engine, AUDITOR)
    assert ("disclose_to_holder", "ok") in entries
    # the counter rejects it with a reason (the terminal's screen: test_corrections_terminal.py);
    # she reads the reason in the portal, and no one else sees her request
    assert [c.status for c in relay.disclosure(APP, token).corrections] == ["open"]
    uow = SqlUnitOfWork(world.net.municipality(INAGI).engine)
    reject_request(uow, CLERK, queue[0]["request_id"], "住民票の記載は届出のとおりです")
    (mine,) = relay.disclosure(APP, token).corrections
    assert (mine.status, mine.reason) == ("rejected", "住民票の記載は届出のとおりです")
    assert relay.disclosure(APP, _login(relay, world, "A")).corrections == ()


def test_a_wrong_pin_counts_toward_the_lock_and_a_foreign_signature_is_refused(
    world: World, relay: PortalRelay
) -> None:
    card = world.cards["L"]
    before = card.tries_left(KeyKind.AUTH)
    with pytest.raises(WrongPin):
        card.sign_auth("9999", relay.challenge())
    assert card.tries_left(KeyKind.AUTH) == before - 1
    challenge = relay.challenge()
    signature = world.cards["B"].sign_auth(PIN, challenge)  # B's key, L's certificate
    with pytest.raises(CardRefused):
        relay.login(APP, card.auth_certificate(), challenge, signature)
    card.sign_auth(PIN, relay.challenge())  # the right PIN restores the count
    assert card.tries_left(KeyKind.AUTH) == before


def test_an_ended_session_sees_nothing(world: World, relay: PortalRelay) -> None:
    token = _login(relay, world, "A")
    assert relay.end(APP, token)
    with pytest.raises(SessionEnded):
        relay.disclosure(APP, token)
    with pytest.raises(SessionEnded):
        relay.disclosure(APP, "x" * 43)


def test_only_the_national_relay_may_ask_a_municipality_or_a_prefecture(world: World) -> None:
    net = world.net
    nagano = next(n for n in net.municipalities() if n.node_id != INAGI)
    serial = world.cards["A"].card_serial
    asked = DisclosureRequest(request_id="r" * 43, card_serial=serial, lg_code=INAGI)
    with pytest.raises(QueryRefused) as refused:
        nagano.ask(INAGI, asked, DISCLOSURE_ANSWER)
    assert refused.value.reply.reason == "unauthorised"
    prefecture = net.national.directory().require(INAGI).parent
    assert prefecture is not None
    code = world.people["A"].resident_code
    about = IdentityDisclosureRequest(request_id="p" * 43, resident_code=code, lg_code=INAGI)
    with pytest.raises(QueryRefused) as refused:
        nagano.ask(prefecture, about, IDENTITY_DISCLOSURE_ANSWER)
    assert refused.value.reply.reason == "unauthorised"
    with net.municipality(INAGI).engine.connect() as conn:
        logged = conn.execute(
            sa.select(network_tables.net_refusals).where(
                network_tables.net_refusals.c.claimed_sender == nagano.node_id
            )
        ).all()
    assert logged


def test_a_card_of_no_resident_here_is_refused_by_the_municipality(
    world: World, relay: PortalRelay
) -> None:
    relay_session = relay.sessions.open("NO-SUCH-CARD", INAGI)[0]
    with pytest.raises(PortalRefused) as refused:
        relay.disclosure(APP, relay_session)
    assert refused.value.rule == "card_not_usable"


def test_a_person_under_a_support_measure_sees_everything_their_household_does_not(
    world: World, relay: PortalRelay
) -> None:
    """P is protected (DV) from her household's other member M. An operator opens the household
    and P's record: P sees both views, M neither (the household's view shows P), though M
    still sees the view of his own record. Both see their own identity and nothing of the
    other's."""
    p = arrive(world.net, "保護", "花子", "ハナコ", 21)
    m = arrive(world.net, "保護", "太郎", "タロウ", 21,
               JoinHousehold(p.household_id, Relationship.HUSBAND))  # fmt: skip
    world.net.run_until_quiet()
    world.cards["P"] = give_card(world.net, p, "INAGI-K021")
    world.cards["M"] = give_card(world.net, m, "INAGI-K022")
    inagi = world.net.municipality(INAGI)
    uow = lambda: SqlRegistryUnitOfWork(inagi.engine, clock=world.clock)  # noqa: E731
    supervisor = Actor("sup", Role.REGISTRY_SUPERVISOR, "T2")
    record_support_measure(uow(), supervisor, RecordSupportMeasure(
        SupportKind.DOMESTIC_VIOLENCE, world.clock.today(), (p.record_id,),
        (RestrainedParty("保護", "太郎"),), "相談機関の意見"))  # fmt: skip
    svc.household_view(uow(), CLERK, p.household_id)
    svc.get_record(uow(), CLERK, p.record_id)
    svc.get_record(uow(), CLERK, m.record_id)

    hers = relay.disclosure(APP, _login(relay, world, "P"))
    his = relay.disclosure(APP, _login(relay, world, "M"))
    assert len(hers.views) > len(his.views) >= 1
    assert {h.resident_code for lv in hers.levels for h in lv.holdings} == {p.resident_code}
    assert {h.resident_code for lv in his.levels for h in lv.holdings} == {m.resident_code}
    o = oplog.c
    with inagi.engine.connect() as conn:
        about_him = conn.execute(
            sa.select(sa.func.count()).where(
                (o.target == f"record:{m.record_id}") & (o.action == "view_record")
            )
        ).scalar_one()
    assert len(his.views) == about_him  # his own record's views, no household's
