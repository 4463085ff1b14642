"""A 支援措置 travels with the 附票 notice (要領 第5-10, 法第19条), over the in-process demo
network on both databases: recording a measure where the person lives puts the mark on the
本籍 municipality's 附票 entry with the measure's period (notice v3), from which the 本籍
computes on any day whether it applies, and terminating it takes the mark off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest

from juki.core.clock import JST, FixedClock
from juki.nodes.layout import DEMO_MUNICIPALITIES, demo_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.registry import services as svc
from juki.registry.commands import MoveInOrigin, NewHousehold, PersonalItems, RecordMoveIn
from juki.registry.model import Sex
from juki.registry.store.journal import fuhyo_history, fuhyo_support_on
from juki.registry.support.commands import RecordSupportMeasure, TerminateSupportMeasure
from juki.registry.support.model import RestrainedParty, SupportKind
from juki.registry.support.services import record_support_measure, terminate_support_measure
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role

CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
SUPERVISOR = Actor("super", Role.REGISTRY_SUPERVISOR, "T2")
INAGI, NISHITOKYO = "132250", "132292"
HONSEKI = "東京都稲城市東長沼5番地"
HEAD = "支援　一郎"


@pytest.fixture
def net(node_db_url: Callable[[str], str]) -> Iterator[InProcessNetwork]:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(demo_layout(), node_db_url, clock, seed=7)
    for lg in DEMO_MUNICIPALITIES:
        network.national.allot(lg, 1_000)
    network.run_until_quiet()
    yield network
    network.dispose()


def marks(net: InProcessNetwork, resident_code: str) -> list[tuple[str, bool]]:
    with net.municipality(INAGI).engine.connect() as conn:
        return [
            (h["change_reason"], h["support_measure"])
            for h in fuhyo_history(conn, HONSEKI, HEAD)
            if h["resident_code"] == resident_code
        ]


def entries(net: InProcessNetwork, resident_code: str) -> list[dict[str, Any]]:
    with net.municipality(INAGI).engine.connect() as conn:
        return [
            h for h in fuhyo_history(conn, HONSEKI, HEAD) if h["resident_code"] == resident_code
        ]


def test_the_honseki_municipality_learns_of_the_measure_and_of_its_end(
    net: InProcessNetwork,
) -> None:
    node = net.municipality(NISHITOKYO)

    def uow() -> SqlRegistryUnitOfWork:
        return SqlRegistryUnitOfWork(node.engine, clock=node.clock)

    person = svc.record_move_in(
        uow(),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                family_name="支援",
                given_name="花子",
                family_name_kana="シエン",
                given_name_kana="ハナコ",
                birth_date=date(1990, 7, 7),
                sex=Sex.FEMALE,
                honseki=HONSEKI,
                koseki_head=HEAD,
            ),
            origin=MoveInOrigin.ABROAD,
            address="東京都西東京市田無町5番地",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="フランス共和国",
            placement=NewHousehold(),
        ),
    )
    net.run_until_quiet()
    assert marks(net, person.resident_code) == [("immigration", False)]

    measure = record_support_measure(
        uow(),
        SUPERVISOR,
        RecordSupportMeasure(
            SupportKind.DOMESTIC_VIOLENCE,
            date(2025, 3, 31),
            (person.record_id,),
            (RestrainedParty("支援", "一郎"),),
            "警察署の意見",
        ),
    )
    net.run_until_quiet()
    assert marks(net, person.resident_code)[-1] == ("support_measure", True)
    # the notice (v3) carries the period: the 本籍 knows when it lapses without another notice
    entry = entries(net, person.resident_code)[-1]
    assert (entry["support_starts_on"], entry["support_ends_on"]) == (
        date(2025, 4, 1),
        date(2026, 3, 31),
    )
    assert fuhyo_support_on(entry, date(2026, 3, 31))
    assert not fuhyo_support_on(entry, date(2026, 4, 1))
    assert not fuhyo_support_on(entry, date(2025, 3, 31))

    terminate_support_measure(
        uow(),
        SUPERVISOR,
        TerminateSupportMeasure(measure.measure_id, date(2025, 4, 1), "本人の申出"),
    )
    net.run_until_quiet()
    assert marks(net, person.resident_code)[-1] == ("support_measure", False)
    ended = entries(net, person.resident_code)[-1]
    assert (ended["support_starts_on"], ended["support_ends_on"]) == (None, None)
    assert not fuhyo_support_on(ended, date(2025, 4, 2))
