"""本人確認情報 carries 旧氏 and 通称 where recorded (they are part of 氏名): a resident's 旧氏
and a foreign resident's 通称 reach the prefecture and the national node, and the levels still
agree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.nodes import tables as node_tables
from juki.nodes.layout import DEMO_MUNICIPALITIES, demo_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.registry import services as svc
from juki.registry.commands import (
    ForeignItems,
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
)
from juki.registry.model import ForeignResidentCategory, ResidentRecord, Sex
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role

CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
INAGI = "132250"


@pytest.fixture
def net(node_db_url: Callable[[str], str]) -> Iterator[InProcessNetwork]:
    clock = FixedClock(datetime(2025, 6, 2, 9, 0, tzinfo=JST))
    network = build_network(demo_layout(), node_db_url, clock, seed=3)
    for lg in DEMO_MUNICIPALITIES:
        network.national.allot(lg, 1_000)
    network.run_until_quiet()
    yield network
    network.dispose()


def arrive(net: InProcessNetwork, person: PersonalItems, house: int) -> ResidentRecord:
    node = net.municipality(INAGI)
    return svc.record_move_in(
        SqlRegistryUnitOfWork(node.engine, clock=node.clock),
        CLERK,
        RecordMoveIn(
            person=person,
            origin=MoveInOrigin.ABROAD,
            address=f"東京都稲城市東長沼{house}番地",
            moved_on=date(2025, 5, 28),
            notified_on=date(2025, 6, 2),
            previous_address="大韓民国",
            placement=NewHousehold(),
        ),
    )


def copy(node: Any, resident_code: str) -> dict[str, Any]:
    c = node_tables.identity_copies.c
    with node.engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(
                    c.former_surname, c.former_surname_kana, c.alias_name, c.alias_name_kana
                ).where(c.resident_code == resident_code)
            )
            .mappings()
            .one()
        )
    return dict(row)


def test_former_surname_and_alias_reach_every_level(net: InProcessNetwork) -> None:
    married = arrive(
        net,
        PersonalItems(
            "佐藤",
            "花子",
            "サトウ",
            "ハナコ",
            date(1988, 8, 8),
            Sex.FEMALE,
            honseki="東京都稲城市東長沼9番地",
            koseki_head="佐藤　一郎",
            former_surname="鈴木",
            former_surname_kana="スズキ",
        ),
        1,
    )
    resident = arrive(
        net,
        PersonalItems(
            "KIM",
            "MINJI",
            "キム",
            "ミンジ",
            date(1992, 2, 2),
            Sex.FEMALE,
            foreign=ForeignItems(
                nationality="韓国",
                category=ForeignResidentCategory.SPECIAL_PERMANENT,
                residence_card_number="AB12345678CD",
                alias_name="金田　美智",
                alias_name_kana="カネダ　ミチ",
            ),
        ),
        2,
    )
    net.run_until_quiet()

    for node in (net.nodes["130001"], net.national):
        assert copy(node, married.resident_code) == {
            "former_surname": "鈴木",
            "former_surname_kana": "スズキ",
            "alias_name": None,
            "alias_name_kana": None,
        }
        assert copy(node, resident.resident_code) == {
            "former_surname": None,
            "former_surname_kana": None,
            "alias_name": "金田　美智",
            "alias_name_kana": "カネダ　ミチ",
        }
    assert net.check() == []  # the digests cover the new items at every level
