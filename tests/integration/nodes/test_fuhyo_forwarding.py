"""The CS forwards a run of 附票 notices at once (a household's 転居 brings one per member) and
queues for every peer what forwarding the registry's rows one at a time would: each notice to the
municipality of its 本籍, in the order the registry wrote them; one for a 本籍 here recorded on
this 附票 and linked up to the prefecture; one for a 本籍 outside the network nowhere. Every
registry row is marked forwarded in the same transaction. On the demo network, both databases."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.network.fuhyo_link_messages import FuhyoIdentityInfoChanged
from juki.network.messages import FUHYO_NOTICE, FuhyoNotice, MessageBody, parse_body
from juki.network.tables import net_outbox
from juki.nodes.fuhyo_link import fuhyo_identity_of
from juki.nodes.layout import DEMO_MUNICIPALITIES, demo_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.registry import services as svc
from juki.registry.commands import (
    JoinHousehold,
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
    RecordRelocation,
)
from juki.registry.model import Relationship, ResidentRecord, Sex
from juki.registry.store.journal import fuhyo_history
from juki.registry.tables import fuhyo_entries, outbox
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role

CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
INAGI, NISHITOKYO, FUJISAWA, TOKYO = "132250", "132292", "142051", "130001"
# the household's members, by their 本籍: two in 稲城市, one in 藤沢市, one here, one outside
HONSEKI = {
    "一郎": "東京都稲城市東長沼3番地",
    "花子": "神奈川県藤沢市辻堂1番地",
    "次郎": "東京都稲城市東長沼3番地",
    "三郎": "東京都西東京市田無町5番地",
    "四郎": "大阪府大阪市北区中之島1番地",
}


@pytest.fixture
def net(node_db_url: Callable[[str], str]) -> Iterator[InProcessNetwork]:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(demo_layout(), node_db_url, clock, seed=11)
    for lg in DEMO_MUNICIPALITIES:
        network.national.allot(lg, 1_000)
    network.run_until_quiet()
    yield network
    network.dispose()


def household(net: InProcessNetwork) -> list[ResidentRecord]:
    """Five people come back from abroad to 西東京市 as one household."""
    node = net.municipality(NISHITOKYO)
    members: list[ResidentRecord] = []
    for i, (given, honseki) in enumerate(HONSEKI.items()):
        placement = (
            NewHousehold()
            if not members
            else JoinHousehold(members[0].household_id, Relationship.CHILD)
        )
        members.append(
            svc.record_move_in(
                SqlRegistryUnitOfWork(node.engine, clock=node.clock),
                CLERK,
                RecordMoveIn(
                    person=PersonalItems(
                        family_name="附票",
                        given_name=given,
                        family_name_kana="フヒョウ",
                        given_name_kana="タロウ",
                        birth_date=date(1970 + i, 7, 7),
                        sex=Sex.MALE,
                        honseki=honseki,
                        koseki_head=f"附票　{given}",
                    ),
                    origin=MoveInOrigin.ABROAD,
                    address="東京都西東京市田無町1番地",
                    moved_on=date(2025, 3, 20),
                    notified_on=date(2025, 3, 25),
                    previous_address="フランス共和国",
                    placement=placement,
                ),
            )
        )
    net.run_until_quiet()
    return members


def queued(conn: sa.Connection, after: int) -> dict[str, list[MessageBody]]:
    """The 附票 messages queued after outbox row `after`, per peer in sequence order."""
    o = net_outbox.c
    rows = conn.execute(
        sa.select(o.peer, o.message_type, o.schema_version, o.body)
        .where((o.outbox_id > after) & o.message_type.startswith("fuhyo_"))
        .order_by(o.peer, o.seq)
    )
    out: dict[str, list[MessageBody]] = {}
    for r in rows:
        out.setdefault(r.peer, []).append(
            parse_body(r.message_type, r.schema_version, json.loads(r.body))
        )
    return out


def test_a_households_relocation_queues_each_notice_as_one_at_a_time_did(
    net: InProcessNetwork,
) -> None:
    members = household(net)
    node = net.municipality(NISHITOKYO)
    svc.record_relocation(
        SqlRegistryUnitOfWork(node.engine, clock=node.clock),
        CLERK,
        RecordRelocation(
            tuple(m.record_id for m in members),
            "東京都西東京市田無町9番地",
            date(2025, 3, 28),
            date(2025, 3, 31),
        ),
    )
    with node.engine.connect() as conn:
        waiting = conn.execute(
            sa.select(outbox).where(outbox.c.delivered_at.is_(None)).order_by(outbox.c.outbox_id)
        ).all()
        mark = conn.execute(sa.select(sa.func.coalesce(sa.func.max(net_outbox.c.outbox_id), 0)))
        after = int(mark.scalar_one())
    notices: list[tuple[str, FuhyoNotice]] = [
        (r.message_id, parse_body(r.message_type, r.schema_version, json.loads(r.payload)))
        for r in waiting
        if r.message_type == FUHYO_NOTICE
    ]
    assert [n.given_name for _, n in notices] == list(HONSEKI)
    assert len(waiting) > len(notices)  # identity_info interleaved with them
    # what forwarding each row alone queued: per peer, in the registry's order
    expected: dict[str, list[Any]] = {
        INAGI: [n for _, n in notices if n.given_name in ("一郎", "次郎")],
        FUJISAWA: [n for _, n in notices if n.given_name == "花子"],
        TOKYO: [
            FuhyoIdentityInfoChanged(fuhyo_identity=fuhyo_identity_of(n, NISHITOKYO))
            for _, n in notices
            if n.given_name == "三郎"
        ],
    }

    assert node.pump() == len(waiting)  # one transaction for the relocation's rows

    with node.engine.connect() as conn:
        assert queued(conn, after) == expected
        assert (
            conn.execute(
                sa.select(sa.func.count()).where(outbox.c.delivered_at.is_(None))
            ).scalar_one()
            == 0
        )
        kept_here = conn.execute(
            sa.select(fuhyo_entries.c.message_id).where(
                fuhyo_entries.c.changed_on == date(2025, 3, 28)
            )
        ).scalars()
        assert list(kept_here) == [mid for mid, n in notices if n.given_name == "三郎"]
    net.run_until_quiet()
    with net.municipality(INAGI).engine.connect() as conn:
        for given in ("一郎", "次郎"):
            entries = fuhyo_history(conn, HONSEKI[given], f"附票　{given}")
            assert [(e["change_reason"], e["address"]) for e in entries] == [
                ("immigration", "東京都西東京市田無町1番地"),
                ("relocation", "東京都西東京市田無町9番地"),
            ]
