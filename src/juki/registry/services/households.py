"""Moves and changes inside the municipality: 転居 (of a household or some of its members),
世帯分離, 世帯合併 and 世帯主変更."""

from __future__ import annotations

import dataclasses

from juki.core.errors import DomainRuleError, ValidationError
from juki.registry import rules
from juki.registry.commands import (
    ChangeHouseholder,
    MergeHouseholds,
    RecordRelocation,
    SplitHousehold,
)
from juki.registry.model import ChangeReason, Relationship, ResidentRecord
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.services.batch import Batch
from juki.registry.services.checks import (
    active_household,
    active_record,
    distinct_ids,
    first_id,
    relationship_for,
    same_household,
    valid_address,
)
from juki.registry.services.placement import rehead
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission


def record_relocation(
    uow: RegistryUnitOfWork, by: Actor, cmd: RecordRelocation
) -> list[ResidentRecord]:
    """転居 within the municipality, of a whole household or of some of its members."""

    def run(uow: RegistryUnitOfWork) -> list[ResidentRecord]:
        ids = distinct_ids("record_ids", cmd.record_ids)
        records = [active_record(uow, rid) for rid in ids]
        household_id = same_household(records)
        for r in records:
            rules.event_dates(cmd.moved_on, cmd.notified_on, uow.clock.today(), r.birth_date)
        address = valid_address("new_address", cmd.new_address)
        rules.address_in_municipality("new_address", address, uow.municipality.address_prefix)
        household = active_household(uow, household_id)
        if address == household.address:
            raise DomainRuleError(
                "new_address",
                "same_address",
                "the new address is the current one",
                "現住所と同じ住所です",
            )
        members = uow.registry.members(household_id)
        whole = {m.record_id for m in members} == set(ids)
        batch = Batch(uow, by, cmd.moved_on, cmd.notified_on)
        if whole and cmd.new_householder_id is None and cmd.join_household_id is None:
            uow.registry.save_household(dataclasses.replace(household, address=address))
            out = [
                batch.change(
                    r, ChangeReason.RELOCATION, address=address, address_since=cmd.moved_on
                )
                for r in records
            ]
            batch.flush()
            return out
        return _relocate_part(batch, cmd, records, address, whole)

    return perform(
        uow, by, Permission.RECORD_RELOCATION, "records:" + ",".join(cmd.record_ids), run
    )


def _relocate_part(
    batch: Batch,
    cmd: RecordRelocation,
    records: list[ResidentRecord],
    address: str,
    whole: bool,
) -> list[ResidentRecord]:
    """Some members move (or all of them into another household): they start a household at
    the new address or join the one there, and those who stay get a householder."""
    if (cmd.new_householder_id is None) == (cmd.join_household_id is None):
        raise ValidationError(
            "new_householder_id",
            "placement_required",
            "moving part of a household: give either new_householder_id or join_household_id",
            "世帯の一部の転居では、新しい世帯主か加入する世帯のどちらかを指定してください",
        )
    ids = {r.record_id for r in records}
    if not whole:
        rehead(
            batch,
            records[0].household_id,
            ids,
            cmd.remaining_householder_id,
            cmd.relationships,
            field="remaining_householder_id",
        )
    new_household_id = _destination_household(batch, cmd, ids, address)
    out = []
    for r in records:
        rel = (
            Relationship.HOUSEHOLDER
            if r.record_id == cmd.new_householder_id
            else relationship_for(cmd.relationships, r)
        )
        out.append(
            batch.change(
                r,
                ChangeReason.RELOCATION,
                address=address,
                address_since=cmd.moved_on,
                household_id=new_household_id,
                relationship=rel,
            )
        )
    batch.flush()
    return out


def _destination_household(batch: Batch, cmd: RecordRelocation, ids: set[str], address: str) -> str:
    if cmd.join_household_id is not None:
        target = active_household(batch.uow, cmd.join_household_id)
        if target.address != address:
            raise DomainRuleError(
                "join_household_id",
                "address_mismatch",
                "the household to join is not at the new address",
                "加入する世帯の住所が転居先と異なります",
            )
        return target.household_id
    if cmd.new_householder_id not in ids:
        raise DomainRuleError(
            "new_householder_id",
            "not_a_mover",
            "the new householder must be one of the members moving",
            "新しい世帯主は転居する方から選んでください",
        )
    return batch.household(address).household_id


def split_household(
    uow: RegistryUnitOfWork, by: Actor, cmd: SplitHousehold
) -> list[ResidentRecord]:
    """世帯分離: some members form a new household at the same address."""

    def run(uow: RegistryUnitOfWork) -> list[ResidentRecord]:
        ids = distinct_ids("record_ids", cmd.record_ids)
        records = [active_record(uow, rid) for rid in ids]
        household_id = same_household(records)
        household = active_household(uow, household_id)
        for r in records:
            rules.event_dates(cmd.effective_on, cmd.notified_on, uow.clock.today(), r.birth_date)
        if {m.record_id for m in uow.registry.members(household_id)} == set(ids):
            raise DomainRuleError(
                "record_ids",
                "whole_household",
                "splitting off every member leaves nothing to split from",
                "世帯全員を分離することはできません",
            )
        if cmd.new_householder_id not in ids:
            raise DomainRuleError(
                "new_householder_id",
                "not_a_leaver",
                "the new householder must be one of the members splitting off",
                "新しい世帯主は分離する方から選んでください",
            )
        batch = Batch(uow, by, cmd.effective_on, cmd.notified_on)
        rehead(
            batch,
            household_id,
            set(ids),
            cmd.remaining_householder_id,
            cmd.relationships,
            field="remaining_householder_id",
        )
        new = batch.household(household.address)
        out = [
            batch.change(
                r,
                ChangeReason.HOUSEHOLD_CHANGE,
                household_id=new.household_id,
                relationship=Relationship.HOUSEHOLDER
                if r.record_id == cmd.new_householder_id
                else relationship_for(cmd.relationships, r),
            )
            for r in records
        ]
        batch.flush()
        return out

    return perform(
        uow, by, Permission.CHANGE_HOUSEHOLD, f"household:{first_id(cmd.record_ids)}", run
    )


def merge_households(
    uow: RegistryUnitOfWork, by: Actor, cmd: MergeHouseholds
) -> list[ResidentRecord]:
    """世帯合併: every member of one household joins another at the same address."""

    def run(uow: RegistryUnitOfWork) -> list[ResidentRecord]:
        if cmd.from_household_id == cmd.into_household_id:
            raise ValidationError(
                "into_household_id",
                "same_household",
                "a household cannot merge into itself",
                "同じ世帯どうしは合併できません",
            )
        source = active_household(uow, cmd.from_household_id)
        target = active_household(uow, cmd.into_household_id)
        if source.address != target.address:
            raise DomainRuleError(
                "into_household_id",
                "address_mismatch",
                "households can merge only at the same address (otherwise it is a relocation)",
                "住所の異なる世帯は合併できません（転居届となります）",
            )
        members = uow.registry.members(source.household_id)
        batch = Batch(uow, by, cmd.effective_on, cmd.notified_on)
        out = []
        for m in members:
            rules.event_dates(cmd.effective_on, cmd.notified_on, uow.clock.today(), m.birth_date)
            out.append(
                batch.change(
                    m,
                    ChangeReason.HOUSEHOLD_CHANGE,
                    household_id=target.household_id,
                    relationship=relationship_for(cmd.relationships, m),
                )
            )
        batch.flush()
        return out

    return perform(uow, by, Permission.CHANGE_HOUSEHOLD, f"household:{cmd.from_household_id}", run)


def change_householder(
    uow: RegistryUnitOfWork, by: Actor, cmd: ChangeHouseholder
) -> list[ResidentRecord]:
    """世帯主変更: every member's relationship is restated against the new householder."""

    def run(uow: RegistryUnitOfWork) -> list[ResidentRecord]:
        active_household(uow, cmd.household_id)
        members = uow.registry.members(cmd.household_id)
        if cmd.new_householder_id not in {m.record_id for m in members}:
            raise DomainRuleError(
                "new_householder_id",
                "not_a_member",
                "the new householder must be a member of the household",
                "新しい世帯主は世帯員から選んでください",
            )
        batch = Batch(uow, by, cmd.effective_on, cmd.notified_on)
        for m in members:
            rules.event_dates(cmd.effective_on, cmd.notified_on, uow.clock.today(), m.birth_date)
            rel = (
                Relationship.HOUSEHOLDER
                if m.record_id == cmd.new_householder_id
                else relationship_for(cmd.relationships, m)
            )
            batch.change(m, ChangeReason.HOUSEHOLD_CHANGE, relationship=rel)
        return batch.flush()

    return perform(uow, by, Permission.CHANGE_HOUSEHOLD, f"household:{cmd.household_id}", run)
