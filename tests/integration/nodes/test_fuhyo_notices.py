"""附票記載事項通知 as 法第19条 reads: the municipality a person moves to notifies the 本籍
municipality, the one they leave does not; a 国外転出 is notified by the last municipality,
saying 国外転出者である旨 (法第17条). On the demo network, both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime

import pytest

from juki.certificates.fuhyo_store import fuhyo_snapshot
from juki.core.clock import JST, FixedClock
from juki.network.messages import FuhyoNotice, SchemaError, parse_body
from juki.nodes.layout import DEMO_MUNICIPALITIES, demo_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.registry import services as svc
from juki.registry.commands import (
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
    RecordMoveOut,
)
from juki.registry.model import Municipality, ResidentRecord, Sex
from juki.registry.store.journal import fuhyo_history
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role

CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
INAGI, NISHITOKYO = "132250", "132292"
HONSEKI = "東京都稲城市東長沼3番地"


@pytest.fixture
def net(node_db_url: Callable[[str], str]) -> Iterator[InProcessNetwork]:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(demo_layout(), node_db_url, clock, seed=5)
    for lg in DEMO_MUNICIPALITIES:
        network.national.allot(lg, 1_000)
    network.run_until_quiet()
    yield network
    network.dispose()


def settle_in_nishitokyo(net: InProcessNetwork, given: str) -> ResidentRecord:
    """Someone with 本籍 in 稲城市 comes back from abroad to 西東京市."""
    node = net.municipality(NISHITOKYO)
    return svc.record_move_in(
        SqlRegistryUnitOfWork(node.engine, clock=node.clock),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                family_name="附票",
                given_name=given,
                family_name_kana="フヒョウ",
                given_name_kana="タロウ",
                birth_date=date(1970, 7, 7),
                sex=Sex.MALE,
                honseki=HONSEKI,
                koseki_head="附票　一郎",
            ),
            origin=MoveInOrigin.ABROAD,
            address=f"東京都西東京市田無町{len(given)}番地",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="フランス共和国",
            placement=NewHousehold(),
        ),
    )


def history(net: InProcessNetwork, resident_code: str) -> list[dict[str, object]]:
    with net.municipality(INAGI).engine.connect() as conn:
        return [
            h
            for h in fuhyo_history(conn, HONSEKI, "附票　一郎")
            if h["resident_code"] == resident_code
        ]


def move_out(net: InProcessNetwork, person: ResidentRecord, to: str, abroad: bool) -> None:
    node = net.municipality(NISHITOKYO)
    svc.record_move_out(
        SqlRegistryUnitOfWork(node.engine, clock=node.clock),
        CLERK,
        RecordMoveOut((person.record_id,), to, date(2025, 4, 1), date(2025, 4, 1), abroad=abroad),
    )
    net.run_until_quiet()


def test_the_municipality_left_behind_does_not_notify_a_move_out(net: InProcessNetwork) -> None:
    person = settle_in_nishitokyo(net, "太郎")
    net.run_until_quiet()
    assert [h["from_lg_code"] for h in history(net, person.resident_code)] == [NISHITOKYO]

    move_out(net, person, "神奈川県藤沢市辻堂1番地", abroad=False)

    entries = history(net, person.resident_code)
    assert len(entries) == 1  # 藤沢市 notifies when the person moves in there, not 西東京市 now
    assert entries[0]["moved_abroad"] is False


def test_a_move_abroad_is_notified_with_its_mark(net: InProcessNetwork) -> None:
    person = settle_in_nishitokyo(net, "次郎")
    net.run_until_quiet()
    move_out(net, person, "アメリカ合衆国", abroad=True)

    entries = history(net, person.resident_code)
    assert [
        (h["from_lg_code"], h["change_reason"], h["moved_abroad"], h["abroad_country"])
        for h in entries
    ] == [
        (NISHITOKYO, "immigration", False, None),
        (NISHITOKYO, "emigration", True, "アメリカ合衆国"),  # the country: notice v4
    ]


def test_the_honseki_municipality_shows_the_country_the_notice_carried(
    net: InProcessNetwork,
) -> None:
    """稲城市 keeps no 住民票 of him: the 転出先 on his 附票の写し comes from the notice."""
    person = settle_in_nishitokyo(net, "四郎")
    net.run_until_quiet()
    move_out(net, person, "アメリカ合衆国", abroad=True)

    with net.municipality(INAGI).engine.connect() as conn:
        snapshot = fuhyo_snapshot(
            conn,
            person.resident_code,
            Municipality(INAGI, "東京都", "稲城市"),
            net.municipality(INAGI).clock.now(),
            lock=False,
        )
    assert snapshot.subject.is_abroad
    assert snapshot.subject.abroad_destination == "アメリカ合衆国"


def test_a_version_1_notice_still_parses_as_the_current_one_and_is_not_marked_abroad() -> None:
    body = {
        "resident_code": "24727059608",
        "family_name": "附票",
        "given_name": "三郎",
        "family_name_kana": "フヒョウ",
        "given_name_kana": "サブロウ",
        "birth_date": "1970-07-07",
        "sex": "male",
        "honseki": HONSEKI,
        "koseki_head": "附票　一郎",
        "address": "東京都西東京市田無町1番地",
        "address_since": "2025-03-20",
        "status": "active",
        "change_reason": "move_in",
        "changed_on": "2025-03-20",
        "from_lg_code": NISHITOKYO,
    }
    old = parse_body("fuhyo_notice", 1, body)
    assert isinstance(old, FuhyoNotice)  # read as the current version, with nothing marked
    assert (old.moved_abroad, old.support_measure) == (False, False)
    with pytest.raises(SchemaError):  # version 1 has no such field
        parse_body("fuhyo_notice", 1, body | {"moved_abroad": True})
