"""Life events of one person: 出生, 死亡, 氏名変更.

Each public function takes a unit of work, the actor (`by`) and a command; it authorises,
changes the registry, writes the oplog entry and, when identity_info changed, an event for the
CS — all in one transaction (`juki.security.actions.perform`). Records are never overwritten:
every change is appended to the record's history and the stored row is the fold of it.
"""

from __future__ import annotations

from typing import Any

from juki.core.errors import DomainRuleError
from juki.core.text import validate_kana, validate_name
from juki.registry import rules
from juki.registry.commands import ChangeName, RecordBirth, RecordDeath
from juki.registry.model import ChangeReason, Relationship, ResidentRecord
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.services.batch import Batch
from juki.registry.services.checks import active_household, active_record, record_target
from juki.registry.services.placement import new_record, remove_one
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission


def record_birth(uow: RegistryUnitOfWork, by: Actor, cmd: RecordBirth) -> ResidentRecord:
    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        today = uow.clock.today()
        rules.not_in_future("birth_date", cmd.person.birth_date, today)
        rules.event_dates(cmd.person.birth_date, cmd.notified_on, today, cmd.person.birth_date)
        household = active_household(uow, cmd.household_id)
        if cmd.relationship is Relationship.HOUSEHOLDER and uow.registry.members(
            household.household_id
        ):
            raise DomainRuleError(
                "relationship",
                "one_householder",
                "a newborn cannot be householder of a household that has one",
                "出生子を既存世帯の世帯主とすることはできません",
            )
        batch = Batch(uow, by, cmd.person.birth_date, cmd.notified_on)
        record = new_record(
            batch,
            cmd.person,
            placement=(household.household_id, cmd.relationship),
            address=household.address,
            resident_since=cmd.person.birth_date,
            notified_on=cmd.notified_on,
            previous_address=None,
            resident_code=None,
            my_number=None,
            reason=ChangeReason.BIRTH,
        )
        batch.flush()
        return record

    return perform(
        uow,
        by,
        Permission.RECORD_BIRTH,
        f"household:{cmd.household_id}",
        run,
        describe=record_target,
    )


def record_death(uow: RegistryUnitOfWork, by: Actor, cmd: RecordDeath) -> ResidentRecord:
    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        record = active_record(uow, cmd.record_id)
        rules.event_dates(cmd.died_on, cmd.notified_on, uow.clock.today(), record.birth_date)
        batch = Batch(uow, by, cmd.died_on, cmd.notified_on)
        after = remove_one(
            batch,
            record,
            ChangeReason.DEATH,
            cmd.died_on,
            cmd.new_householder_id,
            cmd.relationships,
        )
        batch.flush()
        return after

    return perform(uow, by, Permission.RECORD_DEATH, f"record:{cmd.record_id}", run)


def change_name(uow: RegistryUnitOfWork, by: Actor, cmd: ChangeName) -> ResidentRecord:
    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        record = active_record(uow, cmd.record_id)
        rules.event_dates(cmd.effective_on, cmd.notified_on, uow.clock.today(), record.birth_date)
        fields: dict[str, Any] = {
            "family_name": validate_name("family_name", cmd.family_name),
            "given_name": validate_name("given_name", cmd.given_name),
            "family_name_kana": validate_kana("family_name_kana", cmd.family_name_kana),
            "given_name_kana": validate_kana("given_name_kana", cmd.given_name_kana),
        }
        if cmd.former_surname is not None:
            fields["former_surname"] = validate_name("former_surname", cmd.former_surname)
            fields["former_surname_kana"] = validate_kana(
                "former_surname_kana", cmd.former_surname_kana or ""
            )
        if all(getattr(record, k) == v for k, v in fields.items()):
            raise DomainRuleError(
                "family_name",
                "no_change",
                "the new name is the current name",
                "現在の氏名と同じです",
            )
        batch = Batch(uow, by, cmd.effective_on, cmd.notified_on)
        after = batch.change(record, ChangeReason.NAME_CHANGE, **fields)
        batch.flush()
        return after

    return perform(uow, by, Permission.CHANGE_NAME, f"record:{cmd.record_id}", run)
