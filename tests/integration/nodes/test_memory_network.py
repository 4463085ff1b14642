"""The demo network in one process: flows, duplicates, disconnects, refusals and repair."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.core.identifiers import MyNumber, ResidentCode
from juki.network import pki
from juki.network import tables as network_tables
from juki.network.batch import MAX_BATCH_ENVELOPE_BYTES
from juki.network.directory import NodeStatus
from juki.network.envelope import MAX_ENVELOPE_BYTES, Envelope
from juki.network.messages import MoveInNotice, body_of
from juki.network.transport import ReplyStatus
from juki.nodes import tables as node_tables
from juki.nodes.layout import DEMO_MUNICIPALITIES, demo_layout
from juki.nodes.memory import InProcessNetwork, build_network, reopen_network
from juki.nodes.municipality import MunicipalityNode
from juki.registry import services as svc
from juki.registry import tables as registry_tables
from juki.registry.commands import (
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordBirth,
    RecordMoveIn,
    RecordMoveOut,
    RecordRelocation,
)
from juki.registry.model import Relationship, ResidentRecord, Sex
from juki.registry.store.journal import fuhyo_history
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from support.card_holders import issue_card
from support.db_copies import sqlite_copy

CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
TODAY = date(2025, 4, 1)


def _clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))


@pytest.fixture(scope="module")
def _allotted(tmp_path_factory: pytest.TempPathFactory) -> tuple[InProcessNetwork, Path]:
    """The demo network with every town's resident codes allotted, built once per module
    (migrations, keys, certificates and directory: most of a test's former set-up)."""
    directory = tmp_path_factory.mktemp("memory-network")
    network = build_network(
        demo_layout(), lambda node_id: f"sqlite:///{directory}/{node_id}.db", _clock(), seed=7
    )
    for lg in DEMO_MUNICIPALITIES:
        network.national.allot(lg, 1_000)
    network.run_until_quiet()
    network.dispose()
    return network, directory


@pytest.fixture
def net(_allotted: tuple[InProcessNetwork, Path], tmp_path: Path) -> Iterator[InProcessNetwork]:
    """Every node started again on its own copy of the allotted network's database."""
    built, directory = _allotted
    urls = {n: sqlite_copy(directory / f"{n}.db", tmp_path) for n in built.nodes}
    network = reopen_network(built, urls.__getitem__, _clock(), seed=7)
    yield network
    network.dispose()


def uow(node: MunicipalityNode) -> SqlRegistryUnitOfWork:
    return SqlRegistryUnitOfWork(node.engine, clock=node.clock)


def arrive(
    node: MunicipalityNode,
    given: str,
    kana: str,
    *,
    code: str | None = None,
    number: str | None = None,
) -> ResidentRecord:
    """A person moving in from abroad, with 本籍 in 稲城市."""
    prefix = node.directory().require(node.node_id).name
    return svc.record_move_in(
        uow(node),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                family_name="山田",
                given_name=given,
                family_name_kana="ヤマダ",
                given_name_kana=kana,
                birth_date=date(1980, 5, 5),
                sex=Sex.MALE,
                honseki="東京都稲城市東長沼2111番地",
                koseki_head="山田　一郎",
            ),
            origin=MoveInOrigin.ABROAD,
            address=f"{prefix}中央1丁目{len(given)}番{len(kana)}号",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="アメリカ合衆国",
            placement=NewHousehold(),
            resident_code=code,
            my_number=number,
        ),
    )


def copy_of(node: Any, lg: str, code: str) -> dict[str, Any] | None:
    with node.engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(node_tables.identity_copies).where(
                    (node_tables.identity_copies.c.lg_code == lg)
                    & (node_tables.identity_copies.c.resident_code == code)
                )
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def test_identity_info_reaches_prefecture_and_national_with_a_new_my_number(
    net: InProcessNetwork,
) -> None:
    inagi = net.municipality("132250")
    person = arrive(inagi, "太郎", "タロウ")
    assert person.my_number is None
    net.run_until_quiet()
    assigned = svc.get_record(uow(inagi), CLERK, person.record_id).my_number
    assert assigned is not None
    assert MyNumber.parse(assigned).value == assigned
    for node in (net.nodes["130001"], net.national):
        copy = copy_of(node, "132250", person.resident_code)
        assert copy is not None
        assert copy["my_number"] == assigned
        assert copy["change_reason"] == "my_number_assigned"
    assert net.check() == []


def test_resident_codes_come_from_the_national_pool(net: InProcessNetwork) -> None:
    """Each municipality hands out a member of the pool national allotted it (ADR 0006), and
    national sees it used once identity_info arrives."""
    lgs = ("132250", "202011")
    codes = [arrive(net.municipality(lg), "太郎", "タロウ").resident_code for lg in lgs]
    assert len(set(codes)) == 2
    net.run_until_quiet()
    ledger = node_tables.code_ledger.c
    with net.national.engine.connect() as conn:
        rows = conn.execute(
            sa.select(ledger.resident_code, ledger.lg_code, ledger.used_at).where(
                ledger.resident_code.in_(codes)
            )
        ).all()
        pools = node_tables.code_pools.c
        left = dict(conn.execute(sa.select(pools.lg_code, pools.unused)).tuples().all())
    assert {(r.resident_code, r.lg_code) for r in rows} == set(zip(codes, lgs, strict=True))
    assert all(r.used_at is not None for r in rows)
    assert left["132250"] == left["202011"] == 999


def test_move_inagi_to_fujisawa_by_card(net: InProcessNetwork) -> None:
    inagi, fujisawa = net.municipality("132250"), net.municipality("142051")
    person = arrive(inagi, "太郎", "タロウ")
    net.run_until_quiet()
    person = svc.get_record(uow(inagi), CLERK, person.record_id)
    issue_card(inagi, person.resident_code)
    svc.record_move_out(
        uow(inagi),
        CLERK,
        RecordMoveOut(
            (person.record_id,),
            "神奈川県藤沢市鵠沼石上1丁目1番1号",
            date(2025, 4, 1),
            TODAY,
            destination_lg_code="142051",
            card=True,
        ),
    )
    net.run_until_quiet()
    arrived = svc.record_move_in(
        uow(fujisawa),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                "山田",
                "太郎",
                "ヤマダ",
                "タロウ",
                date(1980, 5, 5),
                Sex.MALE,
                honseki="東京都稲城市東長沼2111番地",
                koseki_head="山田　一郎",
            ),
            origin=MoveInOrigin.CARD,
            address="神奈川県藤沢市鵠沼石上1丁目1番1号",
            moved_on=date(2025, 4, 1),
            notified_on=TODAY,
            previous_address=person.address,
            placement=NewHousehold(),
            resident_code=person.resident_code,
            my_number=person.my_number,
            previous_lg_code="132250",
        ),
    )
    net.run_until_quiet()
    old = svc.get_record(uow(inagi), CLERK, person.record_id)
    assert old.move_out_confirmed_address == "神奈川県藤沢市鵠沼石上1丁目1番1号"
    assert old.move_out_planned_address == "神奈川県藤沢市鵠沼石上1丁目1番1号"
    assert inagi.unconfirmed_move_outs() == []
    assert copy_of(net.national, "132250", person.resident_code)["status"] == "removed"  # type: ignore[index]
    new_copy = copy_of(net.national, "142051", person.resident_code)
    assert new_copy is not None
    assert new_copy["status"] == "active"
    assert new_copy["my_number"] == person.my_number
    assert copy_of(net.nodes["140007"], "142051", arrived.resident_code) is not None
    # 本籍 is 稲城市: its 附票 holds both addresses
    with inagi.engine.connect() as conn:
        history = fuhyo_history(conn, "東京都稲城市東長沼2111番地", "山田　一郎")
    assert [h["address"] for h in history][-1] == "神奈川県藤沢市鵠沼石上1丁目1番1号"
    assert {h["from_lg_code"] for h in history} == {"132250", "142051"}
    assert net.check() == []


def test_a_move_in_notice_sent_twice_is_applied_once(net: InProcessNetwork) -> None:
    inagi, fujisawa = net.municipality("132250"), net.municipality("142051")
    person = arrive(inagi, "次郎", "ジロウ", code=ResidentCode.complete("2472705960").value)
    svc.record_move_out(
        uow(inagi),
        CLERK,
        RecordMoveOut((person.record_id,), "神奈川県藤沢市辻堂1番地", TODAY, TODAY),
    )
    net.run_until_quiet()
    notice = MoveInNotice(
        resident_code=person.resident_code,
        family_name=person.family_name,
        given_name=person.given_name,
        birth_date=person.birth_date,
        sex=person.sex.value,
        previous_address=person.address,
        new_address="神奈川県藤沢市辻堂1番地",
        moved_on=TODAY,
        notified_on=TODAY,
        from_lg_code="132250",
        to_lg_code="142051",
    )
    with fujisawa.engine.begin() as conn:
        fujisawa.send(conn, "132250", notice)
    with fujisawa.engine.connect() as conn:
        row = conn.execute(
            sa.select(network_tables.net_outbox).order_by(
                network_tables.net_outbox.c.outbox_id.desc()
            )
        ).first()
    assert row is not None
    envelope = Envelope(
        message_id=row.message_id,
        message_type=row.message_type,
        schema_version=2,
        sender="142051",
        recipient="132250",
        created_at=fujisawa.clock.now().isoformat(),
        seq=row.seq,
        body=json.loads(row.body),
    ).signed(fujisawa.identity.key)
    first = inagi.receiver.receive(envelope.to_bytes())
    second = inagi.receiver.receive(envelope.to_bytes())
    assert first.status is ReplyStatus.APPLIED
    assert second.status is ReplyStatus.DUPLICATE
    net.run_until_quiet()  # the worker's own copy is acknowledged as a duplicate too
    history = svc.record_history(uow(inagi), CLERK, person.record_id)
    assert [h.change.reason.value for h in history].count("move_out_confirmed") == 1
    assert net.check() == []


def test_unconfirmed_move_outs_are_listed(net: InProcessNetwork) -> None:
    inagi = net.municipality("132250")
    person = arrive(inagi, "三郎", "サブロウ")
    svc.record_move_out(
        uow(inagi), CLERK, RecordMoveOut((person.record_id,), "大阪府大阪市北区1番地", TODAY, TODAY)
    )
    net.run_until_quiet()
    (row,) = inagi.unconfirmed_move_outs()
    assert row["resident_code"] == person.resident_code


def test_disconnected_nagano_catches_up_on_reconnect(net: InProcessNetwork) -> None:
    nagano, inagi = net.municipality("202011"), net.municipality("132250")
    net.disconnect("202011")
    local = arrive(nagano, "四郎", "シロウ")
    elsewhere = arrive(inagi, "五郎", "ゴロウ")
    net.run_until_quiet()
    assert copy_of(net.national, "202011", local.resident_code) is None
    assert copy_of(net.national, "132250", elsewhere.resident_code) is not None
    assert net.pending() > 0
    assert [d.lg_code for d in net.check()] == ["202011", "202011"]
    net.reconnect("202011")
    net.run_until_quiet()
    assert net.pending() == 0
    assert copy_of(net.national, "202011", local.resident_code) is not None
    assert svc.get_record(uow(nagano), CLERK, local.record_id).my_number is not None
    assert net.check() == []


def test_divergence_is_found_and_repaired(net: InProcessNetwork) -> None:
    inagi = net.municipality("132250")
    for given, kana in (("一", "ハジメ"), ("二", "ススム"), ("三", "ミツル")):
        arrive(inagi, given, kana)
    net.run_until_quiet()
    with net.national.engine.begin() as conn:
        conn.execute(
            node_tables.identity_copies.update()
            .where(node_tables.identity_copies.c.lg_code == "132250")
            .values(address="改ざんされた住所")
        )
        conn.execute(
            node_tables.identity_copies.insert().values(
                lg_code="132250",
                resident_code="00000000000",
                family_name="幽霊",
                given_name="太郎",
                family_name_kana="ユウレイ",
                given_name_kana="タロウ",
                name_kana_key="ユウレイタロウ",
                birth_date=date(1990, 1, 1),
                sex="male",
                address="x",
                status="active",
                change_reason="move_in",
                changed_on=date(2020, 1, 1),
                updated_at="x",
            )
        )
    found = net.check()
    assert [(d.lg_code, d.level) for d in found] == [("132250", "national")]
    net.repair(found)
    net.run_until_quiet()
    assert net.check() == []
    assert copy_of(net.national, "132250", "00000000000") is None


def test_relocation_flows_up_in_order(net: InProcessNetwork) -> None:
    inagi = net.municipality("132250")
    person = arrive(inagi, "六郎", "ロクロウ")
    for n in range(1, 4):
        svc.record_relocation(
            uow(inagi),
            CLERK,
            RecordRelocation((person.record_id,), f"東京都稲城市百村{n}番地", TODAY, TODAY),
        )
    net.run_until_quiet()
    assert (
        copy_of(net.national, "132250", person.resident_code)["address"] == "東京都稲城市百村3番地"
    )  # type: ignore[index]
    with net.national.engine.connect() as conn:
        bodies = (
            conn.execute(
                sa.select(node_tables.identity_changes.c.body)
                .where(node_tables.identity_changes.c.resident_code == person.resident_code)
                .order_by(node_tables.identity_changes.c.change_id)
            )
            .scalars()
            .all()
        )
    relocations = [
        json.loads(b)["address"] for b in bodies if json.loads(b)["change_reason"] == "relocation"
    ]
    assert relocations == [f"東京都稲城市百村{n}番地" for n in range(1, 4)]


def test_birth_gets_a_my_number(net: InProcessNetwork) -> None:
    inagi = net.municipality("132250")
    parent = arrive(inagi, "七郎", "シチロウ")
    child = svc.record_birth(
        uow(inagi),
        CLERK,
        RecordBirth(
            PersonalItems(
                "山田",
                "花",
                "ヤマダ",
                "ハナ",
                date(2025, 3, 30),
                Sex.FEMALE,
                honseki="東京都稲城市東長沼2111番地",
                koseki_head="山田　一郎",
            ),
            parent.household_id,
            Relationship.CHILD,
            TODAY,
        ),
    )
    net.run_until_quiet()
    numbers = {svc.get_record(uow(inagi), CLERK, r.record_id).my_number for r in (parent, child)}
    assert None not in numbers and len(numbers) == 2


# -- refusals: each logged with its reason, each changing nothing ---------------------------


def _envelope(
    net: InProcessNetwork, given: str = "九郎", kana: str = "クロウ", **overrides: Any
) -> Envelope:
    """A move-in notice from 藤沢市 for the person `arrive(inagi, given, kana)` records."""
    fujisawa = net.municipality("142051")
    base = Envelope(
        message_id="01890000-0000-7000-8000-000000000001",
        message_type="move_in_notice",
        schema_version=2,
        sender="142051",
        recipient="132250",
        created_at=fujisawa.clock.now().isoformat(),
        seq=1,
        body=body_of(
            MoveInNotice(
                resident_code="24727059608",
                family_name="山田",
                given_name=given,
                birth_date=date(1980, 5, 5),
                sex="male",
                previous_address=f"東京都稲城市中央1丁目{len(given)}番{len(kana)}号",
                new_address="神奈川県藤沢市辻堂1番地",
                moved_on=TODAY,
                notified_on=TODAY,
                from_lg_code="132250",
                to_lg_code="142051",
            )
        ),
    )
    return dataclasses.replace(base, **overrides).signed(fujisawa.identity.key)


def _refusals(node: MunicipalityNode) -> list[str]:
    with node.engine.connect() as conn:
        return list(conn.execute(sa.select(network_tables.net_refusals.c.reason)).scalars())


def _state(node: MunicipalityNode) -> tuple[int, int, int]:
    with node.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in (
                network_tables.net_inbox,
                registry_tables.record_changes,
                network_tables.net_dead_letters,
            )
        )


@pytest.mark.parametrize(
    ("attack", "reason"),
    [
        ("tampered", "bad_signature"),
        ("unsigned", "unsigned"),
        ("misaddressed", "misaddressed"),
        ("oversized", "oversized"),
        ("oversized_alone", "oversized"),
        ("unknown_sender", "unknown_sender"),
        ("wrong_key", "bad_signature"),
        ("stale", "stale"),
        ("garbage", "malformed"),
    ],
)
def test_bad_messages_are_refused_with_a_logged_reason(
    net: InProcessNetwork, attack: str, reason: str
) -> None:
    inagi = net.municipality("132250")
    good = _envelope(net)
    raw: bytes
    if attack == "tampered":
        data = json.loads(good.to_bytes())
        data["body"]["new_address"] = "神奈川県藤沢市片瀬1番地"
        raw = json.dumps(data).encode()
    elif attack == "unsigned":
        data = json.loads(good.to_bytes())
        del data["signature"]
        raw = json.dumps(data).encode()
    elif attack == "misaddressed":
        raw = _envelope(net, recipient="132292").to_bytes()
    elif attack == "oversized":
        raw = b"{" + b" " * MAX_BATCH_ENVELOPE_BYTES + b"}"  # the most a batch may be, and more
    elif attack == "oversized_alone":
        # signed and well formed, larger than a message alone may be (only a batch may)
        raw = _envelope(net, body={"padding": "x" * MAX_ENVELOPE_BYTES}).to_bytes()
    elif attack == "unknown_sender":
        raw = dataclasses.replace(_envelope(net), sender="999999").to_bytes()
    elif attack == "wrong_key":
        raw = dataclasses.replace(good, signature="").signed(pki.generate_key()).to_bytes()
    elif attack == "stale":
        old = (inagi.clock.now() - timedelta(hours=1)).isoformat()
        raw = _envelope(net, created_at=old).to_bytes()
    else:
        raw = b"\xff\xfe not json"
    before = _state(inagi)
    reply = inagi.receiver.receive(raw)
    assert reply.status is ReplyStatus.REFUSED
    assert reply.reason == reason
    assert _refusals(inagi) == [reason]
    assert _state(inagi) == before


def test_a_replayed_sequence_number_is_refused(net: InProcessNetwork) -> None:
    inagi = net.municipality("132250")
    person = arrive(inagi, "八郎", "ハチロウ", code="24727059608")
    svc.record_move_out(
        uow(inagi),
        CLERK,
        RecordMoveOut((person.record_id,), "神奈川県藤沢市辻堂1番地", TODAY, TODAY),
    )
    notice = _envelope(net, "八郎", "ハチロウ")
    assert inagi.receiver.receive(notice.to_bytes()).status is ReplyStatus.APPLIED
    replay = _envelope(net, "八郎", "ハチロウ", message_id="01890000-0000-7000-8000-000000000002")
    before = _state(inagi)
    reply = inagi.receiver.receive(replay.to_bytes())
    assert (reply.status, reply.reason) == (ReplyStatus.REFUSED, "replay")
    assert _state(inagi) == before


def test_messages_from_a_disconnected_node_are_refused(net: InProcessNetwork) -> None:
    inagi = net.municipality("132250")
    net.national.set_node_status("142051", NodeStatus.DISCONNECTED)
    net.refresh_directories()
    before = _state(inagi)
    reply = inagi.receiver.receive(_envelope(net).to_bytes())
    assert (reply.status, reply.reason) == (ReplyStatus.REFUSED, "sender_disconnected")
    assert _state(inagi) == before


def test_a_genuine_message_that_cannot_apply_is_a_dead_letter_and_can_be_replayed(
    net: InProcessNetwork,
) -> None:
    inagi = net.municipality("132250")
    reply = inagi.receiver.receive(_envelope(net).to_bytes())  # nobody planned to move out
    assert reply.status is ReplyStatus.DEAD_LETTER
    assert inagi.status()["dead_letters"] == 1
    person = arrive(inagi, "九郎", "クロウ", code="24727059608")
    svc.record_move_out(
        uow(inagi),
        CLERK,
        RecordMoveOut((person.record_id,), "神奈川県藤沢市辻堂1番地", TODAY, TODAY),
    )
    with inagi.engine.connect() as conn:
        dead_id = conn.execute(
            sa.select(network_tables.net_dead_letters.c.dead_letter_id)
        ).scalar_one()
    assert inagi.receiver.replay_dead_letter(int(dead_id)).status is ReplyStatus.APPLIED
    assert inagi.status()["dead_letters"] == 0
    assert svc.get_record(uow(inagi), CLERK, person.record_id).move_out_confirmed_on == TODAY


def test_a_message_the_sender_gives_up_on_is_skipped_and_the_link_goes_on(
    net: InProcessNetwork,
) -> None:
    """A permanent refusal dead-letters the message at the sender; a link_skip notice takes its
    sequence number, so the next change is not held behind a gap that can never be filled.
    (Tokyo takes less than a message may be, for the test.)"""
    from juki.network import store
    from juki.network.receiver import ReceiverConfig

    inagi = net.municipality("132250")
    tokyo = net.nodes["130001"]
    with inagi.engine.begin() as conn:
        oversized_seq = store.enqueue(
            conn,
            peer="130001",
            message_type="identity_info_changed",
            schema_version=1,
            body={"padding": "x" * (100 * 1024)},
            message_id="01890000-0000-7000-8000-0000000000aa",
            now=inagi.clock.now(),
        )
    usual, tokyo.receiver.config = tokyo.receiver.config, ReceiverConfig(max_bytes=64 * 1024)
    try:
        net.run_until_quiet()  # alone in the outbox: sent alone, refused as oversized
    finally:
        tokyo.receiver.config = usual
    person = arrive(inagi, "十郎", "ジュウロウ")
    net.run_until_quiet()

    assert copy_of(tokyo, "132250", person.resident_code) is not None
    assert copy_of(net.national, "132250", person.resident_code) is not None
    assert inagi.status()["dead_letters"] == 1
    assert net.pending() == 0
    with inagi.engine.connect() as conn:
        dead = conn.execute(
            sa.select(
                network_tables.net_dead_letters.c.message_id,
                network_tables.net_dead_letters.c.reason,
            )
        ).one()
        sent_links = {
            r.peer: r.next_send_seq for r in conn.execute(sa.select(network_tables.net_links))
        }
    assert tuple(dead) == ("01890000-0000-7000-8000-0000000000aa", "oversized")
    with tokyo.engine.connect() as conn:
        inbox = conn.execute(
            sa.select(
                network_tables.net_inbox.c.message_type, network_tables.net_inbox.c.outcome
            ).where(
                (network_tables.net_inbox.c.sender == "132250")
                & (network_tables.net_inbox.c.seq == oversized_seq)
            )
        ).one()
        last = conn.execute(
            sa.select(network_tables.net_links.c.last_recv_seq).where(
                network_tables.net_links.c.peer == "132250"
            )
        ).scalar_one()
    assert tuple(inbox) == ("link_skip", "skipped")
    assert last == sent_links["130001"] - 1


def test_an_outgoing_dead_letter_is_queued_again_once_its_cause_is_fixed(
    net: InProcessNetwork,
) -> None:
    from juki.network import store
    from juki.network.receiver import ReceiverConfig

    inagi = net.municipality("132250")
    tokyo = net.nodes["130001"]
    with inagi.engine.begin() as conn:
        store.enqueue(
            conn,
            peer="130001",
            message_type="identity_info_changed",
            schema_version=1,
            body={"padding": "x" * (100 * 1024)},
            message_id="01890000-0000-7000-8000-0000000000bb",
            now=inagi.clock.now(),
        )
    usual = tokyo.receiver.config
    tokyo.receiver.config = ReceiverConfig(max_bytes=64 * 1024)
    net.run_until_quiet()
    with inagi.engine.connect() as conn:
        dead_id = conn.execute(
            sa.select(network_tables.net_dead_letters.c.dead_letter_id)
        ).scalar_one()
    tokyo.receiver.config = usual  # the cause, fixed

    reply = inagi.replay_dead_letter(int(dead_id))
    assert (reply.status, reply.reason) == (ReplyStatus.APPLIED, "queued")
    assert inagi.status()["dead_letters"] == 0
    assert inagi.replay_dead_letter(int(dead_id)).reason == "not_found"  # only once
    net.run_until_quiet()
    assert net.pending() == 0
    with tokyo.engine.connect() as conn:
        outcomes = [
            tuple(r)
            for r in conn.execute(
                sa.select(
                    network_tables.net_inbox.c.message_type, network_tables.net_inbox.c.outcome
                )
                .where(network_tables.net_inbox.c.sender == "132250")
                .order_by(network_tables.net_inbox.c.seq.desc())
                .limit(2)
            )
        ]
    # The padding is not an identity_info body: it arrives now, and is Tokyo's dead letter.
    assert outcomes == [("identity_info_changed", "dead_letter"), ("link_skip", "skipped")]
