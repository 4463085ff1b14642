"""Actions by authority (職権記載, 職権修正, 職権消除) and the my_number the national node
generated (個人番号の指定), which the CS records as the node itself."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from juki.core.errors import DomainRuleError, ValidationError
from juki.core.text import validate_kana, validate_name
from juki.registry import rules
from juki.registry.commands import (
    AssignMyNumber,
    CorrectByAuthority,
    EnterByAuthority,
    RemoveByAuthority,
)
from juki.registry.model import (
    ChangeReason,
    Relationship,
    ResidentRecord,
    decode_fields,
    initial_fields,
)
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.services.batch import Batch
from juki.registry.services.checks import (
    active_record,
    record_or_404,
    record_target,
    require,
    unused_my_number,
    valid_address,
)
from juki.registry.services.placement import new_record, remove_one
from juki.registry.services.reads import shows_my_number
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission


def enter_by_authority(uow: RegistryUnitOfWork, by: Actor, cmd: EnterByAuthority) -> ResidentRecord:
    """職権記載."""

    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        today = uow.clock.today()
        rules.not_in_future("birth_date", cmd.person.birth_date, today)
        rules.event_dates(cmd.resident_since, today, today, cmd.person.birth_date)
        address = valid_address("address", cmd.address)
        rules.address_in_municipality("address", address, uow.municipality.address_prefix)
        require(cmd.note.strip(), "note", "職権記載の理由")
        batch = Batch(uow, by, cmd.resident_since, today)
        batch.note = cmd.note.strip()[:500]
        record = new_record(
            batch,
            cmd.person,
            placement=cmd.placement,
            address=address,
            resident_since=cmd.resident_since,
            notified_on=None,
            previous_address=None,
            resident_code=cmd.resident_code,
            my_number=cmd.my_number,
            reason=ChangeReason.ENTRY_BY_AUTHORITY,
        )
        batch.flush()
        return record

    return perform(
        uow, by, Permission.ENTER_BY_AUTHORITY, "entry_by_authority", run, describe=record_target
    )


# Items changed only through their own events: identity, lifecycle and household membership (a
# 続柄 written wrongly is corrected here, but who heads the household only by 世帯主変更).
NOT_CORRECTABLE: Final = frozenset(
    {
        "record_id",
        "lg_code",
        "resident_code",
        "my_number",
        "status",
        "removal_reason",
        "removed_on",
        "household_id",
        "alias_history",  # 通称履歴: written only by 通称の記載・削除 (services.people)
        "support_measure",  # follows the 支援措置 record (juki.registry.support), not set by hand
        "support_starts_on",  # the 支援措置's period, as the flag
        "support_ends_on",
        "card_move_out_lg_code",  # where the 転出証明書情報 went: written by the 転出届 only
    }
)


_NAME_FIELDS: Final = frozenset(
    {
        "family_name",
        "given_name",
        "former_surname",
        "honseki",
        "koseki_head",
        "nationality",
        "alias_name",
        "residence_status",
        "period_of_stay",
        "national_pension_category",
    }
)


_KANA_FIELDS: Final = frozenset(
    {"family_name_kana", "given_name_kana", "former_surname_kana", "alias_name_kana"}
)


_ADDRESS_FIELDS: Final = frozenset(
    {"address", "previous_address", "move_out_planned_address", "move_out_confirmed_address"}
)


def check_item_types(values: Mapping[str, Any]) -> None:
    """Each corrected item holds its item's type (a name a string, a flag true or false), and
    only an optional item may be cleared: a null 氏 would otherwise reach the database."""
    hints = typing.get_type_hints(ResidentRecord)
    for name, value in values.items():
        hint = hints[name]
        is_union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        allowed = typing.get_args(hint) if is_union else (hint,)
        if value is None:
            if type(None) not in allowed:
                raise ValidationError(
                    f"fields.{name}",
                    "required",
                    f"{name} cannot be cleared",
                    f"項目「{name}」は空にできません",
                )
            continue
        kinds = tuple(typing.get_origin(t) or t for t in allowed)
        if not isinstance(value, tuple(k for k in kinds if isinstance(k, type))) or (
            isinstance(value, bool) and bool not in kinds
        ):
            raise ValidationError(
                f"fields.{name}",
                "type",
                f"{name} has the wrong type",
                f"項目「{name}」の値の形式が正しくありません",
            )


def check_relationship(record: ResidentRecord, values: Mapping[str, Any]) -> None:
    """A 続柄 recorded wrongly (子 for 孫, 妻 for 妻（未届）) is corrected by authority (令12条3項);
    but neither the householder's nor anyone's into 世帯主: who heads a household changes only
    by 世帯主変更, which gives every member their new 続柄 at once."""
    new = values.get("relationship")
    if new is None:
        return
    if Relationship.HOUSEHOLDER in (new, record.relationship):
        raise DomainRuleError(
            "fields.relationship",
            "householder_by_event",
            "the householder changes only by a change of householder",
            "世帯主の続柄は職権修正できません。世帯主変更で入力してください",
        )


def correct_by_authority(
    uow: RegistryUnitOfWork, by: Actor, cmd: CorrectByAuthority
) -> ResidentRecord:
    """職権修正: set record items that were recorded wrongly; removed records included."""

    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        record = record_or_404(uow, cmd.record_id)
        today = uow.clock.today()
        rules.not_in_future("effective_on", cmd.effective_on, today)
        require(cmd.note.strip(), "note", "職権修正の理由")
        if not cmd.fields:
            raise ValidationError(
                "fields", "required", "nothing to correct", "修正する項目を指定してください"
            )
        fixed = sorted(set(cmd.fields) & NOT_CORRECTABLE)
        unknown = sorted(set(cmd.fields) - set(initial_fields(record)))
        if unknown or fixed:
            bad = (unknown or fixed)[0]
            raise ValidationError(
                f"fields.{bad}",
                "unknown_field" if unknown else "not_correctable",
                f"{bad} cannot be corrected here",
                f"項目「{bad}」は職権修正できません",
            )
        try:
            values = decode_fields(cmd.fields)
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                "fields", "type", f"a value has the wrong type: {exc}", "値の形式が正しくありません"
            ) from exc
        check_item_types(values)
        check_relationship(record, values)
        for name, value in values.items():
            if value is None:
                continue
            if name in _NAME_FIELDS:
                values[name] = validate_name(f"fields.{name}", value)
            elif name in _KANA_FIELDS:
                values[name] = validate_kana(f"fields.{name}", value)
            elif name in _ADDRESS_FIELDS:
                values[name] = valid_address(f"fields.{name}", value)
            elif isinstance(value, date):
                rules.not_in_future(
                    f"fields.{name}", value, today
                ) if name != "stay_expiry" else None
        after_candidate = dataclasses.replace(record, **values)
        rules.record_items(initial_fields(after_candidate), prefix="fields.")
        if after_candidate == record:
            raise DomainRuleError(
                "fields", "no_change", "the values are the current ones", "現在の記載と同じです"
            )
        batch = Batch(uow, by, cmd.effective_on, today)
        batch.note = cmd.note.strip()[:500]
        after = batch.change(record, ChangeReason.CORRECTION_BY_AUTHORITY, **values)
        batch.flush()
        return after

    return perform(uow, by, Permission.CORRECT_BY_AUTHORITY, f"record:{cmd.record_id}", run)


def remove_by_authority(
    uow: RegistryUnitOfWork, by: Actor, cmd: RemoveByAuthority
) -> ResidentRecord:
    """職権消除."""

    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        record = active_record(uow, cmd.record_id)
        today = uow.clock.today()
        rules.event_dates(cmd.removed_on, today, today, record.birth_date)
        require(cmd.note.strip(), "note", "職権消除の理由")
        batch = Batch(uow, by, cmd.removed_on, today)
        batch.note = cmd.note.strip()[:500]
        after = remove_one(
            batch,
            record,
            ChangeReason.REMOVAL_BY_AUTHORITY,
            cmd.removed_on,
            cmd.new_householder_id,
            cmd.relationships,
        )
        batch.flush()
        return after

    return perform(uow, by, Permission.REMOVE_BY_AUTHORITY, f"record:{cmd.record_id}", run)


def assign_my_number(uow: RegistryUnitOfWork, by: Actor, cmd: AssignMyNumber) -> ResidentRecord:
    """Record the my_number the national node generated for this resident."""

    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        record = active_record(uow, cmd.record_id)
        number = unused_my_number(uow, cmd.my_number, record.record_id)
        if record.my_number is not None and record.my_number != number:
            raise DomainRuleError(
                "my_number",
                "already_assigned",
                "this resident already has a my_number",
                "この方には既に個人番号が指定されています",
            )
        today = uow.clock.today()
        batch = Batch(uow, by, today, today)
        after = batch.change(record, ChangeReason.MY_NUMBER_ASSIGNED, my_number=number)
        batch.flush()
        return after

    return perform(
        uow,
        by,
        Permission.ASSIGN_MY_NUMBER,
        f"record:{cmd.record_id}",
        run,
        shows_my_number=shows_my_number(by),
    )
