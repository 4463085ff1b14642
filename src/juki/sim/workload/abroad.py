"""Emigration and arrivals from abroad: people leaving the network for a foreign country, and
people entering it, either newcomers with a residence status or Japanese nationals returning.

A Japanese emigrant's items and my_number are kept on the desk, so a later arrival can bring the
same person back under the same resident code; a foreign newcomer is made up here from the
synthetic population's nations, with one of the statuses people arrive on.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from juki.population.synthetic import NATIONS, PERIODS
from juki.registry import services as svc
from juki.registry.commands import (
    ForeignItems,
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordMoveIn,
    RecordMoveOut,
)
from juki.registry.model import ForeignResidentCategory, ResidentRecord, Sex
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.sim.population import Person, Whereabouts
from juki.sim.workload.desk import CLERK, Desk
from juki.sim.workload.forms import personal_items, random_address

ARRIVING_STATUSES: Final = frozenset(
    {"技能実習", "特定技能", "留学", "技術・人文知識・国際業務", "技能", "教育", "定住者"}
)


def emigration(desk: Desk, lg: str) -> None:
    picked = desk.some_household(lg)
    if not picked:
        desk.stats.skipped["emigration"] += 1
        return
    foreign = [m for m in picked if m[0].is_foreign]
    members = (foreign or picked)[0]
    today = desk.today(lg)
    country = "アメリカ合衆国"
    if members[0].is_foreign:
        country = next((n.country for n in NATIONS if n.name == members[0].nationality), country)
    cmd = RecordMoveOut(
        record_ids=tuple(m.record_id for m in members),
        destination_address=country,
        planned_on=today + timedelta(days=desk.rng.randint(0, 7)),
        notified_on=today,
        abroad=True,
    )
    codes = [m.resident_code for m in members]

    def run(uow: SqlRegistryUnitOfWork) -> str:
        svc.record_move_out(uow, CLERK, cmd)
        return f"emigration of {codes} to {country}"

    if desk.file("emigration", lg, run, [f"person:{c}" for c in codes]):
        for m in members:
            desk.truth.people[m.resident_code].status = Whereabouts.ABROAD
            if not m.is_foreign:
                desk.abroad[m.resident_code] = (personal_items(m), m.my_number)


def immigration(desk: Desk, lg: str) -> None:
    today = desk.today(lg)
    address = random_address(desk.towns(lg), desk.rng)
    returning = sorted(desk.abroad)
    if returning and desk.rng.random() < 0.3:
        code = returning[desk.rng.randrange(len(returning))]
        items, number = desk.abroad[code]
        previous = "アメリカ合衆国"
    else:
        code, number, items, previous = None, None, *_arrival(desk, today)
    moved_on = desk.days_ago(lg, 7, items.birth_date)
    cmd = RecordMoveIn(
        person=items,
        origin=MoveInOrigin.ABROAD,
        address=address,
        moved_on=moved_on,
        notified_on=today,
        previous_address=previous,
        placement=NewHousehold(),
        resident_code=code,
        my_number=number,
    )
    out: list[ResidentRecord] = []

    def run(uow: SqlRegistryUnitOfWork) -> str:
        out.append(svc.record_move_in(uow, CLERK, cmd))
        return f"arrival from abroad of {out[0].resident_code} ({items.family_name})"

    if not desk.file("immigration", lg, run, [] if code is None else [f"person:{code}"]):
        return
    record = out[0]
    if code is not None:
        del desk.abroad[code]
        person = desk.truth.people[code]
        person.status, person.lg = Whereabouts.RESIDENT, lg
    else:
        desk.truth.add(
            Person(
                record.resident_code,
                record.birth_date,
                record.sex.value,
                Whereabouts.RESIDENT,
                lg,
            )
        )
    desk.trace.add(desk.cluster.master.now(), "arrived", [f"person:{record.resident_code}"])


def _arrival(desk: Desk, today: date) -> tuple[PersonalItems, str]:
    rng = desk.rng
    nations = [n for n in NATIONS if any(s in ARRIVING_STATUSES for s, _ in n.statuses)]
    nation = rng.choices(nations, weights=[n.weight for n in nations])[0]
    statuses = [(s, w) for s, w in nation.statuses if s in ARRIVING_STATUSES]
    status = rng.choices([s for s, _ in statuses], weights=[w for _, w in statuses])[0]
    period, days = rng.choice(PERIODS[status])
    sex = Sex.MALE if rng.random() < 0.55 else Sex.FEMALE
    family = rng.choice(nation.family)
    given = rng.choice(nation.male if sex is Sex.MALE else nation.female)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    card = (
        "".join(rng.choice(letters) for _ in range(2))
        + f"{rng.randrange(10**8):08d}"
        + "".join(rng.choice(letters) for _ in range(2))
    )
    age = rng.randint(19, 40)
    born = today - timedelta(days=int(age * 365.25) + rng.randrange(365))
    items = PersonalItems(
        family_name=family[0],
        given_name=given[0],
        family_name_kana=family[1].replace(" ", "\u3000"),
        given_name_kana=given[1].replace(" ", "\u3000"),
        birth_date=born,
        sex=sex,
        foreign=ForeignItems(
            nationality=nation.name,
            category=ForeignResidentCategory.MID_LONG_TERM,
            residence_status=status,
            period_of_stay=period,
            stay_expiry=today + timedelta(days=days),
            residence_card_number=card,
        ),
    )
    return items, nation.country
