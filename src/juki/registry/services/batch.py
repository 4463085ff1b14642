"""The batch: every change of one action, checked together, written together.

An action may change several records (a household moving, a householder leaving). Household
rules are checked on the final state of every household it touched; each record's change is
appended to its history, and the events its CS must forward (identity_info, 附票) are put in
the outbox in the same transaction.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from juki.core.errors import DomainRuleError
from juki.network.messages import ResidentCodeChanged
from juki.registry import rules
from juki.registry.events import fuhyo_due, fuhyo_notice, identity_info_changed
from juki.registry.identity_info import identity_info_of, touches_identity_info
from juki.registry.model import (
    ChangeReason,
    Household,
    HouseholdStatus,
    RecordChange,
    ResidentRecord,
    initial_fields,
)
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.support.model import support_period_on
from juki.security.actors import Actor


class Batch:
    """Collects one action's changes so household rules are checked on the final state."""

    def __init__(
        self, uow: RegistryUnitOfWork, by: Actor, effective_on: date, notified_on: date
    ) -> None:
        self.uow = uow
        self.by = by
        self.effective_on = effective_on
        self.notified_on = notified_on
        self.before: dict[str, ResidentRecord | None] = {}
        self.after: dict[str, ResidentRecord] = {}
        self.reason: dict[str, ChangeReason] = {}
        self.new_households: list[Household] = []
        self.touched_households: set[str] = set()
        self.note = ""

    def add(self, record: ResidentRecord, reason: ChangeReason) -> ResidentRecord:
        self.before[record.record_id] = None
        self.after[record.record_id] = record
        self.reason[record.record_id] = reason
        self.touched_households.add(record.household_id)
        return record

    def change(self, record: ResidentRecord, reason: ChangeReason, **fields: Any) -> ResidentRecord:
        current = self.after.get(record.record_id, record)
        if record.record_id not in self.before:
            self.before[record.record_id] = record
            self.reason[record.record_id] = reason
        after = dataclasses.replace(current, **fields)
        self.after[record.record_id] = after
        self.touched_households.update({record.household_id, after.household_id})
        return after

    def household(self, address: str) -> Household:
        household = Household(
            household_id=self.uow.ids.new_id(),
            lg_code=self.uow.municipality.lg_code,
            address=address,
            formed_on=self.effective_on,
        )
        self.new_households.append(household)
        return household

    def _final_members(self, household_id: str) -> dict[str, ResidentRecord]:
        members = {r.record_id: r for r in self.uow.registry.members(household_id)}
        for rid, after in self.after.items():
            if after.household_id == household_id and after.is_active:
                members[rid] = after
            else:
                members.pop(rid, None)
        return members

    def _current_identity(self, record: ResidentRecord) -> bool:
        """A removed record speaks for the person only while they have no active record here
        (someone who moved out and back keeps their resident code)."""
        if record.is_active:
            return True
        return not any(
            other.is_active and other.record_id != record.record_id
            for other in self.uow.registry.find_by_resident_code(record.resident_code)
        )

    def _with_support(self, record: ResidentRecord) -> ResidentRecord:
        """The record's `support_measure` as of this change's date: whether a 支援措置 is in
        force then (juki.registry.support), with its period. Nothing runs when a measure's
        period ends; the 附票 notice carries the period, so the 本籍 municipality computes the
        end itself, and the next change to the record carries it too (`fuhyo_due` compares
        the flag and the period: a renewal's new end is notified)."""
        measures = self.uow.support_measures.for_records([record.record_id])
        period = support_period_on(measures, record.record_id, self.effective_on)
        starts, ends = period if period else (None, None)
        now = (period is not None, starts, ends)
        if now == (record.support_measure, record.support_starts_on, record.support_ends_on):
            return record
        return dataclasses.replace(
            record, support_measure=now[0], support_starts_on=starts, support_ends_on=ends
        )

    def flush(self) -> list[ResidentRecord]:
        registry = self.uow.registry
        new_ids = {h.household_id for h in self.new_households}
        for household in self.new_households:
            registry.add_household(household)
        for household_id in sorted(self.touched_households):
            members = self._final_members(household_id)
            household = registry.get_household(household_id)
            if members:
                if household.status is HouseholdStatus.DISSOLVED:
                    raise DomainRuleError(
                        "household_id",
                        "dissolved_household",
                        f"household {household_id} is dissolved",
                        "消滅した世帯には入れません",
                    )
                rules.household_consistent(members.values())
            elif household.status is HouseholdStatus.ACTIVE and household_id not in new_ids:
                registry.save_household(
                    dataclasses.replace(
                        household,
                        status=HouseholdStatus.DISSOLVED,
                        dissolved_on=self.effective_on,
                    )
                )
        written: list[ResidentRecord] = []
        for rid, after in list(self.after.items()):
            before = self.before[rid]
            reason = self.reason[rid]
            if before is not None:
                after = self.after[rid] = self._with_support(after)
            if before is None:
                change = RecordChange(
                    reason, self.effective_on, self.notified_on, initial_fields(after), self.note
                )
                registry.add_record(after, change, self.by.actor_id, self.by.approved_by)
            else:
                fields = {
                    f.name: getattr(after, f.name)
                    for f in dataclasses.fields(after)
                    if getattr(after, f.name) != getattr(before, f.name)
                }
                if not fields:
                    continue
                change = RecordChange(
                    reason, self.effective_on, self.notified_on, fields, self.note
                )
                registry.append_change(after, change, self.by.actor_id, self.by.approved_by)
            if before is not None and before.resident_code != after.resident_code:
                # 住民票コードの変更 (法第30条の4): every level retires the former code
                changed = ResidentCodeChanged(
                    former_resident_code=before.resident_code,
                    identity=identity_info_of(after, change),
                )
                self.uow.outbox.put(changed, after.resident_code)
            elif touches_identity_info(before, change) and self._current_identity(after):
                self.uow.outbox.put(identity_info_changed(after, change), after.resident_code)
            if fuhyo_due(before, after, change):
                self.uow.outbox.put(fuhyo_notice(after, change), after.resident_code)
            written.append(after)
        return written
