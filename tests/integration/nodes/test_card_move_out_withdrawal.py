"""A card-based move (転入届の特例) between 稲城市 and 藤沢市 on the in-process demo network:
a 転出取消 at 稲城市 reaches 藤沢市 (`move_out_withdrawn`), which withdraws the 転出証明書情報 it
holds and refuses a 特例転入 on it saying why; and a foreign resident's 通称履歴 travels with the
転出証明書情報 (v3), so 藤沢市's record keeps the whole history (令30条の27)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.core.errors import DomainRuleError
from juki.network import tables as network_tables
from juki.nodes.layout import DEMO_MUNICIPALITIES, demo_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.municipality import MunicipalityNode
from juki.registry import services as svc
from juki.registry.alias import AliasAction
from juki.registry.commands import (
    DeleteAlias,
    ForeignItems,
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordAlias,
    RecordMoveIn,
    RecordMoveOut,
    WithdrawMoveOut,
)
from juki.registry.model import ForeignResidentCategory, ResidentRecord, Sex
from juki.registry.services.people import delete_alias, record_alias
from juki.registry.tables import move_out_infos
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from support.card_holders import issue_card

CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
INAGI, FUJISAWA = "132250", "142051"
TODAY = date(2025, 4, 1)
PLANNED = date(2025, 4, 5)
NEW_HOME = "神奈川県藤沢市鵠沼石上2丁目2番2号"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessNetwork]:
    where = tmp_path_factory.mktemp("card_withdrawal")
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(
        demo_layout(), lambda node_id: f"sqlite:///{where}/{node_id}.db", clock, seed=13
    )
    for lg in DEMO_MUNICIPALITIES:
        network.national.allot(lg, 1_000)
    network.run_until_quiet()
    yield network
    network.dispose()


def uow(node: MunicipalityNode) -> SqlRegistryUnitOfWork:
    return SqlRegistryUnitOfWork(node.engine, clock=node.clock)


def resident(net: InProcessNetwork, person: PersonalItems, street: str) -> ResidentRecord:
    """Someone arrived from abroad at 稲城市, with the 個人番号 national assigned."""
    inagi = net.municipality(INAGI)
    record = svc.record_move_in(
        uow(inagi),
        CLERK,
        RecordMoveIn(
            person=person,
            origin=MoveInOrigin.ABROAD,
            address=f"東京都稲城市{street}",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="大韓民国",
            placement=NewHousehold(),
        ),
    )
    net.run_until_quiet()
    return svc.get_record(uow(inagi), CLERK, record.record_id)


def card_move_out(net: InProcessNetwork, record: ResidentRecord) -> None:
    issue_card(net.municipality(INAGI), record.resident_code)
    svc.record_move_out(
        uow(net.municipality(INAGI)),
        CLERK,
        RecordMoveOut(
            (record.record_id,), NEW_HOME, PLANNED, TODAY, destination_lg_code=FUJISAWA, card=True
        ),
    )
    net.run_until_quiet()


def card_move_in(net: InProcessNetwork, person: PersonalItems, r: ResidentRecord) -> ResidentRecord:
    return svc.record_move_in(
        uow(net.municipality(FUJISAWA)),
        CLERK,
        RecordMoveIn(
            person=person,
            origin=MoveInOrigin.CARD,
            address=NEW_HOME,
            moved_on=TODAY,
            notified_on=TODAY,
            previous_address=r.address,
            placement=NewHousehold(),
            resident_code=r.resident_code,
            my_number=r.my_number,
            previous_lg_code=INAGI,
        ),
    )


def held(net: InProcessNetwork, resident_code: str) -> list[tuple[str, date | None]]:
    m = move_out_infos.c
    with net.municipality(FUJISAWA).engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.from_lg_code, m.withdrawn_on).where(m.resident_code == resident_code)
        )
        return [(r.from_lg_code, r.withdrawn_on) for r in rows]


def dead_letters(net: InProcessNetwork) -> list[str]:
    d = network_tables.net_dead_letters.c
    with net.municipality(FUJISAWA).engine.connect() as conn:
        return list(conn.execute(sa.select(d.reason)).scalars())


def test_a_withdrawn_card_move_out_is_withdrawn_at_the_destination_and_refused_there(
    net: InProcessNetwork,
) -> None:
    taro = PersonalItems("取消", "太郎", "トリケシ", "タロウ", date(1980, 5, 5), Sex.MALE)
    record = resident(net, taro, "東長沼1番地")
    card_move_out(net, record)
    assert held(net, record.resident_code) == [(INAGI, None)]  # the information arrived

    svc.withdraw_move_out(
        uow(net.municipality(INAGI)),
        CLERK,
        WithdrawMoveOut((record.record_id,), "転勤の取りやめ", TODAY),
    )
    net.run_until_quiet()
    assert held(net, record.resident_code) == [(INAGI, TODAY)]  # withdrawn, kept
    with pytest.raises(DomainRuleError) as err:
        card_move_in(net, taro, record)
    assert err.value.rule == "move_out_withdrawn"
    assert "転出取消" in err.value.message_ja and "令和7年4月1日" in err.value.message_ja
    assert svc.get_record(uow(net.municipality(INAGI)), CLERK, record.record_id).is_active
    assert dead_letters(net) == []
    assert net.check() == []


def test_the_alias_history_travels_with_the_card_move(net: InProcessNetwork) -> None:
    lee = PersonalItems(
        "李",
        "ミンジュン",
        "イ",
        "ミンジュン",
        date(1988, 8, 8),
        Sex.MALE,
        foreign=ForeignItems("韓国", ForeignResidentCategory.SPECIAL_PERMANENT, alias_name="金田"),
    )
    record = resident(net, lee, "東長沼2番地")
    inagi = net.municipality(INAGI)
    delete_alias(uow(inagi), CLERK, DeleteAlias(record.record_id, TODAY, TODAY))
    record_alias(uow(inagi), CLERK, RecordAlias(record.record_id, "金山", "カネヤマ", TODAY, TODAY))
    before = svc.get_record(uow(inagi), CLERK, record.record_id)
    card_move_out(net, before)
    at_the_counter = dataclasses.replace(  # the card shows the 通称 in force
        lee,
        foreign=dataclasses.replace(lee.foreign, alias_name="金山"),  # type: ignore[arg-type]
    )
    arrived = card_move_in(net, at_the_counter, before)
    assert arrived.alias_name == "金山"
    assert arrived.alias_history == before.alias_history
    assert [e.action for e in arrived.alias_history] == [
        AliasAction.ENTERED,
        AliasAction.DELETED,
        AliasAction.ENTERED,
    ]
    # recorded by 稲城市, and kept so at 藤沢市: without the history it would start anew here
    assert {e.municipality for e in arrived.alias_history} == {"東京都稲城市"}
