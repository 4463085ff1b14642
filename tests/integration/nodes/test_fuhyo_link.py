"""附票連携 on the demo network: the 本籍 municipality sends each change of its 附票 up as
附票本人確認情報, to its own prefecture (not the residence's) and to national, exactly once and in
order; a 国外転出 arrives with the country, so the person stays reachable; the reads provision uses
answer by 住民票コード and by the four items, now and as of a day; a copy that diverged is found by
the digests and repaired by the municipality's snapshot; provision finds a person abroad
through it. One network for the module (SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.core.errors import ValidationError
from juki.nodes.fuhyo_link import municipal_fuhyo_identities
from juki.nodes.fuhyo_lookup import fuhyo_identity_by_basic_items, fuhyo_identity_by_code
from juki.nodes.layout import DEMO_MUNICIPALITIES, demo_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.provide import provide_batch
from juki.nodes.provision_register import load_shipped_register
from juki.nodes.tables import fuhyo_identity_changes, fuhyo_identity_copies
from juki.provision.answers import FUHYO_NOT_BY_CODE
from juki.provision.requests import parse_lines
from juki.provision.tables import provision_records
from juki.registry import services as svc
from juki.registry.commands import (
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
    RecordMoveOut,
)
from juki.registry.model import ResidentRecord, Sex
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role

CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
INAGI, NISHITOKYO, FUJISAWA = "132250", "132292", "142051"
TOKYO, KANAGAWA, NATIONAL = "130001", "140007", "national"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessNetwork]:
    where: Path = tmp_path_factory.mktemp("fuhyo_link")
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(demo_layout(), lambda n: f"sqlite:///{where}/{n}.db", clock, seed=7)
    for lg in DEMO_MUNICIPALITIES:
        network.national.allot(lg, 1_000)
    network.run_until_quiet()
    yield network
    network.dispose()


def arrive(net: InProcessNetwork, given: str, honseki: str, kana: str = "タロウ") -> ResidentRecord:
    """Someone with their 本籍 at `honseki` comes back from abroad to 西東京市."""
    node = net.municipality(NISHITOKYO)
    person = svc.record_move_in(
        SqlRegistryUnitOfWork(node.engine, clock=node.clock),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                family_name="連携",
                given_name=given,
                family_name_kana="レンケイ",
                given_name_kana=kana,
                birth_date=date(1971, 8, 9),
                sex=Sex.MALE,
                honseki=honseki,
                koseki_head="連携　一郎",
            ),
            origin=MoveInOrigin.ABROAD,
            address=f"東京都西東京市田無町{len(given)}番地",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="フランス共和国",
            placement=NewHousehold(),
        ),
    )
    net.run_until_quiet()
    return person


def emigrate(net: InProcessNetwork, person: ResidentRecord, country: str) -> None:
    node = net.municipality(NISHITOKYO)
    svc.record_move_out(
        SqlRegistryUnitOfWork(node.engine, clock=node.clock),
        CLERK,
        RecordMoveOut(
            (person.record_id,), country, date(2025, 4, 1), date(2025, 4, 1), abroad=True
        ),
    )
    net.run_until_quiet()


def history(net: InProcessNetwork, node_id: str, code: str) -> list[tuple[str, str, bool]]:
    h = fuhyo_identity_changes.c
    with net.nodes[node_id].engine.connect() as conn:
        bodies = conn.execute(
            sa.select(h.body).where(h.resident_code == code).order_by(h.change_id)
        ).scalars()
        return [
            (b["change_reason"], b["changed_on"], b["moved_abroad"])
            for b in map(json.loads, bodies)
        ]


def by_code(net: InProcessNetwork, node_id: str, code: str, on: date | None = None) -> list[dict]:
    with net.nodes[node_id].engine.connect() as conn:
        return fuhyo_identity_by_code(conn, code, on=on)


def test_a_fuhyo_change_reaches_the_honseki_prefecture_and_national_once_and_in_order(
    net: InProcessNetwork,
) -> None:
    person = arrive(net, "太郎", "東京都稲城市東長沼3番地")
    emigrate(net, person, "アメリカ合衆国")
    code = person.resident_code

    expected = [("immigration", "2025-03-20", False), ("emigration", "2025-04-01", True)]
    assert history(net, TOKYO, code) == expected
    assert history(net, NATIONAL, code) == expected
    assert history(net, KANAGAWA, code) == []
    (now,) = by_code(net, NATIONAL, code)
    assert (now["lg_code"], now["status"], now["moved_abroad"], now["abroad_country"]) == (
        INAGI,
        "removed",
        True,
        "アメリカ合衆国",
    )
    assert by_code(net, TOKYO, code) == [now]
    assert "honseki" not in now and "koseki_head" not in now
    # as of a day: before the 国外転出 the 附票 said 西東京市; before any change, nothing
    (then,) = by_code(net, NATIONAL, code, on=date(2025, 3, 31))
    assert (then["address"], then["moved_abroad"]) == ("東京都西東京市田無町2番地", False)
    assert by_code(net, NATIONAL, code, on=date(2025, 3, 19)) == []


def test_the_fuhyo_goes_to_the_prefecture_of_the_honseki_not_of_the_residence(
    net: InProcessNetwork,
) -> None:
    person = arrive(net, "次郎", "神奈川県藤沢市辻堂1番地", kana="ジロウ")
    assert by_code(net, TOKYO, person.resident_code) == []
    (copy,) = by_code(net, KANAGAWA, person.resident_code)
    assert copy["lg_code"] == FUJISAWA
    assert by_code(net, NATIONAL, person.resident_code) == [copy]


def test_the_four_items_find_the_person_now_and_as_of_a_day(net: InProcessNetwork) -> None:
    person = arrive(net, "三郎", "東京都稲城市東長沼3番地", kana="サブロウ")
    emigrate(net, person, "カナダ")
    with net.national.engine.connect() as conn:
        found = fuhyo_identity_by_basic_items(
            conn, name_kana="れんけい さぶろう", birth_date=date(1971, 8, 9), sex="male"
        )
        assert [(f["resident_code"], f["abroad_country"]) for f in found] == [
            (person.resident_code, "カナダ")
        ]
        earlier = fuhyo_identity_by_basic_items(
            conn,
            name_kana="レンケイサブロウ",
            birth_date=date(1971, 8, 9),
            address_prefix="東京都西東京市",
            on=date(2025, 3, 25),
        )
        assert [(f["resident_code"], f["moved_abroad"]) for f in earlier] == [
            (person.resident_code, False)
        ]
        assert (
            fuhyo_identity_by_basic_items(
                conn, name_kana="レンケイサブロウ", birth_date=date(1971, 8, 9), sex="female"
            )
            == []
        )
        with pytest.raises(ValidationError) as refused:
            fuhyo_identity_by_basic_items(conn, name_kana=" ", birth_date=date(1971, 8, 9))
        assert refused.value.field == "name_kana"


def test_a_diverged_copy_is_found_by_the_digests_and_repaired_by_the_snapshot(
    net: InProcessNetwork,
) -> None:
    arrive(net, "四郎", "東京都稲城市東長沼3番地", kana="シロウ")
    assert net.check() == []
    c = fuhyo_identity_copies.c
    with net.national.engine.begin() as conn:  # national loses one, and one drifts
        conn.execute(fuhyo_identity_copies.delete().where(c.given_name == "四郎"))
        conn.execute(fuhyo_identity_copies.update().values(address="どこか"))
    found = net.check()
    assert INAGI in {d.lg_code for d in found}  # (and 藤沢市, when its 附票 holds someone)
    assert {d.level for d in found} == {"national (附票本人確認情報)"}

    assert net.repair(found) == len({d.lg_code for d in found})
    net.run_until_quiet()

    assert net.check() == []
    with net.municipality(INAGI).engine.connect() as conn:
        mine = [e.model_dump(mode="json") for e in municipal_fuhyo_identities(conn, INAGI)]
    with net.national.engine.connect() as conn:
        held = [
            r for r in (fuhyo_identity_by_code(conn, e["resident_code"]) for e in mine) for r in r
        ]
    assert held == mine


def test_provision_finds_a_person_abroad_through_the_fuhyo_link(
    net: InProcessNetwork, tmp_path: Path
) -> None:
    """国外転出: the identity index holds him removed. The four items find him in the 附票本人確認
    情報 at the prefecture of his 本籍 (not at another) for the task the shipped register lets
    use it (旅券, 別表第五), with the country and without the 住民票コード; national's 別表第一 task
    may not (住基法30条の44の6): told not_found, recorded refused. By code, only identity_info's
    removed entry answers (the 附票 is not searched by 住民票コード)."""
    person = arrive(net, "五郎", "東京都稲城市東長沼3番地", kana="ゴロウ")
    emigrate(net, person, "ドイツ連邦共和国")
    operator = Actor("nat-1", Role.NATIONAL_OPERATOR, "console")
    load_shipped_register(net.national, operator, tmp_path)
    for pref in (TOKYO, KANAGAWA):
        load_shipped_register(
            net.nodes[pref], Actor("p-1", Role.PREFECTURE_OPERATOR, "c"), tmp_path
        )
    good, _ = parse_lines([
        f'{{"resident_code": "{person.resident_code}"}}',
        '{"name_kana": "レンケイ ゴロウ", "birth_date": "1971-08-09", "sex": "male"}',
    ])  # fmt: skip

    def ask(node_id: str, agency: str, task: str) -> list[dict[str, Any]]:
        node = net.nodes[node_id]
        result = provide_batch(node.engine, agency, task, "確認", good, clock=node.clock)
        return [a.as_json() for a in result.answers]

    by_code, by_items = ask(NATIONAL, "nenkin", "別表第一 の 九十一")
    assert (by_code["source"], by_code["identity"]["status"]) == ("identity_info", "removed")
    assert by_items == {"line": 2, "outcome": "not_found"}
    passport = "別表第五 の 二"
    by_code, by_items = ask(TOKYO, "tokyo", passport)
    assert by_code["source"] == "identity_info"
    assert by_items["source"] == "fuhyo_identity_info"
    identity = by_items["identity"]
    assert (identity["moved_abroad"], identity["abroad_country"]) == (True, "ドイツ連邦共和国")
    assert "resident_code" not in identity and "my_number" not in identity
    assert ask(KANAGAWA, "kanagawa", passport) == [
        {"line": 1, "outcome": "not_found", "reason": FUHYO_NOT_BY_CODE},  # holds neither
        {"line": 2, "outcome": "not_found"},
    ]
    pr = provision_records.c
    with net.national.engine.connect() as conn:
        rows = conn.execute(
            sa.select(pr.outcome, pr.source, pr.reason).where(pr.agency_id == "nenkin")
        ).all()
    assert [(r.outcome, r.source) for r in rows] == [
        ("provided", "identity_info"),
        ("refused", None),
    ]
    assert "30条の44の6" in str(rows[1].reason)
    with net.nodes[TOKYO].engine.connect() as conn:
        sources = conn.execute(
            sa.select(pr.source).where(pr.resident_code == person.resident_code)
        ).scalars()
        assert list(sources) == ["identity_info", "fuhyo_identity_info"]
