"""What a municipality's CS decides about another municipality's word on a move
(`juki.nodes.moves`), tried where it is decided, on 稲城市's and 藤沢市's own migrated databases
in an in-process network: a move-in notice (転入通知) is taken only from the destination the
move-out recorded and only for the person the record names (the four items); a withdrawn
card-based move-out (転出取消) only from the municipality whose 転出証明書情報 is held, and
only while no 特例転入 took it. Then, through the receiver, how each refusal is recorded."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.core.errors import DomainRuleError
from juki.core.identifiers import ResidentCode
from juki.network import store
from juki.network import tables as network_tables
from juki.network.authority import NotAuthorised
from juki.network.envelope import Envelope, uuid7
from juki.network.messages import (
    MOVE_IN_NOTICE,
    MessageBody,
    MoveInNotice,
    MoveInNoticeV1,
    MoveOutCertificateInfo,
    MoveOutWithdrawn,
    body_of,
)
from juki.network.transport import Reply, ReplyStatus
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.moves import check_move_in_notice, withdraw_move_out
from juki.registry import services as svc
from juki.registry.commands import (
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
    RecordMoveOut,
)
from juki.registry.model import ResidentRecord, Sex
from juki.registry.store.journal import SqlMoveOutInfos, keep_move_out_info
from juki.registry.tables import move_out_infos
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from support.identities import identity_info

CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
INAGI, FUJISAWA, NAGANO = "132250", "142051", "202011"
HOME = "東京都稲城市東長沼2111番地"
NEW_HOME = {
    FUJISAWA: "神奈川県藤沢市鵠沼石上1丁目1番1号",
    NAGANO: "長野県長野市大字鶴賀1番地",
}
TODAY = date(2025, 4, 1)
PLANNED = date(2025, 4, 5)
_codes = itertools.count(1)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessNetwork]:
    """稲城市, 藤沢市 and 長野市 with their prefectures and national; 稲城市 has codes to give.
    Each test moves people of its own, so the tests share it in any order."""
    where = tmp_path_factory.mktemp("moves")
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(
        small_layout(), lambda node_id: f"sqlite:///{where}/{node_id}.db", clock, seed=17
    )
    network.national.allot(INAGI, 200)
    network.run_until_quiet()
    yield network
    network.dispose()


def uow(net: InProcessNetwork) -> SqlRegistryUnitOfWork:
    inagi = net.municipality(INAGI)
    return SqlRegistryUnitOfWork(inagi.engine, clock=inagi.clock)


def resident(net: InProcessNetwork, given: str, given_kana: str) -> ResidentRecord:
    """Someone who moved in to 稲城市 from abroad: 移動 <given>, born 1985-05-06."""
    return svc.record_move_in(
        uow(net),
        CLERK,
        RecordMoveIn(
            person=PersonalItems("移動", given, "イドウ", given_kana, date(1985, 5, 6), Sex.MALE),
            origin=MoveInOrigin.ABROAD,
            address=HOME,
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="アメリカ合衆国",
            placement=NewHousehold(),
        ),
    )


def moved_out(
    net: InProcessNetwork, given: str, given_kana: str, to: str = NEW_HOME[FUJISAWA]
) -> ResidentRecord:
    """A 稲城市 resident whose 転出届 names `to` as where they go (転出予定)."""
    person = resident(net, given, given_kana)
    [after] = svc.record_move_out(
        uow(net), CLERK, RecordMoveOut((person.record_id,), to, TODAY, TODAY)
    )
    return after


def notice(record: ResidentRecord, to: str = FUJISAWA, **changed: Any) -> MoveInNotice:
    """The 転入通知 `to` sends for `record`, with its four items as the record has them."""
    fields: dict[str, Any] = {
        "resident_code": record.resident_code,
        "family_name": record.family_name,
        "given_name": record.given_name,
        "birth_date": record.birth_date,
        "sex": record.sex.value,
        "previous_address": record.address,
        "new_address": NEW_HOME[to],
        "moved_on": TODAY,
        "notified_on": TODAY,
        "from_lg_code": INAGI,
        "to_lg_code": to,
    }
    return MoveInNotice(**(fields | changed))


def notice_v1(record: ResidentRecord, to: str = FUJISAWA) -> MoveInNoticeV1:
    """The same notice as a node not yet upgraded sends it: no four items."""
    return MoveInNoticeV1(
        resident_code=record.resident_code,
        new_address=NEW_HOME[to],
        moved_on=TODAY,
        notified_on=TODAY,
        from_lg_code=INAGI,
        to_lg_code=to,
    )


def check(net: InProcessNetwork, sender: str, told: MoveInNotice | MoveInNoticeV1) -> None:
    """稲城市's CS checks a move-in notice `sender` signed."""
    inagi = net.municipality(INAGI)
    with inagi.engine.connect() as conn:
        check_move_in_notice(conn, inagi.directory(), sender, told)


# -- 転入通知: from the destination recorded, for the person recorded -------------------------


def test_move_in_notice_from_the_recorded_destination_with_the_four_items_is_accepted(
    net: InProcessNetwork,
) -> None:
    record = moved_out(net, "一郎", "イチロウ")
    check(net, FUJISAWA, notice(record))  # no refusal


def test_move_in_notice_from_another_municipality_is_not_authorised(
    net: InProcessNetwork,
) -> None:
    """長野市 may confirm moves to 長野市 only: this one was to 藤沢市."""
    record = moved_out(net, "二郎", "ジロウ")
    with pytest.raises(NotAuthorised) as refused:
        check(net, NAGANO, notice(record, to=NAGANO))
    assert refused.value.detail == f"{NAGANO} is not the destination the move-out recorded"


def test_move_in_notice_from_the_municipality_of_the_old_address_is_not_authorised(
    net: InProcessNetwork,
) -> None:
    """Not even 稲城市 itself confirms a move it recorded as going to 藤沢市."""
    record = moved_out(net, "三郎", "サブロウ")
    with pytest.raises(NotAuthorised):
        check(net, INAGI, notice(record))


def test_move_in_notice_for_a_move_out_to_outside_the_network_is_not_authorised(
    net: InProcessNetwork,
) -> None:
    """A destination no municipality of the directory covers: no sender is the recorded one."""
    record = moved_out(net, "四郎", "シロウ", to="大阪府大阪市北区中之島1丁目3番20号")
    for sender in (FUJISAWA, NAGANO):
        with pytest.raises(NotAuthorised):
            check(net, sender, notice(record, to=sender))


def test_move_in_notice_for_a_resident_code_not_held_is_left_to_the_service(
    net: InProcessNetwork,
) -> None:
    """Nothing to check a sender against: no refusal here, whoever sends it (confirming the
    move-out then fails: see the receiver test below)."""
    record = moved_out(net, "五郎", "ゴロウ")
    unknown = ResidentCode.complete("9999999990").value
    assert unknown != record.resident_code
    for sender in (FUJISAWA, NAGANO):
        check(net, sender, notice(record, to=sender, resident_code=unknown))


def test_move_in_notice_for_a_resident_who_did_not_move_out_is_left_to_the_service(
    net: InProcessNetwork,
) -> None:
    """An active resident has no recorded destination: the check has nothing to decide."""
    person = resident(net, "六郎", "ロクロウ")
    check(net, NAGANO, notice(person, to=NAGANO))


def test_move_in_notice_for_a_resident_who_moved_abroad_is_left_to_the_service(
    net: InProcessNetwork,
) -> None:
    """国外転出 records a destination too, but it is no move-out a municipality confirms."""
    person = resident(net, "六助", "ロクスケ")
    svc.record_move_out(
        uow(net), CLERK, RecordMoveOut((person.record_id,), "アメリカ合衆国", TODAY, TODAY, True)
    )
    check(net, NAGANO, notice(person, to=NAGANO))


# (the item, the notice's field, a value that disagrees, the item's name in Japanese)
ITEMS = [
    ("family_name", "family_name", "別人", "氏"),
    ("given_name", "given_name", "別名", "名"),
    ("birth_date", "birth_date", date(1985, 6, 5), "出生の年月日"),
    ("sex", "sex", "female", "男女の別"),
    ("address", "previous_address", "東京都稲城市東長沼1番地", "転出前の住所"),
]


@pytest.mark.parametrize(("item", "field", "value", "ja"), ITEMS, ids=[i[0] for i in ITEMS])
def test_move_in_notice_with_one_of_the_four_items_wrong_names_it_and_the_rule(
    net: InProcessNetwork, item: str, field: str, value: Any, ja: str
) -> None:
    record = moved_out(net, "七郎", "シチロウ")
    with pytest.raises(DomainRuleError) as refused:
        check(net, FUJISAWA, notice(record, **{field: value}))
    err = refused.value
    assert (err.field, err.rule) == ("four_items", "four_items_mismatch")
    assert err.message_en == f"the notice's {item} disagree with the record"
    assert err.message_ja == f"転入通知の{ja}が住民票と一致しません"


def test_move_in_notice_with_several_items_wrong_names_each_in_the_order_of_the_four_items(
    net: InProcessNetwork,
) -> None:
    record = moved_out(net, "八郎", "ハチロウ")
    wrong = notice(
        record, previous_address="東京都稲城市東長沼1番地", given_name="二郎", sex="female"
    )
    with pytest.raises(DomainRuleError) as refused:
        check(net, FUJISAWA, wrong)
    err = refused.value
    assert err.rule == "four_items_mismatch"
    assert err.message_en == "the notice's given_name, sex, address disagree with the record"
    assert err.message_ja == "転入通知の名、男女の別、転出前の住所が住民票と一致しません"


def test_move_in_notice_from_another_municipality_is_refused_before_its_four_items(
    net: InProcessNetwork,
) -> None:
    """A sender without authority learns nothing of whether its four items were right."""
    record = moved_out(net, "九郎", "クロウ")
    with pytest.raises(NotAuthorised):
        check(net, NAGANO, notice(record, to=NAGANO, given_name="別名"))


def test_move_in_notice_v1_from_the_recorded_destination_is_accepted_without_four_items(
    net: InProcessNetwork,
) -> None:
    record = moved_out(net, "十郎", "ジュウロウ")
    check(net, FUJISAWA, notice_v1(record))


def test_move_in_notice_v1_from_another_municipality_is_not_authorised(
    net: InProcessNetwork,
) -> None:
    """The V1 shape skips the four items, not the sender's authority."""
    record = moved_out(net, "十一", "ジュウイチ")
    with pytest.raises(NotAuthorised):
        check(net, NAGANO, notice_v1(record, to=NAGANO))


# -- 転出取消: only from the municipality whose 転出証明書情報 is held --------------------------


def code() -> str:
    return ResidentCode.complete(f"{1_322_600_000 + next(_codes):010d}").value


def held_from(net: InProcessNetwork, resident_code: str, sender: str) -> None:
    """藤沢市's CS keeps the 転出証明書情報 `sender` sent for a move planned on PLANNED."""
    info = MoveOutCertificateInfo(
        identity=identity_info(
            resident_code=resident_code, lg_code=sender, change_reason="move_out_planned"
        ),
        destination_address=NEW_HOME[FUJISAWA],
        planned_on=PLANNED,
        from_lg_code=sender,
        to_lg_code=FUJISAWA,
    )
    fujisawa = net.municipality(FUJISAWA)
    with fujisawa.engine.begin() as conn:
        keep_move_out_info(conn, info, fujisawa.clock.now().isoformat())


def withdrawal(
    resident_code: str, sender: str = INAGI, planned_on: date = PLANNED, on: date = TODAY
) -> MoveOutWithdrawn:
    return MoveOutWithdrawn(
        resident_code=resident_code,
        planned_on=planned_on,
        withdrawn_on=on,
        reason="move_out_withdrawn",
        from_lg_code=sender,
        to_lg_code=FUJISAWA,
    )


def withdraw(net: InProcessNetwork, sender: str, withdrawn: MoveOutWithdrawn) -> None:
    """藤沢市's CS takes a withdrawal `sender` signed, in a transaction of its own."""
    with net.municipality(FUJISAWA).engine.begin() as conn:
        withdraw_move_out(conn, sender, withdrawn)


def withdrawn_on(net: InProcessNetwork, resident_code: str) -> dict[str, date | None]:
    m = move_out_infos.c
    with net.municipality(FUJISAWA).engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.from_lg_code, m.withdrawn_on).where(m.resident_code == resident_code)
        )
        return {r.from_lg_code: r.withdrawn_on for r in rows}


def test_move_out_withdrawal_from_the_sender_of_the_held_information_withdraws_it(
    net: InProcessNetwork,
) -> None:
    c = code()
    held_from(net, c, INAGI)
    withdraw(net, INAGI, withdrawal(c, on=date(2025, 4, 2)))
    assert withdrawn_on(net, c) == {INAGI: date(2025, 4, 2)}


def test_move_out_withdrawal_withdraws_only_the_senders_information(
    net: InProcessNetwork,
) -> None:
    c = code()
    held_from(net, c, INAGI)
    held_from(net, c, NAGANO)
    withdraw(net, INAGI, withdrawal(c))
    assert withdrawn_on(net, c) == {INAGI: TODAY, NAGANO: None}


def test_move_out_withdrawal_from_a_municipality_that_sent_nothing_is_not_authorised(
    net: InProcessNetwork,
) -> None:
    """藤沢市 holds 稲城市's information: 長野市 may not withdraw it."""
    c = code()
    held_from(net, c, INAGI)
    with pytest.raises(NotAuthorised) as refused:
        withdraw(net, NAGANO, withdrawal(c, sender=NAGANO))
    assert refused.value.detail == f"{NAGANO} sent no move-out information for this person"
    assert withdrawn_on(net, c) == {INAGI: None}


def test_move_out_withdrawal_with_nothing_held_changes_nothing(net: InProcessNetwork) -> None:
    """Information never sent (or not yet arrived): nothing to withdraw, nothing refused."""
    c = code()
    withdraw(net, INAGI, withdrawal(c))
    assert withdrawn_on(net, c) == {}


def test_move_out_withdrawal_of_another_planned_date_is_refused(net: InProcessNetwork) -> None:
    c = code()
    held_from(net, c, INAGI)
    with pytest.raises(DomainRuleError) as refused:
        withdraw(net, INAGI, withdrawal(c, planned_on=date(2025, 4, 6)))
    err = refused.value
    assert (err.field, err.rule) == ("planned_on", "move_out_info_differs")
    assert err.message_ja == (
        "取り消された転出届の転出予定日が、受け取った転出証明書情報と一致しません"
    )
    assert withdrawn_on(net, c) == {INAGI: None}


def test_move_out_withdrawal_of_information_a_move_in_took_is_refused(
    net: InProcessNetwork,
) -> None:
    """A 特例転入 already took the information (`SqlMoveOutInfos.take`): it stays as it is."""
    c = code()
    held_from(net, c, INAGI)
    fujisawa = net.municipality(FUJISAWA)
    with fujisawa.engine.begin() as conn:
        assert SqlMoveOutInfos(conn, fujisawa.clock.now).take(c, INAGI) is not None
    with pytest.raises(DomainRuleError) as refused:
        withdraw(net, INAGI, withdrawal(c))
    err = refused.value
    assert (err.field, err.rule) == ("resident_code", "move_out_info_used")
    assert "既に転入届の特例を受け付けています" in err.message_ja
    assert withdrawn_on(net, c) == {INAGI: None}


def test_move_out_withdrawal_already_withdrawn_keeps_the_first_date(
    net: InProcessNetwork,
) -> None:
    """Withdrawn again (another message): the move-out was withdrawn on the first date, which
    a refused 特例転入 quotes; the second changes nothing."""
    c = code()
    held_from(net, c, INAGI)
    withdraw(net, INAGI, withdrawal(c, on=date(2025, 4, 1)))
    withdraw(net, INAGI, withdrawal(c, on=date(2025, 4, 3)))
    assert withdrawn_on(net, c) == {INAGI: date(2025, 4, 1)}


# -- through the receiver: a refusal is recorded, a broken rule is a dead letter ----------------


def deliver(
    net: InProcessNetwork, sender: str, recipient: str, message: MessageBody, version: int
) -> Reply:
    """`message` as `sender`'s worker hands it over: signed with its key, the next number on
    the link, in schema version `version`."""
    node = net.nodes[recipient]
    with node.engine.connect() as conn:
        seq = store.last_received(conn, sender) + 1
    now = node.clock.now()
    env = Envelope(
        message_id=uuid7(now, net.nodes[sender].rng),
        message_type=MOVE_IN_NOTICE,
        schema_version=version,
        sender=sender,
        recipient=recipient,
        created_at=now.isoformat(),
        seq=seq,
        body=body_of(message),
    ).signed(net.nodes[sender].identity.key)
    return node.receiver.receive(env.to_bytes())


def refusals(net: InProcessNetwork, sender: str) -> list[tuple[str, str]]:
    r = network_tables.net_refusals.c
    with net.municipality(INAGI).engine.connect() as conn:
        rows = conn.execute(
            sa.select(r.reason, r.detail).where(r.claimed_sender == sender).order_by(r.refusal_id)
        )
        return [(row.reason, row.detail) for row in rows]


def dead_letters(net: InProcessNetwork, sender: str) -> list[tuple[str, str]]:
    d = network_tables.net_dead_letters.c
    with net.municipality(INAGI).engine.connect() as conn:
        rows = conn.execute(
            sa.select(d.reason, d.detail)
            .where((d.peer == sender) & (d.direction == "in"))
            .order_by(d.dead_letter_id)
        )
        return [(row.reason, row.detail) for row in rows]


def confirmed_address(net: InProcessNetwork, record: ResidentRecord) -> str | None:
    return svc.get_record(uow(net), CLERK, record.record_id).move_out_confirmed_address


def test_move_in_notice_from_a_municipality_not_recorded_is_refused_and_recorded(
    net: InProcessNetwork,
) -> None:
    """The sender-authority rule (`juki.network.authority`) lets 長野市's notice of a move to
    長野市 through; the check against the record refuses it, and the receiver records why."""
    record = moved_out(net, "十二", "ジュウニ")
    reply = deliver(net, NAGANO, INAGI, notice(record, to=NAGANO), version=2)
    assert (reply.status, reply.reason) == (ReplyStatus.REFUSED, "unauthorised")
    assert refusals(net, NAGANO)[-1] == (
        "unauthorised",
        f"move_in_notice: {NAGANO} is not the destination the move-out recorded",
    )
    assert confirmed_address(net, record) is None


def test_move_in_notice_with_the_four_items_wrong_is_a_dead_letter_naming_them(
    net: InProcessNetwork,
) -> None:
    record = moved_out(net, "十三", "ジュウサン")
    before = len(dead_letters(net, FUJISAWA))
    reply = deliver(net, FUJISAWA, INAGI, notice(record, birth_date=date(1985, 6, 5)), version=2)
    assert (reply.status, reply.reason) == (ReplyStatus.DEAD_LETTER, "four_items_mismatch")
    kept = dead_letters(net, FUJISAWA)
    assert len(kept) == before + 1
    assert kept[-1][0] == "four_items_mismatch"
    assert "birth_date" in kept[-1][1] and "出生の年月日" in kept[-1][1]
    assert confirmed_address(net, record) is None


def test_move_in_notice_v1_from_the_recorded_destination_confirms_the_move_out(
    net: InProcessNetwork,
) -> None:
    """A version 1 notice (a node not yet upgraded) is still taken, without the four items."""
    record = moved_out(net, "十四", "ジュウシ")
    reply = deliver(net, FUJISAWA, INAGI, notice_v1(record), version=1)
    assert reply.status is ReplyStatus.APPLIED, reply
    assert confirmed_address(net, record) == NEW_HOME[FUJISAWA]


def test_move_in_notice_for_a_resident_code_not_held_is_a_dead_letter(
    net: InProcessNetwork,
) -> None:
    """The check lets it pass (nothing to check the sender against); confirming the move-out
    finds no planned move-out, and the notice is kept as a dead letter."""
    record = moved_out(net, "十五", "ジュウゴ")
    unknown = ResidentCode.complete("9999999980").value
    reply = deliver(net, FUJISAWA, INAGI, notice(record, resident_code=unknown), version=2)
    assert (reply.status, reply.reason) == (ReplyStatus.DEAD_LETTER, "NotFoundError")
    assert confirmed_address(net, record) is None


def test_move_in_notice_authorised_by_an_earlier_move_out_leaves_the_current_one_alone(
    net: InProcessNetwork,
) -> None:
    """Someone moved to 藤沢市 (confirmed), came back to 稲城市 under the same 住民票コード and
    now moves to 長野市. A notice from 藤沢市 about the earlier move must not confirm the move
    to 長野市 with 藤沢市's address: only 長野市 may confirm that one."""
    first = resident(net, "再入", "サイニュウ")
    earlier = date(2025, 3, 26)
    [to_fujisawa] = svc.record_move_out(
        uow(net), CLERK, RecordMoveOut((first.record_id,), NEW_HOME[FUJISAWA], earlier, earlier)
    )
    arrived = notice(to_fujisawa, moved_on=earlier, notified_on=date(2025, 3, 27))
    assert deliver(net, FUJISAWA, INAGI, arrived, version=2).status is ReplyStatus.APPLIED
    back = svc.record_move_in(
        uow(net),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                "移動", "再入", "イドウ", "サイニュウ", date(1985, 5, 6), Sex.MALE
            ),
            origin=MoveInOrigin.CERTIFICATE,
            address=HOME,
            moved_on=date(2025, 3, 28),
            notified_on=date(2025, 3, 29),
            previous_address=NEW_HOME[FUJISAWA],
            placement=NewHousehold(),
            resident_code=first.resident_code,
            previous_lg_code=FUJISAWA,
            move_out_certificate_number="142051-0009",
        ),
    )
    [to_nagano] = svc.record_move_out(
        uow(net), CLERK, RecordMoveOut((back.record_id,), NEW_HOME[NAGANO], TODAY, TODAY)
    )

    deliver(net, FUJISAWA, INAGI, notice(to_fujisawa), version=2)  # 藤沢市 again, a new message
    assert confirmed_address(net, to_nagano) is None
