"""住民票コードの変更請求 across the network (法第30条の4): 稲城市 changes a resident's code; 東京都
and the national node retire the former code and keep the identity_info (and the my_number)
under the new one; the levels still agree; a my_number asked for under the former code still
reaches the resident."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.nodes import codes
from juki.nodes import tables as node_tables
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.municipality import MunicipalityNode
from juki.registry import services as svc
from juki.registry.commands import (
    ChangeResidentCode,
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
)
from juki.registry.model import ResidentRecord, Sex
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role

CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
INAGI, TOKYO = "132250", "130001"
TODAY = date(2025, 4, 1)


@pytest.fixture
def net(tmp_path: Path) -> Iterator[InProcessNetwork]:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(
        small_layout(), lambda node_id: f"sqlite:///{tmp_path}/{node_id}.db", clock, seed=5
    )
    for lg in (INAGI, "142051", "202011"):
        network.national.allot(lg, 300)
    network.run_until_quiet()
    yield network
    network.dispose()


def uow(node: MunicipalityNode) -> SqlRegistryUnitOfWork:
    return SqlRegistryUnitOfWork(node.engine, clock=node.clock, rng=node.rng)


def arrive(node: MunicipalityNode, given: str, kana: str) -> ResidentRecord:
    return svc.record_move_in(
        uow(node),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                family_name="変更",
                given_name=given,
                family_name_kana="ヘンコウ",
                given_name_kana=kana,
                birth_date=date(1985, 6, 7),
                sex=Sex.FEMALE,
            ),
            origin=MoveInOrigin.ABROAD,
            address=f"東京都稲城市東長沼{len(given)}番地",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="フランス共和国",
            placement=NewHousehold(),
        ),
    )


def copies(node: Any, code: str) -> list[dict[str, Any]]:
    c = node_tables.identity_copies.c
    with node.engine.connect() as conn:
        rows = conn.execute(sa.select(node_tables.identity_copies).where(c.resident_code == code))
        return [dict(r) for r in rows.mappings()]


def test_a_code_change_reaches_national_which_retires_the_former_code(
    net: InProcessNetwork,
) -> None:
    inagi = net.municipality(INAGI)
    settled = arrive(inagi, "花子", "ハナコ")
    net.run_until_quiet()
    number = svc.get_record(uow(inagi), CLERK, settled.record_id).my_number
    assert number is not None
    # a second resident changes code before national's my_number has come back
    pending = arrive(inagi, "桜", "サクラ")
    changes = {
        r.resident_code: svc.change_resident_code(
            uow(inagi), CLERK, ChangeResidentCode(r.record_id, "本人の請求", TODAY)
        )
        for r in (settled, pending)
    }
    net.run_until_quiet()

    for former, change in changes.items():
        new = change.record.resident_code
        for node in (inagi, net.nodes[TOKYO], net.national):
            assert copies(node, former) == [], node.node_id
            [copy] = copies(node, new)
            assert (copy["lg_code"], copy["status"]) == (INAGI, "active")
            assert copy["change_reason"] in ("resident_code_change", "my_number_assigned")
        ledger = node_tables.code_ledger.c
        my_number = copies(net.national, new)[0]["my_number"]
        with net.national.engine.connect() as conn:
            retired = conn.execute(
                sa.select(ledger.retired_at).where(ledger.resident_code == former)
            ).scalar_one()
            used = conn.execute(
                sa.select(ledger.used_at).where(ledger.resident_code == new)
            ).scalar_one()
            owner = conn.execute(
                sa.select(node_tables.my_numbers.c.resident_code).where(
                    node_tables.my_numbers.c.my_number == my_number
                )
            ).scalar_one()
            # national never allots a retired code again
            assert codes._taken(conn, [former]) == {former}
        assert retired is not None and used is not None and owner == new
    assert (
        copies(net.national, changes[settled.resident_code].record.resident_code)[0]["my_number"]
        == number
    )
    # the number asked for under the former code reached the resident under the new one
    assert svc.get_record(uow(inagi), CLERK, pending.record_id).my_number is not None
    assert net.check() == []
