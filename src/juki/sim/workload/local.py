"""Events that stay within one municipality: 転居, household changes, names, corrections.

None of them moves anyone between nodes; they change records in place, and when what changes
is an identity item (an address, a name, a birth date) the CS and the levels above must follow.
A household split is remembered on the desk, so a later household event can merge it back.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from juki.registry import services as svc
from juki.registry.commands import (
    CancelChanges,
    ChangeHouseholder,
    ChangeName,
    ChangeResidentCode,
    CorrectByAuthority,
    MergeHouseholds,
    RecordRelocation,
    SplitHousehold,
)
from juki.registry.model import Relationship, ResidentRecord, Sex
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.sim.workload.desk import CLERK, SUPERVISOR, Desk
from juki.sim.workload.forms import SPOUSE_OF_HEAD, random_address, restate

SURNAMES: Final = (
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("髙橋", "タカハシ"), ("山﨑", "ヤマサキ"),
)  # fmt: skip
CANCELLATION_SHARE: Final = 0.05  # 異動取消 of a relocation recorded with the wrong address
READINGS: Final = ("ハナコ", "タロウ", "ジロウ", "サクラ", "ユウキ", "ヒカル", "マコト", "アキラ")


def relocation(desk: Desk, lg: str) -> None:
    picked = desk.some_household(lg, 1)
    if not picked:
        desk.stats.skipped["relocation"] += 1
        return
    members = picked[0]
    today = desk.today(lg)
    address = random_address(desk.towns(lg), desk.rng)
    adults = [
        m
        for m in members
        if m.relationship is not Relationship.HOUSEHOLDER and m.age_on(today) >= 18
    ]
    if adults and desk.rng.random() < 0.2:
        mover = adults[desk.rng.randrange(len(adults))]
        movers = [mover]
        new_head: str | None = mover.record_id
    else:
        movers, new_head = members, None
    moved_on = desk.days_ago(lg, 7, max(m.birth_date for m in movers))
    cmd = RecordRelocation(
        record_ids=tuple(m.record_id for m in movers),
        new_address=address,
        moved_on=moved_on,
        notified_on=today,
        new_householder_id=new_head,
    )
    codes = [m.resident_code for m in movers]

    def run(uow: SqlRegistryUnitOfWork) -> str:
        svc.record_relocation(uow, CLERK, cmd)
        return f"relocation of {codes} to {address}"

    filed = desk.file("relocation", lg, run, [f"person:{c}" for c in codes])
    if filed and desk.rng.random() < CANCELLATION_SHARE:
        _cancel(desk, lg, cmd.record_ids, codes)


def _cancel(desk: Desk, lg: str, record_ids: tuple[str, ...], codes: list[str]) -> None:
    """異動取消 by a supervisor: the address was entered wrongly; the movers are back where
    they were, by a new change every level follows."""
    cmd = CancelChanges(record_ids, "住所の誤記載")

    def run(uow: SqlRegistryUnitOfWork) -> str:
        svc.cancel_changes(uow, SUPERVISOR, cmd)
        return f"relocation of {codes} cancelled"

    desk.file("change_cancellation", lg, run, [f"person:{c}" for c in codes])


def household_change(desk: Desk, lg: str) -> None:
    roll = desk.rng.random()
    if roll < 0.2 and desk.splits:
        _merge(desk)
        return
    picked = [m for m in desk.some_household(lg) if len(m) > 1]
    if not picked:
        desk.stats.skipped["household"] += 1
        return
    members = picked[0]
    today = desk.today(lg)
    adults = [
        m
        for m in members
        if m.relationship is not Relationship.HOUSEHOLDER and m.age_on(today) >= 18
    ]
    if not adults:
        desk.stats.skipped["household"] += 1
        return
    head = members[0]
    if roll < 0.6:
        leaver = adults[desk.rng.randrange(len(adults))]
        split = SplitHousehold(
            record_ids=(leaver.record_id,),
            new_householder_id=leaver.record_id,
            relationships={},
            effective_on=desk.days_ago(lg, 7, leaver.birth_date),
            notified_on=today,
        )
        out: list[ResidentRecord] = []

        def run_split(uow: SqlRegistryUnitOfWork) -> str:
            out.extend(svc.split_household(uow, CLERK, split))
            return f"household split: {leaver.resident_code} leaves {head.household_id[:8]}"

        keys = [f"person:{leaver.resident_code}"]
        if desk.file("household", lg, run_split, keys):
            desk.splits.append((lg, out[0].household_id, head.household_id))
        return
    spouses = [m for m in adults if m.relationship in SPOUSE_OF_HEAD]
    new_head = spouses[0] if spouses else min(adults, key=lambda r: r.birth_date)
    relationships = restate(members, new_head)
    if new_head.relationship in SPOUSE_OF_HEAD:
        relationships[head.record_id] = (
            Relationship.WIFE if head.sex is Sex.FEMALE else Relationship.HUSBAND
        )
    change = ChangeHouseholder(
        household_id=head.household_id,
        new_householder_id=new_head.record_id,
        relationships=relationships,
        effective_on=desk.days_ago(lg, 7, max(m.birth_date for m in members)),
        notified_on=today,
    )

    def run_change(uow: SqlRegistryUnitOfWork) -> str:
        svc.change_householder(uow, CLERK, change)
        return f"householder of {head.household_id[:8]} is now {new_head.resident_code}"

    desk.file("household", lg, run_change, [f"person:{new_head.resident_code}"])


def _merge(desk: Desk) -> None:
    lg, source, target = desk.splits.pop(desk.rng.randrange(len(desk.splits)))
    members = desk.members(lg, source)
    if not members or not desk.members(lg, target):
        desk.stats.skipped["household"] += 1
        return
    today = desk.today(lg)
    merge = MergeHouseholds(
        from_household_id=source,
        into_household_id=target,
        relationships={m.record_id: Relationship.RELATIVE for m in members},
        effective_on=desk.days_ago(lg, 3, max(m.birth_date for m in members)),
        notified_on=today,
    )

    def run(uow: SqlRegistryUnitOfWork) -> str:
        svc.merge_households(uow, CLERK, merge)
        return f"households merged: {source[:8]} into {target[:8]}"

    desk.file("household", lg, run, [f"person:{m.resident_code}" for m in members])


def name_change(desk: Desk, lg: str) -> None:
    today = desk.today(lg)
    adults = [r for r in desk.residents(lg, 6) if not r.is_foreign and 20 <= r.age_on(today) <= 60]
    if not adults:
        desk.stats.skipped["name_change"] += 1
        return
    r = adults[0]
    family, kana = desk.rng.choice([s for s in SURNAMES if s[0] != r.family_name])
    cmd = ChangeName(
        record_id=r.record_id,
        family_name=family,
        given_name=r.given_name,
        family_name_kana=kana,
        given_name_kana=r.given_name_kana,
        effective_on=desk.days_ago(lg, 7, r.birth_date),
        notified_on=today,
    )

    def run(uow: SqlRegistryUnitOfWork) -> str:
        svc.change_name(uow, CLERK, cmd)
        return f"name change of {r.resident_code} to {family}"

    desk.file("name_change", lg, run, [f"person:{r.resident_code}"])


def correction(desk: Desk, lg: str) -> None:
    picked = desk.residents(lg, 1)
    if not picked:
        desk.stats.skipped["correction"] += 1
        return
    r = picked[0]
    today = desk.today(lg)
    fields: dict[str, object]
    if desk.rng.random() < 0.5 and not r.is_foreign:
        fields = {"given_name_kana": desk.rng.choice(READINGS)}
    else:
        shifted = r.birth_date + timedelta(days=desk.rng.choice((-1, 1)))
        fields = {"birth_date": min(shifted, today).isoformat()}
    cmd = CorrectByAuthority(r.record_id, fields, today, "職権修正（届出内容の誤り）")

    def run(uow: SqlRegistryUnitOfWork) -> str:
        svc.correct_by_authority(uow, SUPERVISOR, cmd)
        return f"correction of {r.resident_code}: {sorted(fields)}"

    if desk.file("correction", lg, run, [f"person:{r.resident_code}"]):
        person = desk.truth.people[r.resident_code]
        if "birth_date" in fields:
            person.birth_date = date.fromisoformat(str(fields["birth_date"]))


def resident_code_change(desk: Desk, lg: str) -> None:
    """住民票コードの変更請求 (法第30条の4): a resident asks for a new code; every level must
    retire the former one and never hand it out again."""
    picked = desk.residents(lg, 1)
    if not picked:
        desk.stats.skipped["resident_code_change"] += 1
        return
    r = picked[0]
    cmd = ChangeResidentCode(r.record_id, "本人からの変更請求", desk.today(lg))
    new: list[str] = []

    def run(uow: SqlRegistryUnitOfWork) -> str:
        new.append(svc.change_resident_code(uow, CLERK, cmd).record.resident_code)
        return f"resident code change of {r.resident_code} to {new[0]}"

    if desk.file("resident_code_change", lg, run, [f"person:{r.resident_code}"]):
        desk.truth.change_code(r.resident_code, new[0])
