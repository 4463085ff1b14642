"""Life events of one person: 出生, 死亡, 氏名変更, and a foreign resident's 通称 (記載・削除).

Each public function takes a unit of work, the actor (`by`) and a command; it authorises,
changes the registry, writes the oplog entry and, when identity_info changed, an event for the
CS — all in one transaction (`juki.security.actions.perform`). Records are never overwritten:
every change is appended to the record's history and the stored row is the fold of it.
"""

from __future__ import annotations

from typing import Any

from juki.core.errors import DomainRuleError, ValidationError
from juki.core.text import validate_kana, validate_name
from juki.registry import rules
from juki.registry.alias import AliasAction, AliasEntry
from juki.registry.commands import ChangeName, DeleteAlias, RecordAlias, RecordBirth, RecordDeath
from juki.registry.model import ChangeReason, Relationship, ResidentRecord
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.services.batch import Batch
from juki.registry.services.checks import (
    active_household,
    active_record,
    optional_kana,
    record_target,
)
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
            if record.is_foreign:
                raise ValidationError(
                    "former_surname",
                    "not_for_foreign_resident",
                    "a foreign resident has no former surname (旧氏, 令第30条の13)",
                    "外国人住民の住民票には旧氏を記載できません",
                )
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


def _foreign_record(uow: RegistryUnitOfWork, record_id: str) -> ResidentRecord:
    record = active_record(uow, record_id)
    if not record.is_foreign:
        raise DomainRuleError(
            "record_id",
            "foreign_residents_only",
            "only a foreign resident's record has a 通称 (令第30条の26)",
            "通称は外国人住民の住民票にのみ記載できます",
        )
    return record


def record_alias(uow: RegistryUnitOfWork, by: Actor, cmd: RecordAlias) -> ResidentRecord:
    """通称の記載: the 通称 is recorded and its entry added to the 通称 history."""

    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        record = _foreign_record(uow, cmd.record_id)
        rules.event_dates(cmd.effective_on, cmd.notified_on, uow.clock.today(), record.birth_date)
        if record.alias_name:
            raise DomainRuleError(
                "alias_name",
                "already_recorded",
                "a 通称 is already recorded; delete it before recording another",
                "既に通称が記載されています（別の通称は、削除の後に記載します）",
            )
        alias = validate_name("alias_name", cmd.alias_name)
        entry = AliasEntry(
            alias, AliasAction.ENTERED, cmd.effective_on, uow.municipality.address_prefix
        )
        batch = Batch(uow, by, cmd.effective_on, cmd.notified_on)
        after = batch.change(
            record,
            ChangeReason.NAME_CHANGE,
            alias_name=alias,
            alias_name_kana=optional_kana("alias_name_kana", cmd.alias_name_kana),
            alias_history=(*record.alias_history, entry),
        )
        batch.flush()
        return after

    return perform(uow, by, Permission.CHANGE_NAME, f"record:{cmd.record_id}", run)


def delete_alias(uow: RegistryUnitOfWork, by: Actor, cmd: DeleteAlias) -> ResidentRecord:
    """通称の削除: the 通称 leaves the record; the history keeps it, with the deletion."""

    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        record = _foreign_record(uow, cmd.record_id)
        rules.event_dates(cmd.effective_on, cmd.notified_on, uow.clock.today(), record.birth_date)
        if not record.alias_name:
            raise DomainRuleError(
                "alias_name",
                "no_alias",
                "no 通称 is recorded",
                "通称は記載されていません",
            )
        entry = AliasEntry(
            record.alias_name,
            AliasAction.DELETED,
            cmd.effective_on,
            uow.municipality.address_prefix,
        )
        batch = Batch(uow, by, cmd.effective_on, cmd.notified_on)
        after = batch.change(
            record,
            ChangeReason.NAME_CHANGE,
            alias_name=None,
            alias_name_kana=None,
            alias_history=(*record.alias_history, entry),
        )
        batch.flush()
        return after

    return perform(uow, by, Permission.CHANGE_NAME, f"record:{cmd.record_id}", run)
