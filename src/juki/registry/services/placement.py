"""Where a person goes: a new record in a household (joined or new), a household whose
householder leaves (世帯主変更), and the seal that ends with the record (職権廃止)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date

from juki.core.errors import DomainRuleError, ValidationError
from juki.registry.alias import AliasHistory
from juki.registry.commands import JoinHousehold, PersonalItems, Placement
from juki.registry.model import ChangeReason, RecordStatus, Relationship, ResidentRecord
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.seal import SealStatus
from juki.registry.services.batch import Batch
from juki.registry.services.checks import (
    active_household,
    person_fields,
    relationship_for,
    unused_my_number,
    unused_resident_code,
)


def rehead(
    batch: Batch,
    household_id: str,
    leaving: set[str],
    new_head_id: str | None,
    relationships: Mapping[str, Relationship],
    field: str = "new_householder_id",
) -> None:
    """When the householder leaves, the remaining members need a householder (世帯主変更)."""
    members = batch.uow.registry.members(household_id)
    remaining = [m for m in members if m.record_id not in leaving]
    head_leaves = any(
        m.relationship is Relationship.HOUSEHOLDER for m in members if m.record_id in leaving
    )
    if not remaining or not head_leaves:
        if new_head_id is not None:
            raise ValidationError(
                field,
                "not_needed",
                "the householder stays, so no new householder is needed",
                "世帯主は変わらないため、新しい世帯主の指定は不要です",
            )
        return
    if new_head_id is None:
        if len(remaining) > 1:
            raise ValidationError(
                field,
                "required",
                "the householder leaves: name the new householder of the remaining members",
                "世帯主が抜けるため、残る世帯の新しい世帯主を指定してください",
            )
        new_head_id = remaining[0].record_id
    heads = [m for m in remaining if m.record_id == new_head_id]
    if not heads:
        raise DomainRuleError(
            field,
            "not_a_remaining_member",
            f"{new_head_id} is not a remaining member of household {household_id}",
            "新しい世帯主は残る世帯員から選んでください",
        )
    for m in remaining:
        rel = (
            Relationship.HOUSEHOLDER
            if m.record_id == new_head_id
            else relationship_for(relationships, m)
        )
        batch.change(m, ChangeReason.HOUSEHOLD_CHANGE, relationship=rel)


def place(batch: Batch, placement: Placement, address: str) -> tuple[str, Relationship]:
    if isinstance(placement, JoinHousehold):
        household = active_household(batch.uow, placement.household_id)
        if household.address != address:
            raise DomainRuleError(
                "placement.household_id",
                "address_mismatch",
                "a person can only join a household at the same address",
                "異なる住所の世帯には加入できません",
            )
        if placement.relationship is Relationship.HOUSEHOLDER:
            raise DomainRuleError(
                "placement.relationship",
                "one_householder",
                "the household already has a householder; use a change of householder",
                "既存の世帯には世帯主がいます。世帯主変更届で変更してください",
            )
        return household.household_id, placement.relationship
    return batch.household(address).household_id, Relationship.HOUSEHOLDER


def abolish_seal_of(uow: RegistryUnitOfWork, record_id: str, on: date, reason: str) -> None:
    """死亡・転出・消除で印鑑登録は職権で廃止される."""
    seal = uow.seals.live_for(record_id)
    if seal is not None:
        uow.seals.save(
            dataclasses.replace(
                seal, status=SealStatus.ABOLISHED, abolished_on=on, abolish_reason=reason
            )
        )


def remove_one(
    batch: Batch,
    record: ResidentRecord,
    reason: ChangeReason,
    removed_on: date,
    new_householder_id: str | None,
    relationships: Mapping[str, Relationship],
) -> ResidentRecord:
    """A person leaves the registry alone (死亡, 職権消除): the household gets a householder if
    theirs it was, the record becomes a 除票, and a live seal is abolished by authority."""
    rehead(batch, record.household_id, {record.record_id}, new_householder_id, relationships)
    after = batch.change(
        record,
        reason,
        status=RecordStatus.REMOVED,
        removal_reason=reason,
        removed_on=removed_on,
    )
    abolish_seal_of(batch.uow, record.record_id, removed_on, reason.label_ja)
    return after


def new_record(
    batch: Batch,
    person: PersonalItems,
    *,
    placement: Placement | tuple[str, Relationship],
    address: str,
    resident_since: date,
    notified_on: date | None,
    previous_address: str | None,
    resident_code: str | None,
    my_number: str | None,
    reason: ChangeReason,
    alias_history: AliasHistory = (),
    alias_history_field: str = "alias_history",
) -> ResidentRecord:
    uow = batch.uow
    fields = person_fields(
        person,
        uow.clock.today(),
        uow.municipality.address_prefix,
        alias_history,
        alias_history_field,
    )
    if isinstance(placement, tuple):
        household_id, relationship = placement
    else:
        household_id, relationship = place(batch, placement, address)
    record = ResidentRecord(
        record_id=uow.ids.new_id(),
        lg_code=uow.municipality.lg_code,
        resident_code=unused_resident_code(uow, resident_code),
        my_number=unused_my_number(uow, my_number),
        household_id=household_id,
        relationship=relationship,
        resident_since=resident_since,
        address=address,
        address_since=resident_since,
        notified_on=notified_on,
        previous_address=previous_address,
        **fields,
    )
    return batch.add(record, reason)
