"""Who may send what (`juki.network.authority`), tried on the demo network by its own nodes: each
message type, validly signed by a node without authority to send it, is refused, recorded and
does not stall the link; and a handler that fails for any reason makes a dead letter while the
next message on the link still arrives."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.network import pki, store
from juki.network import tables as network_tables
from juki.network.envelope import Envelope, uuid7
from juki.network.messages import (
    CURRENT_VERSION,
    FuhyoNotice,
    IdentityInfoBody,
    IdentityInfoChanged,
    IdentitySnapshot,
    MessageBody,
    MoveInNotice,
    MoveOutCertificateInfo,
    MoveOutWithdrawn,
    MyNumberAssigned,
    MyNumberRequest,
    OplogCheckpoint,
    ResidentCodeAllotment,
    ResidentCodeChanged,
    body_of,
    type_of,
)
from juki.network.transport import Reply, ReplyStatus
from juki.network.wide_area_messages import QUERY_SEQ, CertificateContentRequest
from juki.nodes.layout import DEMO_MUNICIPALITIES, demo_layout
from juki.nodes.memory import InProcessNetwork, build_network

INAGI, NISHITOKYO, FUJISAWA, NAGANO = "132250", "132292", "142051", "202011"
TOKYO, KANAGAWA = "130001", "140007"
AT = {
    INAGI: "東京都稲城市",
    NISHITOKYO: "東京都西東京市",
    FUJISAWA: "神奈川県藤沢市",
    NAGANO: "長野県長野市",
}
TODAY = date(2025, 4, 1)
_rng = random.Random(10)
_keys: dict[str, pki.PrivateKey] = {}  # each node's key, once the network is built


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessNetwork]:
    where = tmp_path_factory.mktemp("authority")
    network = _network(lambda node_id: f"sqlite:///{where}/{node_id}.db")
    _keys.update({node_id: node.identity.key for node_id, node in network.nodes.items()})
    yield network
    network.dispose()


def _network(url: Callable[[str], str]) -> InProcessNetwork:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(demo_layout(), url, clock, seed=11)
    for lg in DEMO_MUNICIPALITIES:
        network.national.allot(lg, 1_000)
    network.run_until_quiet()
    return network


def code() -> str:
    from juki.core.identifiers import ResidentCode

    return ResidentCode.complete(f"{_rng.randrange(10**9, 10**10):010d}").value


def identity(lg: str, resident_code: str | None = None, given: str = "太郎") -> IdentityInfoBody:
    return IdentityInfoBody(
        resident_code=resident_code or code(),
        my_number=None,
        family_name="権限",
        given_name=given,
        family_name_kana="ケンゲン",
        given_name_kana="タロウ",
        birth_date=date(1980, 1, 2),
        sex="male",
        address=AT[lg] + "中央1丁目1番1号",
        status="active",
        lg_code=lg,
        change_reason="move_in",
        changed_on=TODAY,
    )


def changes(lg: str) -> MessageBody:
    """identity_info_changes: two changes of `lg`'s residents."""
    from juki.network.identity_runs import IdentityInfoChanges

    return IdentityInfoChanges(lg_code=lg, changes=[identity(lg), identity(lg, given="次郎")])


def checkpoint(signer: str, about: str | None = None) -> OplogCheckpoint:
    """A checkpoint of `about`'s chain (default: the signer's own), signed by `signer`."""
    from juki.nodes.checkpoints import signed_bytes

    node_id, at = about or signer, "2025-04-01T09:00:00+09:00"
    key = _keys[signer]
    signature = base64.b64encode(pki.sign(key, signed_bytes(node_id, 0, "0" * 64, at))).decode()
    return OplogCheckpoint(
        node_id=node_id, seq=0, entry_hash="0" * 64, signed_at=at, signature=signature
    )


def fuhyo(sender: str, address_lg: str, honseki_lg: str) -> FuhyoNotice:
    return FuhyoNotice(
        resident_code=code(),
        family_name="権限",
        given_name="花子",
        family_name_kana="ケンゲン",
        given_name_kana="ハナコ",
        birth_date=date(1990, 3, 4),
        sex="female",
        honseki=AT[honseki_lg] + "本町1番地",
        koseki_head="権限一郎",
        address=AT[address_lg] + "中央2丁目2番2号",
        address_since=TODAY,
        status="active",
        change_reason="move_in",
        changed_on=TODAY,
        from_lg_code=sender,
    )


def fuhyo_identity(lg: str) -> MessageBody:
    """附票連携: one change of the 附票本人確認情報 of a 附票 kept by `lg`."""
    from juki.network.fuhyo_link_messages import FuhyoIdentityInfoBody, FuhyoIdentityInfoChanged

    info = FuhyoIdentityInfoBody(
        resident_code=code(),
        family_name="権限",
        given_name="三郎",
        family_name_kana="ケンゲン",
        given_name_kana="サブロウ",
        birth_date=date(1975, 5, 6),
        sex="male",
        address=AT[NISHITOKYO] + "田無町3番地",
        moved_abroad=True,
        abroad_country="カナダ",
        status="removed",
        lg_code=lg,
        change_reason="emigration",
        changed_on=TODAY,
    )
    return FuhyoIdentityInfoChanged(fuhyo_identity=info)


def fuhyo_snapshot(lg: str) -> MessageBody:
    from juki.network.fuhyo_link_messages import FuhyoIdentitySnapshot

    entry = fuhyo_identity(lg).fuhyo_identity  # type: ignore[attr-defined]
    return FuhyoIdentitySnapshot(lg_code=lg, snapshot_id="f-1", part=1, parts=1, entries=[entry])


def withdrawal(sender: str, resident_code: str | None = None) -> MoveOutWithdrawn:
    """転出取消 of a card-based move-out `sender` recorded, told to 藤沢市."""
    return MoveOutWithdrawn(
        resident_code=resident_code or code(),
        planned_on=TODAY,
        withdrawn_on=TODAY,
        reason="move_out_withdrawn",
        from_lg_code=sender,
        to_lg_code=FUJISAWA,
    )


def signed(
    net: InProcessNetwork,
    sender: str,
    recipient: str,
    message: MessageBody,
    seq: int,
    message_id: str | None = None,
) -> bytes:
    """`message` in an envelope signed with `sender`'s own key: a valid signature."""
    now = net.nodes[recipient].clock.now()
    name = type_of(message)
    return (
        Envelope(
            message_id=message_id or uuid7(now, _rng),
            message_type=name,
            schema_version=CURRENT_VERSION[name],
            sender=sender,
            recipient=recipient,
            created_at=now.isoformat(),
            seq=seq,
            body=body_of(message),
        )
        .signed(net.nodes[sender].identity.key)
        .to_bytes()
    )


def next_seq(net: InProcessNetwork, sender: str, recipient: str) -> int:
    with net.nodes[recipient].engine.connect() as conn:
        return store.last_received(conn, sender) + 1


def send(net: InProcessNetwork, sender: str, recipient: str, message: MessageBody) -> Reply:
    """Hand a validly signed `message` to the receiver with the next number on that link, as
    the sender's delivery worker would."""
    raw = signed(net, sender, recipient, message, next_seq(net, sender, recipient))
    return net.nodes[recipient].receiver.receive(raw)


def refusals(net: InProcessNetwork, node_id: str, sender: str) -> list[tuple[str, str]]:
    r = network_tables.net_refusals.c
    with net.nodes[node_id].engine.connect() as conn:
        rows = conn.execute(
            sa.select(r.reason, r.detail).where(r.claimed_sender == sender).order_by(r.refusal_id)
        )
        return [(row.reason, row.detail) for row in rows]


def kiosk_void(lg: str) -> MessageBody:
    from juki.network.kiosk_messages import KioskVoid

    return KioskVoid(request_id="r" * 43, card_serial="CARD-1", lg_code=lg, action="abandon")


# (message type's case, unauthorised sender, recipient, message, authorised follow-up on that link)
Maker = Callable[[], MessageBody]
FORGED: list[tuple[str, str, str, Maker, Maker | None]] = [
    (
        "identity_info_changed: another municipality's residents",
        NISHITOKYO,
        TOKYO,
        lambda: IdentityInfoChanged(identity=identity(INAGI)),
        lambda: IdentityInfoChanged(identity=identity(NISHITOKYO)),
    ),
    (
        "identity_info_changed: not the municipality's prefecture",
        KANAGAWA,
        "national",
        lambda: IdentityInfoChanged(identity=identity(INAGI)),
        lambda: IdentityInfoChanged(identity=identity(FUJISAWA)),
    ),
    (
        "identity_info_changed: a municipality straight to national",
        INAGI,
        "national",
        lambda: IdentityInfoChanged(identity=identity(INAGI)),
        lambda: MyNumberRequest(resident_code=code(), lg_code=INAGI),
    ),
    (
        "identity_info_changes: another municipality's residents",
        NISHITOKYO,
        TOKYO,
        lambda: changes(INAGI),
        lambda: changes(NISHITOKYO),
    ),
    (
        "identity_info_changes: not the municipality's prefecture",
        KANAGAWA,
        "national",
        lambda: changes(INAGI),
        lambda: changes(FUJISAWA),
    ),
    (
        "identity_info_changes: a municipality straight to national",
        INAGI,
        "national",
        lambda: changes(INAGI),
        lambda: MyNumberRequest(resident_code=code(), lg_code=INAGI),
    ),
    (
        "identity_snapshot: another municipality's residents",
        NISHITOKYO,
        TOKYO,
        lambda: IdentitySnapshot(
            lg_code=INAGI, snapshot_id="s-1", part=1, parts=1, entries=[identity(INAGI)]
        ),
        lambda: IdentityInfoChanged(identity=identity(NISHITOKYO)),
    ),
    (
        "fuhyo_identity_info_changed: another municipality's 附票",
        NISHITOKYO,
        TOKYO,
        lambda: fuhyo_identity(INAGI),
        lambda: fuhyo_identity(NISHITOKYO),
    ),
    (
        "fuhyo_identity_info_changed: not the 本籍 municipality's prefecture",
        KANAGAWA,
        "national",
        lambda: fuhyo_identity(INAGI),
        lambda: fuhyo_identity(FUJISAWA),
    ),
    (
        "fuhyo_identity_info_changed: a municipality straight to national",
        FUJISAWA,
        "national",
        lambda: fuhyo_identity(FUJISAWA),
        lambda: MyNumberRequest(resident_code=code(), lg_code=FUJISAWA),
    ),
    (
        "fuhyo_identity_snapshot: another municipality's 附票",
        NISHITOKYO,
        TOKYO,
        lambda: fuhyo_snapshot(INAGI),
        lambda: fuhyo_identity(NISHITOKYO),
    ),
    (
        "fuhyo_identity_snapshot: not the 本籍 municipality's prefecture",
        KANAGAWA,
        "national",
        lambda: fuhyo_snapshot(NISHITOKYO),
        lambda: fuhyo_identity(FUJISAWA),
    ),
    (
        "move_out_certificate_info: in another municipality's name",
        NISHITOKYO,
        FUJISAWA,
        lambda: MoveOutCertificateInfo(
            identity=identity(INAGI),
            destination_address=AT[FUJISAWA] + "鵠沼1番1号",
            planned_on=TODAY,
            from_lg_code=INAGI,
            to_lg_code=FUJISAWA,
        ),
        lambda: MoveOutCertificateInfo(
            identity=identity(NISHITOKYO),
            destination_address=AT[FUJISAWA] + "鵠沼1番1号",
            planned_on=TODAY,
            from_lg_code=NISHITOKYO,
            to_lg_code=FUJISAWA,
        ),
    ),
    (
        "move_out_withdrawn: in another municipality's name",
        NISHITOKYO,
        FUJISAWA,
        lambda: withdrawal(INAGI),
        lambda: withdrawal(NISHITOKYO),  # its own: nothing held, nothing to withdraw
    ),
    (
        "move_in_notice: for an address outside the sender's area",
        NAGANO,
        INAGI,
        lambda: MoveInNotice(
            resident_code=code(),
            family_name="権限",
            given_name="太郎",
            birth_date=date(1980, 1, 2),
            sex="male",
            previous_address=AT[INAGI] + "中央1丁目1番1号",
            new_address=AT[FUJISAWA] + "鵠沼1番1号",
            moved_on=TODAY,
            notified_on=TODAY,
            from_lg_code=INAGI,
            to_lg_code=NAGANO,
        ),
        lambda: fuhyo(NAGANO, NAGANO, INAGI),
    ),
    (
        "fuhyo_notice: from a municipality the person does not live in",
        FUJISAWA,
        INAGI,
        lambda: fuhyo(FUJISAWA, NAGANO, INAGI),
        lambda: fuhyo(FUJISAWA, FUJISAWA, INAGI),
    ),
    (
        "fuhyo_notice: to a municipality that is not the 本籍",
        FUJISAWA,
        INAGI,
        lambda: fuhyo(FUJISAWA, FUJISAWA, NISHITOKYO),
        lambda: fuhyo(FUJISAWA, FUJISAWA, INAGI),
    ),
    (
        "my_number_request: for another municipality's resident",
        NISHITOKYO,
        "national",
        lambda: MyNumberRequest(resident_code=code(), lg_code=INAGI),
        lambda: MyNumberRequest(resident_code=code(), lg_code=NISHITOKYO),
    ),
    (
        "my_number_assigned: not from national",
        TOKYO,
        INAGI,
        lambda: MyNumberAssigned(resident_code=code(), my_number="123456789018", lg_code=INAGI),
        None,  # a prefecture has nothing to send a municipality
    ),
    (
        "resident_code_changed: another municipality's resident",
        NISHITOKYO,
        TOKYO,
        lambda: ResidentCodeChanged(former_resident_code=code(), identity=identity(INAGI)),
        lambda: IdentityInfoChanged(identity=identity(NISHITOKYO)),
    ),
    (
        "resident_code_changed: a municipality straight to national",
        INAGI,
        "national",
        lambda: ResidentCodeChanged(former_resident_code=code(), identity=identity(INAGI)),
        lambda: MyNumberRequest(resident_code=code(), lg_code=INAGI),
    ),
    (
        # the rule's kinds and lg_code hold, but 稲城市 does not hold the resident (法第30条の4:
        # only the municipality where the person is a resident changes their code)
        "resident_code_changed: for a code the municipality does not hold",
        INAGI,
        TOKYO,
        lambda: ResidentCodeChanged(former_resident_code=code(), identity=identity(INAGI)),
        lambda: IdentityInfoChanged(identity=identity(INAGI)),
    ),
    (
        "resident_code_allotment: not from national",
        TOKYO,
        INAGI,
        lambda: ResidentCodeAllotment(lg_code=INAGI, codes=[code(), code()]),
        None,
    ),
    (
        "oplog_checkpoint: to a prefecture that is not the sender's parent",
        NISHITOKYO,
        KANAGAWA,
        lambda: checkpoint(NISHITOKYO),
        None,  # a municipality sends nothing to another prefecture
    ),
    (
        "oplog_checkpoint: of another node's log",
        TOKYO,
        "national",
        lambda: checkpoint(TOKYO, about=INAGI),
        lambda: checkpoint(TOKYO),
    ),
    (
        "resident_code_allotment: a municipality to another",
        NISHITOKYO,
        INAGI,
        lambda: ResidentCodeAllotment(lg_code=INAGI, codes=[code(), code()]),
        lambda: fuhyo(NISHITOKYO, NISHITOKYO, INAGI),
    ),
    (
        "kiosk_void: from a municipality, not the relay",
        FUJISAWA,
        INAGI,
        lambda: kiosk_void(INAGI),
        None,
    ),
    (
        "kiosk_void: the relay, naming another municipality",
        "national",
        INAGI,
        lambda: kiosk_void(FUJISAWA),
        None,
    ),
]


@pytest.mark.parametrize(
    ("case", "sender", "recipient", "forged", "follow_up"), FORGED, ids=[c[0] for c in FORGED]
)
def test_a_message_from_a_node_without_authority_is_refused_recorded_and_the_link_goes_on(
    net: InProcessNetwork,
    case: str,
    sender: str,
    recipient: str,
    forged: Callable[[], MessageBody],
    follow_up: Callable[[], MessageBody] | None,
) -> None:
    before = net.nodes[recipient].status()
    message = forged()
    reply = send(net, sender, recipient, message)

    assert (reply.status, reply.reason) == (ReplyStatus.REFUSED, "unauthorised"), reply
    reason, detail = refusals(net, recipient, sender)[-1]
    assert reason == "unauthorised"
    assert detail.startswith(type_of(message) + ": ")
    assert net.nodes[recipient].status()["dead_letters"] == before["dead_letters"]
    if follow_up is not None:
        assert send(net, sender, recipient, follow_up()).status is ReplyStatus.APPLIED


def test_every_message_type_has_a_forged_case_or_a_reason_it_has_none() -> None:
    from juki.network.messages import SCHEMAS

    forged = {type_of(c[3]()) for c in FORGED} | {"link_skip"}  # any node, about its own link
    queries = {  # tested below
        "certificate_content_request",
        "certificate_content_response",
        "card_certificate_request",
        "card_certificate_response",
        "kiosk_key_request",
        "kiosk_key_response",
        "kiosk_request",
        "kiosk_answer",
        "kiosk_offer_request",
        "kiosk_offer",
        "disclosure_request",
        "disclosure_answer",
        "identity_disclosure_request",
        "identity_disclosure_answer",
        "portal_action_request",
        "portal_action_answer",
    }
    assert forged | queries == {name for name, _v in SCHEMAS}


def test_a_refused_message_is_a_dead_letter_at_its_sender_and_nothing_stalls(
    net: InProcessNetwork,
) -> None:
    """Through the real delivery path: the sender's worker signs and sends; the refusal is
    permanent, so the sender keeps it as a dead letter and the link goes on."""
    kanagawa = net.nodes[KANAGAWA]  # a link no test here numbers by hand
    with kanagawa.engine.begin() as conn:
        kanagawa.send(
            conn,
            FUJISAWA,
            ResidentCodeAllotment(lg_code=FUJISAWA, codes=[code(), code()]),
        )
    net.run_until_quiet()
    assert net.pending() == 0
    d = network_tables.net_dead_letters.c
    with kanagawa.engine.connect() as conn:
        reasons = (
            conn.execute(sa.select(d.reason).where((d.direction == "out") & (d.peer == FUJISAWA)))
            .scalars()
            .all()
        )
    assert reasons == ["unauthorised"]
    assert refusals(net, FUJISAWA, KANAGAWA)[-1][0] == "unauthorised"


def test_a_move_in_notice_only_from_the_recorded_destination_and_for_the_person_recorded(
    net: InProcessNetwork,
) -> None:
    """長野市 may confirm moves to 長野市, not a 稲城市 resident's move to 藤沢市; and 藤沢市's
    notice names the person by the four items the 稲城市 record holds (法第9条第1項)."""
    from juki.registry import services as svc
    from juki.registry.commands import (
        MoveInOrigin,
        NewHousehold,
        PersonalItems,
        RecordMoveIn,
        RecordMoveOut,
    )
    from juki.registry.model import Sex
    from juki.registry.uow import SqlRegistryUnitOfWork
    from juki.security.actors import Actor
    from juki.security.permissions import Role

    clerk = Actor("clerk", Role.COUNTER_CLERK, "T1")
    inagi = net.municipality(INAGI)
    uow = SqlRegistryUnitOfWork(inagi.engine, clock=inagi.clock)
    person = svc.record_move_in(
        uow,
        clerk,
        RecordMoveIn(
            person=PersonalItems(
                family_name="移動",
                given_name="次郎",
                family_name_kana="イドウ",
                given_name_kana="ジロウ",
                birth_date=date(1985, 5, 6),
                sex=Sex.MALE,
                honseki="東京都稲城市東長沼1番地",
                koseki_head="移動　次郎",
            ),
            origin=MoveInOrigin.ABROAD,
            address=AT[INAGI] + "東長沼2111番地",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="アメリカ合衆国",
            placement=NewHousehold(),
        ),
    )
    svc.record_move_out(
        uow,
        clerk,
        RecordMoveOut(
            record_ids=(person.record_id,),
            destination_address=AT[FUJISAWA] + "鵠沼石上1丁目1番1号",
            planned_on=TODAY,
            notified_on=TODAY,
        ),
    )
    notice: dict[str, Any] = {
        "resident_code": person.resident_code,
        "family_name": "移動",
        "given_name": "次郎",
        "birth_date": date(1985, 5, 6),
        "sex": "male",
        "previous_address": AT[INAGI] + "東長沼2111番地",
        "moved_on": TODAY,
        "notified_on": TODAY,
        "from_lg_code": INAGI,
    }
    reply = send(
        net,
        NAGANO,
        INAGI,
        MoveInNotice(new_address=AT[NAGANO] + "鶴賀1番1号", to_lg_code=NAGANO, **notice),
    )
    assert (reply.status, reply.reason) == (ReplyStatus.REFUSED, "unauthorised")
    assert "recorded" in refusals(net, INAGI, NAGANO)[-1][1]
    assert svc.get_record(uow, clerk, person.record_id).move_out_confirmed_address is None

    # 転入通知の照合: the four items must be the record's, or the notice is refused with a reason
    arrived = {"new_address": AT[FUJISAWA] + "鵠沼石上1丁目1番1号", "to_lg_code": FUJISAWA}
    wrong = notice | {"birth_date": date(1985, 6, 5), "given_name": "二郎"}
    reply = send(net, FUJISAWA, INAGI, MoveInNotice(**arrived, **wrong))
    assert (reply.status, reply.reason) == (ReplyStatus.DEAD_LETTER, "four_items_mismatch")
    assert "名、出生の年月日" in reply.detail
    d = network_tables.net_dead_letters.c
    with inagi.engine.connect() as conn:
        kept = conn.execute(
            sa.select(d.reason, d.detail).where((d.peer == FUJISAWA) & (d.direction == "in"))
        ).all()
    assert [k.reason for k in kept] == ["four_items_mismatch"]
    assert "given_name, birth_date" in kept[0].detail
    assert svc.get_record(uow, clerk, person.record_id).move_out_confirmed_address is None

    reply = send(net, FUJISAWA, INAGI, MoveInNotice(**arrived, **notice))
    assert reply.status is ReplyStatus.APPLIED
    assert svc.get_record(uow, clerk, person.record_id).move_out_confirmed_address


def test_a_move_out_withdrawal_only_from_the_municipality_whose_information_is_held(
    net: InProcessNetwork,
) -> None:
    """藤沢市 holds 稲城市's 転出証明書情報: 西東京市, though signing its own withdrawal, may not
    withdraw it; 稲城市 may, and information a 特例転入 already took stays, a dead letter."""
    from juki.registry.tables import move_out_infos

    def info(resident_code: str) -> MoveOutCertificateInfo:
        return MoveOutCertificateInfo(
            identity=identity(INAGI, resident_code),
            destination_address=AT[FUJISAWA] + "鵠沼1番1号",
            planned_on=TODAY,
            from_lg_code=INAGI,
            to_lg_code=FUJISAWA,
        )

    def withdrawn_on(resident_code: str) -> list[date | None]:
        m = move_out_infos.c
        with net.nodes[FUJISAWA].engine.connect() as conn:
            query = sa.select(m.withdrawn_on).where(m.resident_code == resident_code)
            return list(conn.execute(query).scalars())

    held, taken = code(), code()
    for c in (held, taken):
        assert send(net, INAGI, FUJISAWA, info(c)).status is ReplyStatus.APPLIED
    reply = send(net, NISHITOKYO, FUJISAWA, withdrawal(NISHITOKYO, held))
    assert (reply.status, reply.reason) == (ReplyStatus.REFUSED, "unauthorised")
    assert "no move-out information" in refusals(net, FUJISAWA, NISHITOKYO)[-1][1]
    assert withdrawn_on(held) == [None]
    assert send(net, INAGI, FUJISAWA, withdrawal(INAGI, held)).status is ReplyStatus.APPLIED
    assert withdrawn_on(held) == [TODAY]

    m = move_out_infos.c
    with net.nodes[FUJISAWA].engine.begin() as conn:  # a 特例転入 took it meanwhile
        conn.execute(
            move_out_infos.update().where(m.resident_code == taken).values(used_at="2025-04-01")
        )
    reply = send(net, INAGI, FUJISAWA, withdrawal(INAGI, taken))
    assert (reply.status, reply.reason) == (ReplyStatus.DEAD_LETTER, "move_out_info_used")
    assert withdrawn_on(taken) == [None]


def _ask(net: InProcessNetwork, asker: str, asked: str, request: CertificateContentRequest) -> Any:
    return net.nodes[asked].answer(signed(net, asker, asked, request, QUERY_SEQ))


@pytest.mark.parametrize(
    ("asker", "claimed", "asked"),
    [(NISHITOKYO, FUJISAWA, INAGI), (TOKYO, TOKYO, INAGI), (NISHITOKYO, NISHITOKYO, FUJISAWA)],
    ids=["in another's name", "a prefecture", "of the wrong municipality"],
)
def test_a_certificate_query_from_a_node_without_authority_is_refused_and_recorded(
    net: InProcessNetwork, asker: str, claimed: str, asked: str
) -> None:
    request = CertificateContentRequest(
        resident_code=code(),
        members="all",
        items=[],
        from_lg_code=claimed,
        to_lg_code=INAGI,
        operator_id="clerk",
    )
    answer = _ask(net, asker, asked, request)
    assert isinstance(answer, Reply)
    assert (answer.status, answer.reason) == (ReplyStatus.REFUSED, "unauthorised")
    assert refusals(net, asked, asker)[-1][0] == "unauthorised"


@pytest.mark.parametrize(
    ("asker", "claimed", "asked"),
    [(NISHITOKYO, FUJISAWA, "national"), (TOKYO, TOKYO, "national"), (FUJISAWA, FUJISAWA, INAGI)],
    ids=["in another's name", "a prefecture", "a municipality asked"],
)
def test_a_card_ca_query_from_a_node_without_authority_is_refused_and_recorded(
    net: InProcessNetwork, asker: str, claimed: str, asked: str
) -> None:
    from juki.network.card_messages import CardCertificateRequest

    request = CardCertificateRequest(
        action="revoke", card_serial="CARD-1", resident_code=code(), lg_code=claimed, reason="lost"
    )
    answer = _ask(net, asker, asked, request)
    assert isinstance(answer, Reply)
    assert answer.status is ReplyStatus.REFUSED
    assert answer.reason in {"unauthorised", "unhandled"}
    assert refusals(net, asked, asker)[-1][0] == answer.reason
    if asked == "national":
        assert answer.reason == "unauthorised"


@pytest.mark.parametrize(
    ("signer", "to", "reason"),
    [(INAGI, FUJISAWA, "unexpected_answer"), ("national", INAGI, "unauthorised")],
    ids=["signed by a municipality", "national, answered to another"],
)
def test_a_card_ca_answer_without_authority_is_refused_and_recorded(
    net: InProcessNetwork, signer: str, to: str, reason: str
) -> None:
    """Only national answers for the card CA, and only to the municipality that asked: a
    validly signed answer otherwise is refused and recorded by the asker."""
    from juki.network.card_messages import CardCertificateRequest, CardCertificateResponse
    from juki.nodes.queries import AnswerRejected

    fujisawa = net.municipality(FUJISAWA)

    class Forging:
        def query(self, peer: str, endpoint: str, raw: bytes) -> bytes:
            question = Envelope.from_bytes(raw)
            forged = CardCertificateResponse(
                request_id=question.message_id,
                card_serial="CARD-1",
                resident_code=question.body["resident_code"],
                lg_code=to,
                outcome="done",
                revoked=1,
            )
            return signed(net, signer, FUJISAWA, forged, QUERY_SEQ)

    saved = fujisawa.query_transport
    fujisawa.query_transport = Forging()
    try:
        request = CardCertificateRequest(
            action="revoke",
            card_serial="CARD-1",
            resident_code=code(),
            lg_code=FUJISAWA,
            reason="lost",
        )
        with pytest.raises(AnswerRejected) as caught:
            fujisawa.ask("national", request, "card_certificate_response")
    finally:
        fujisawa.query_transport = saved
    assert caught.value.reason == reason
    assert refusals(net, FUJISAWA, signer)[-1][0] == reason


def test_an_answer_from_a_node_that_was_not_asked_is_refused(net: InProcessNetwork) -> None:
    """An answer signed by the node asked, but naming another municipality's record (or
    addressed to another asker), is not taken."""
    from juki.network.wide_area_messages import CertificateContentResponse
    from juki.nodes.queries import AnswerRejected

    fujisawa = net.municipality(FUJISAWA)

    class Forging:
        def query(self, peer: str, endpoint: str, raw: bytes) -> bytes:
            question = Envelope.from_bytes(raw)
            forged = CertificateContentResponse(
                request_id=question.message_id,
                resident_code=question.body["resident_code"],
                from_lg_code=NISHITOKYO,  # not who answers
                to_lg_code=FUJISAWA,
                outcome="refused",
                rule="no_record",
                message_en="none",
                message_ja="なし",
            )
            return signed(net, INAGI, FUJISAWA, forged, QUERY_SEQ)

    saved = fujisawa.query_transport
    fujisawa.query_transport = Forging()
    try:
        request = CertificateContentRequest(
            resident_code=code(),
            members="all",
            items=[],
            from_lg_code=FUJISAWA,
            to_lg_code=INAGI,
            operator_id="clerk",
        )
        with pytest.raises(AnswerRejected) as caught:
            fujisawa.ask(INAGI, request, "certificate_content_response")
    finally:
        fujisawa.query_transport = saved
    assert caught.value.reason == "unauthorised"
    assert refusals(net, FUJISAWA, INAGI)[-1][0] == "unauthorised"


# -- a handler that fails, for any reason, makes a dead letter; the link goes on ---------------


def allotment() -> ResidentCodeAllotment:
    return ResidentCodeAllotment(lg_code=INAGI, codes=[code() for _ in range(10)])


def _authorised(sender: str) -> Callable[[], MessageBody]:
    return lambda: IdentityInfoChanged(identity=identity(sender))


@pytest.fixture
def own_net(node_db_url: Callable[[str], str]) -> Iterator[InProcessNetwork]:
    network = _network(node_db_url)
    yield network
    network.dispose()


FAILURES: list[tuple[str, Callable[[], Exception]]] = [
    ("a bug", lambda: ZeroDivisionError("division by zero")),
    ("a missing key", lambda: KeyError("family_name")),
    (
        "a constraint the message breaks",
        lambda: sa.exc.IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed")),
    ),
]


@pytest.mark.parametrize(("what", "failure"), FAILURES, ids=[f[0] for f in FAILURES])
def test_a_handler_failure_becomes_a_dead_letter_and_later_messages_still_arrive(
    net: InProcessNetwork, what: str, failure: Callable[[], Exception]
) -> None:
    """Each kind of receiving node, each message type it takes."""
    cases: list[tuple[str, str, Callable[[], MessageBody]]] = [
        (NISHITOKYO, TOKYO, _authorised(NISHITOKYO)),
        (TOKYO, "national", _authorised(NISHITOKYO)),
        (NISHITOKYO, "national", lambda: MyNumberRequest(resident_code=code(), lg_code=NISHITOKYO)),
        (FUJISAWA, INAGI, lambda: fuhyo(FUJISAWA, FUJISAWA, INAGI)),
        ("national", INAGI, allotment),
        (INAGI, FUJISAWA, lambda: withdrawal(INAGI)),
    ]
    for sender, recipient, message in cases:
        receiver = net.nodes[recipient].receiver
        first, second = message(), message()
        name = type_of(first)
        handler = receiver.handlers[name]

        def failing(conn: sa.Connection, env: Envelope, body: Any) -> None:
            raise failure()

        receiver.handlers[name] = failing
        try:
            reply = send(net, sender, recipient, first)
        finally:
            receiver.handlers[name] = handler
        assert reply.status is ReplyStatus.DEAD_LETTER, (name, reply)
        assert reply.reason == type(failure()).__name__
        assert send(net, sender, recipient, second).status is ReplyStatus.APPLIED, name


def _codes(history: list[dict[str, Any]]) -> set[str]:
    return {row["resident_code"] for row in history}


def test_a_failing_handler_rolls_back_only_its_own_writes(
    own_net: InProcessNetwork,
) -> None:
    """A handler that wrote and then broke a constraint: its writes are undone (the
    savepoint), the dead letter and the inbox row are kept, and the link goes on."""
    inagi = own_net.municipality(INAGI)
    receiver = inagi.receiver
    handler = receiver.handlers["fuhyo_notice"]

    def write_then_fail(conn: sa.Connection, env: Envelope, body: Any) -> None:
        handler(conn, env, body)
        conn.execute(sa.text("INSERT INTO net_state (key, value) VALUES ('x', '1')"))
        conn.execute(sa.text("INSERT INTO net_state (key, value) VALUES ('x', '2')"))

    receiver.handlers["fuhyo_notice"] = write_then_fail
    try:
        first = fuhyo(FUJISAWA, FUJISAWA, INAGI)
        reply = send(own_net, FUJISAWA, INAGI, first)
    finally:
        receiver.handlers["fuhyo_notice"] = handler
    assert (reply.status, reply.reason) == (ReplyStatus.DEAD_LETTER, "IntegrityError")
    from juki.registry.store.journal import fuhyo_history

    with inagi.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM net_state WHERE key = 'x'")).scalar() == 0
        assert _codes(fuhyo_history(conn, first.honseki, first.koseki_head)) == set()
    second = fuhyo(FUJISAWA, FUJISAWA, INAGI)
    assert send(own_net, FUJISAWA, INAGI, second).status is ReplyStatus.APPLIED
    with inagi.engine.connect() as conn:
        assert _codes(fuhyo_history(conn, second.honseki, second.koseki_head)) == {
            second.resident_code
        }


def test_duplicates_are_keyed_on_sender_and_message_id(net: InProcessNetwork) -> None:
    """Another node reusing a message id it saw is not taken for a duplicate of the first:
    its message is judged on its own link (and here refused, as it has no authority)."""
    tokyo = net.nodes[TOKYO]
    message = IdentityInfoChanged(identity=identity(NISHITOKYO))
    message_id = uuid7(tokyo.clock.now(), _rng)

    def envelope(sender: str) -> bytes:
        seq = next_seq(net, sender, TOKYO)
        return signed(net, sender, TOKYO, message, seq, message_id)

    raw = envelope(NISHITOKYO)
    assert tokyo.receiver.receive(raw).status is ReplyStatus.APPLIED
    assert tokyo.receiver.receive(raw).status is ReplyStatus.DUPLICATE
    reply = tokyo.receiver.receive(envelope(INAGI))
    assert (reply.status, reply.reason) == (ReplyStatus.REFUSED, "unauthorised")


def _kiosk_request(lg: str) -> MessageBody:
    from juki.network.kiosk_messages import KioskRelayRequest

    return KioskRelayRequest(
        request_id="q" * 43,
        card_serial="CARD-1",
        lg_code=lg,
        store_id="STORE-1",
        session_key="A" * 43 + "=",
        sealed_request="A" * 40,
    )


@pytest.mark.parametrize(
    ("asker", "asked", "question"),
    [
        (FUJISAWA, INAGI, lambda: _kiosk_request(INAGI)),
        (TOKYO, INAGI, lambda: _kiosk_request(INAGI)),
        ("national", INAGI, lambda: _kiosk_request(FUJISAWA)),
        (FUJISAWA, INAGI, lambda: _disclosure_request(INAGI)),
        (TOKYO, INAGI, lambda: _disclosure_request(INAGI)),
        ("national", INAGI, lambda: _disclosure_request(FUJISAWA)),
        (FUJISAWA, INAGI, lambda: _portal_action(INAGI)),
        (INAGI, TOKYO, lambda: _identity_disclosure(INAGI)),
        ("national", TOKYO, lambda: _identity_disclosure(FUJISAWA)),
        (FUJISAWA, INAGI, lambda: _key_request(INAGI)),
        ("national", INAGI, lambda: _key_request(NISHITOKYO)),
        (FUJISAWA, INAGI, lambda: _offer_request(INAGI)),
        (TOKYO, INAGI, lambda: _offer_request(INAGI)),
        ("national", INAGI, lambda: _offer_request(NISHITOKYO)),
    ],
    ids=[
        "kiosk_request from a municipality",
        "kiosk_request from a prefecture",
        "kiosk_request naming another municipality",
        "disclosure_request from a municipality",
        "disclosure_request from a prefecture",
        "disclosure_request naming another municipality",
        "portal_action_request from a municipality",
        "identity_disclosure_request from a municipality",
        "identity_disclosure_request about another prefecture's resident",
        "kiosk_key_request from a municipality",
        "kiosk_key_request naming another municipality",
        "kiosk_offer_request from a municipality",
        "kiosk_offer_request from a prefecture",
        "kiosk_offer_request naming another municipality",
    ],
)
def test_a_kiosk_query_from_a_node_without_authority_is_refused_and_recorded(
    net: InProcessNetwork, asker: str, asked: str, question: Callable[[], MessageBody]
) -> None:
    """Only the national relay asks a municipality for its kiosk key, its kiosk offer or a
    kiosk certificate, and only of the municipality it names."""
    answer = net.nodes[asked].answer(signed(net, asker, asked, question(), QUERY_SEQ))
    assert isinstance(answer, Reply)
    assert (answer.status, answer.reason) == (ReplyStatus.REFUSED, "unauthorised")
    assert refusals(net, asked, asker)[-1][0] == "unauthorised"


def _disclosure_request(lg: str) -> MessageBody:
    from juki.network.disclosure_messages import DisclosureRequest

    return DisclosureRequest(request_id="d" * 43, card_serial="CARD-1", lg_code=lg)


def _portal_action(lg: str) -> MessageBody:
    from juki.network.disclosure_messages import PortalActionRequest

    return PortalActionRequest(
        request_id="a" * 43, card_serial="CARD-1", lg_code=lg, action="register_self_notice"
    )


def _identity_disclosure(lg: str) -> MessageBody:
    from juki.network.disclosure_messages import IdentityDisclosureRequest

    return IdentityDisclosureRequest(request_id="i" * 43, resident_code="1" * 11, lg_code=lg)


def _key_request(lg: str) -> MessageBody:
    from juki.network.kiosk_messages import KioskKeyRequest

    return KioskKeyRequest(lg_code=lg)


def _offer_request(lg: str) -> MessageBody:
    from juki.network.kiosk_messages import KioskOfferRequest

    return KioskOfferRequest(lg_code=lg)


def _kiosk_answer(question: Envelope, lg: str) -> MessageBody:
    from juki.network.kiosk_messages import KioskKeyResponse, KioskOfferAnswer, KioskRelayAnswer

    if question.message_type == "kiosk_offer_request":
        return KioskOfferAnswer(lg_code=lg, status="closed_day", opens="06:30", closes="23:00")
    if question.message_type == "disclosure_request":
        from juki.network.disclosure_messages import DisclosureAnswer

        return DisclosureAnswer(
            request_id=question.body["request_id"],
            card_serial=question.body["card_serial"],
            lg_code=lg,
            resident_code="1" * 11,
            holdings=(),
            certificates=(),
            views=(),
            notices=(),
            self_notice_registered=False,
        )
    if question.message_type == "kiosk_key_request":
        return KioskKeyResponse(
            lg_code=lg, public_key="A" * 43 + "=", signature="A" * 12, node_certificate="x" * 64
        )
    return KioskRelayAnswer(
        request_id=question.body["request_id"],
        card_serial=question.body["card_serial"],
        lg_code=lg,
        outcome="refused",
        sealed_answer="A" * 40,
    )


@pytest.mark.parametrize(
    "answer_type", ["kiosk_key_response", "kiosk_answer", "kiosk_offer", "disclosure_answer"]
)
@pytest.mark.parametrize(
    ("signer", "claimed", "reason"),
    [(FUJISAWA, FUJISAWA, "unexpected_answer"), (INAGI, FUJISAWA, "unauthorised")],
    ids=["signed by a municipality not asked", "in another municipality's name"],
)
def test_a_kiosk_answer_without_authority_is_refused_and_recorded(
    net: InProcessNetwork, answer_type: str, signer: str, claimed: str, reason: str
) -> None:
    """Only the municipality the relay asked answers it, as itself: a validly signed answer
    otherwise is refused and recorded by the relay."""
    from juki.nodes.queries import AnswerRejected

    national = net.national

    class Forging:
        def query(self, peer: str, endpoint: str, raw: bytes) -> bytes:
            question = Envelope.from_bytes(raw)
            return signed(net, signer, "national", _kiosk_answer(question, claimed), QUERY_SEQ)

    question = {
        "kiosk_key_response": _key_request,
        "kiosk_offer": _offer_request,
        "disclosure_answer": _disclosure_request,
    }.get(answer_type, _kiosk_request)(INAGI)
    saved = national.query_transport
    national.query_transport = Forging()
    try:
        with pytest.raises(AnswerRejected) as caught:
            national.ask(INAGI, question, answer_type)
    finally:
        national.query_transport = saved
    assert caught.value.reason == reason
    assert refusals(net, "national", signer)[-1][0] == reason
