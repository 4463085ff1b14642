"""Births and deaths: the events that add a person to the simulation or end one.

Both change who the simulator's `Truth` expects to be alive and resident, so each records the
person there as soon as the registry has accepted the command (and only then).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from juki.registry import services as svc
from juki.registry.commands import PersonalItems, RecordBirth, RecordDeath
from juki.registry.model import Relationship, ResidentRecord, Sex
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.sim.population import Person, Whereabouts
from juki.sim.workload.desk import CLERK, Desk
from juki.sim.workload.forms import SPOUSE_OF_HEAD, restate

BOYS: Final = (
    ("翔", "ショウ"),
    ("蓮", "レン"),
    ("陽翔", "ハルト"),
    ("湊", "ミナト"),
    ("大和", "ヤマト"),
)
GIRLS: Final = (
    ("陽葵", "ヒマリ"),
    ("凛", "リン"),
    ("結菜", "ユイナ"),
    ("葵", "アオイ"),
    ("紬", "ツムギ"),
)


def birth(desk: Desk, lg: str) -> None:
    today = desk.today(lg)
    found: tuple[ResidentRecord, ResidentRecord] | None = None
    for members in desk.some_household(lg):
        head = members[0]
        mothers = [
            m
            for m in members
            if m.sex is Sex.FEMALE
            and not m.is_foreign
            and 18 <= m.age_on(today) <= 45
            and m.relationship
            in (Relationship.HOUSEHOLDER, Relationship.WIFE, Relationship.WIFE_UNREGISTERED)
        ]
        if mothers and not head.is_foreign:
            found = (head, mothers[0])
            break
    if found is None:
        desk.stats.skipped["birth"] += 1
        return
    head, mother = found
    family = head if mother.relationship is Relationship.WIFE else mother
    sex = Sex.MALE if desk.rng.random() < 0.512 else Sex.FEMALE
    given, kana = desk.rng.choice(BOYS if sex is Sex.MALE else GIRLS)
    born = today - timedelta(days=desk.rng.randint(0, 13))
    person = PersonalItems(
        family_name=family.family_name,
        given_name=given,
        family_name_kana=family.family_name_kana,
        given_name_kana=kana,
        birth_date=born,
        sex=sex,
        honseki=mother.honseki,
        koseki_head=mother.koseki_head,
    )
    cmd = RecordBirth(person, head.household_id, Relationship.CHILD, today)
    out: list[ResidentRecord] = []

    def run(uow: SqlRegistryUnitOfWork) -> str:
        out.append(svc.record_birth(uow, CLERK, cmd))
        return f"birth of {out[0].resident_code} ({given})"

    if desk.file("birth", lg, run, [f"household:{head.household_id}"]):
        child = out[0]
        desk.truth.add(Person(child.resident_code, born, sex.value, Whereabouts.RESIDENT, lg))
        desk.trace.add(desk.cluster.master.now(), "born here", [f"person:{child.resident_code}"])


def death(desk: Desk, lg: str) -> None:
    candidates = desk.residents(lg, 6)
    if not candidates:
        desk.stats.skipped["death"] += 1
        return
    who = min(candidates, key=lambda r: (r.birth_date, r.record_id))
    members = desk.members(lg, who.household_id)
    remaining = [m for m in members if m.record_id != who.record_id]
    new_head: str | None = None
    relationships: dict[str, Relationship] = {}
    if who.relationship is Relationship.HOUSEHOLDER and len(remaining) > 1:
        spouses = [m for m in remaining if m.relationship in SPOUSE_OF_HEAD]
        head = spouses[0] if spouses else min(remaining, key=lambda r: r.birth_date)
        new_head = head.record_id
        relationships = restate(remaining, head)
    died_on = desk.days_ago(lg, 6, who.birth_date)
    cmd = RecordDeath(who.record_id, died_on, desk.today(lg), new_head, relationships)

    def run(uow: SqlRegistryUnitOfWork) -> str:
        svc.record_death(uow, CLERK, cmd)
        return f"death of {who.resident_code} on {died_on}"

    if desk.file("death", lg, run, [f"person:{who.resident_code}"]):
        desk.truth.people[who.resident_code].status = Whereabouts.DEAD
