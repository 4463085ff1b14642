"""Moves between municipalities: the 転出 filed at the old counter, the 転入 at the new one.

A move is two events days apart at two nodes, with the network carrying what joins them (the
転出証明書情報 for a card move, the move-in notice back to the old municipality). So a move-out
leaves a `MovePlan` on the desk, and the move-in is planned each day from those plans until
every mover is in, a card move falls back to paper after `MAX_CARD_WAIT` days without its
information, or `MAX_MOVE_IN_TRIES` failures leave the rest MOVING for the invariants to find.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import sqlalchemy as sa

from juki.cards import model as card_model
from juki.cards.model import Backend
from juki.cards.store import SqlCards
from juki.registry import services as svc
from juki.registry.commands import (
    JoinHousehold,
    MoveInOrigin,
    NewHousehold,
    Placement,
    RecordMoveIn,
    RecordMoveOut,
    WithdrawMoveOut,
)
from juki.registry.model import Relationship, ResidentRecord
from juki.registry.tables import move_out_infos
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.sim.population import CompletedMove, PlannedMoveOut, Whereabouts, WithdrawnCardMove
from juki.sim.workload.desk import CLERK, Desk, MovePlan, Mover
from juki.sim.workload.forms import personal_items, random_address

OUTSIDE_SHARE: Final = 0.08  # moves to a municipality outside the simulated network
CARD_SHARE: Final = 0.5  # card-based moves (転出届の特例) where everyone has a card
MAX_CARD_WAIT: Final = 7  # days a card move-in waits for the 転出証明書情報 before going paper
MAX_MOVE_IN_TRIES: Final = 30
WITHDRAWAL_SHARE: Final = 0.05  # 転出取消: the move is called off before its planned date


def hold_cards(uow: SqlRegistryUnitOfWork, codes: list[str], lg: str, on: date) -> None:
    """The movers hold a working 個人番号カード: the card register says so (a card-based 転出届
    needs it). The simulator keeps the register entry only: the card's keys and the national
    card CA are exercised in tests/integration/cards, not in every simulated move."""
    if not codes:
        return
    with uow:
        cards = SqlCards(uow.connection, uow.clock.now)
        for code in codes:
            if not uow.card_holders.holds_card(code):
                card = card_model.apply(f"SIM-{code}", code, lg, Backend.SOFT, on, [])
                expires = on + timedelta(days=3650)
                cards.add(card_model.issue(card, on, expires, f"sim-{code}", None))
        uow.commit()


def _withdraw(desk: Desk, lg: str, filed: RecordMoveOut, codes: list[str]) -> bool:
    """転出取消 at the same counter, before the planned date (法24条, ADR 0005). They stay:
    nothing moves, the levels learn the record is active again, and a card move's destination
    learns the 転出証明書情報 it holds is withdrawn (checked at the end)."""
    cmd = WithdrawMoveOut(filed.record_ids, "転出の取りやめ", desk.today(lg))

    def run(uow: SqlRegistryUnitOfWork) -> str:
        records = svc.withdraw_move_out(uow, CLERK, cmd)
        return f"move-out withdrawn for {[r.resident_code for r in records]}"

    if not desk.file("move_withdrawal", lg, run, [f"record:{r}" for r in filed.record_ids]):
        return False
    to_lg = filed.destination_lg_code
    if filed.card and to_lg is not None:
        desk.truth.withdrawn_card_moves.extend(
            WithdrawnCardMove(c, lg, to_lg, filed.planned_on) for c in codes
        )
    return True


def move_out(desk: Desk, lg: str) -> None:
    picked = desk.some_household(lg, 1)
    if not picked:
        desk.stats.skipped["move"] += 1
        return
    members = picked[0]
    today = desk.today(lg)
    movers = members
    if len(members) > 1 and desk.rng.random() < 0.3:
        adults = [
            m
            for m in members
            if m.relationship is not Relationship.HOUSEHOLDER and m.age_on(today) >= 18
        ]
        if adults:
            movers = [adults[desk.rng.randrange(len(adults))]]
    others = [m for m in desk.municipalities if m != lg]
    to_lg: str | None
    if desk.outside and (not others or desk.rng.random() < OUTSIDE_SHARE):
        to_lg = None
        destination = desk.outside[desk.rng.randrange(len(desk.outside))]
    elif others:
        to_lg = destination = others[desk.rng.randrange(len(others))]
    else:
        desk.stats.skipped["move"] += 1
        return
    address = random_address(desk.towns(destination), desk.rng)
    card = (
        to_lg is not None
        and all(m.my_number is not None for m in movers)
        and desk.rng.random() < CARD_SHARE
    )
    planned_on = today + timedelta(days=desk.rng.randint(0, 5))
    cmd = RecordMoveOut(
        record_ids=tuple(m.record_id for m in movers),
        destination_address=address,
        planned_on=planned_on,
        notified_on=today,
        destination_lg_code=to_lg if card else None,
        card=card,
    )
    codes = [m.resident_code for m in movers]

    def run(uow: SqlRegistryUnitOfWork) -> str:
        hold_cards(uow, codes if card else [], lg, today)
        svc.record_move_out(uow, CLERK, cmd)
        route = "card" if card else "certificate"
        return f"move-out of {codes} to {to_lg or destination} ({route}) planned {planned_on}"

    if not desk.file("move", lg, run, [f"person:{c}" for c in codes]):
        return
    if (
        planned_on > today
        and desk.rng.random() < WITHDRAWAL_SHARE
        and _withdraw(desk, lg, cmd, codes)
    ):
        return
    for m in movers:
        desk.truth.people[m.resident_code].status = (
            Whereabouts.MOVING if to_lg else Whereabouts.OUTSIDE
        )
        desk.truth.move_outs.append(PlannedMoveOut(m.resident_code, lg, planned_on, address, to_lg))
    if to_lg is None:
        return
    desk.certificates += 1
    whole = len(movers) == len(members)
    desk.moves.append(
        MovePlan(
            from_lg=lg,
            to_lg=to_lg,
            movers=[
                Mover(m, m.relationship if whole else Relationship.HOUSEHOLDER) for m in movers
            ],
            address=address,
            planned_on=planned_on,
            card=card,
            certificate=f"{lg}-{desk.certificates:06d}",
            due=planned_on + timedelta(days=desk.rng.randint(0, 3)),
        )
    )


def _card_info_arrived(desk: Desk, plan: MovePlan, code: str) -> bool:
    node = desk.cluster.municipality(plan.to_lg)
    if node is None:
        return False
    m = move_out_infos.c
    with node.engine.connect() as conn:
        row = conn.execute(
            sa.select(m.resident_code).where(
                (m.resident_code == code) & (m.from_lg_code == plan.from_lg) & m.used_at.is_(None)
            )
        ).first()
    return row is not None


def move_in(desk: Desk, plan: MovePlan) -> None:
    """転入 at the destination, mover by mover; whoever is left waits for the next day."""
    if not any(p is plan for p in desk.moves):
        return
    lg = plan.to_lg
    plan.tries += 1
    plan.due = desk.today(lg) + timedelta(days=1)
    for mover in plan.movers:
        if mover.done:
            continue
        r = mover.record
        if plan.card and not _card_info_arrived(desk, plan, r.resident_code):
            plan.waited += 1
            desk.trace.add(
                desk.cluster.master.now(),
                f"{lg} card move-in of {r.resident_code} waits for the 転出証明書情報",
                [f"person:{r.resident_code}", f"node:{lg}"],
            )
            if plan.waited > MAX_CARD_WAIT:
                plan.card = False
                desk.stats.card_fallbacks += 1
            return
        placement: Placement = (
            NewHousehold()
            if plan.household_id is None
            else JoinHousehold(plan.household_id, mover.relationship)
        )
        cmd = RecordMoveIn(
            person=personal_items(r),
            origin=MoveInOrigin.CARD if plan.card else MoveInOrigin.CERTIFICATE,
            address=plan.address,
            moved_on=plan.planned_on,
            notified_on=desk.today(lg),
            previous_address=r.address,
            placement=placement,
            resident_code=r.resident_code,
            my_number=r.my_number,
            move_out_certificate_number=None if plan.card else plan.certificate,
            previous_lg_code=plan.from_lg,
        )
        out: list[ResidentRecord] = []

        def run(
            uow: SqlRegistryUnitOfWork, cmd: RecordMoveIn = cmd, out: list[ResidentRecord] = out
        ) -> str:
            out.append(svc.record_move_in(uow, CLERK, cmd))
            return f"move-in of {cmd.resident_code} from {plan.from_lg} ({cmd.origin.value})"

        if not desk.file("move_in", lg, run, [f"person:{r.resident_code}"]):
            if plan.tries >= MAX_MOVE_IN_TRIES:
                _drop(desk, plan)  # left MOVING: the invariants will say so
            return
        mover.done = True
        if plan.household_id is None:
            plan.household_id = out[0].household_id
        desk.truth.people[r.resident_code].status = Whereabouts.RESIDENT
        desk.truth.people[r.resident_code].lg = lg
        desk.truth.completed[(r.resident_code, plan.from_lg, plan.planned_on)] = CompletedMove(
            r.resident_code, plan.from_lg, plan.planned_on, plan.address, plan.planned_on
        )
    _drop(desk, plan)


def _drop(desk: Desk, plan: MovePlan) -> None:
    desk.moves = [p for p in desk.moves if p is not plan]
