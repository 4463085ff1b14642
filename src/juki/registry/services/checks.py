"""Checks the life events share: the items a person brings, the records and households an
action names, and identifiers that must not belong to anyone else here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Final

from juki.core.errors import DomainRuleError, ValidationError
from juki.core.identifiers import MyNumber, ResidentCode
from juki.core.text import validate_kana, validate_name
from juki.registry import rules
from juki.registry.alias import AliasHistory, carried_on_move_in, check_carried, current_alias
from juki.registry.commands import PersonalItems
from juki.registry.model import Household, HouseholdStatus, Relationship, ResidentRecord
from juki.registry.ports import RegistryUnitOfWork

MAX_ADDRESS_LEN: Final = 200


MAX_RELATED_RECORDS: Final = 50


def optional_name(field: str, value: str | None) -> str | None:
    return validate_name(field, value) if value else None


def optional_kana(field: str, value: str | None) -> str | None:
    return validate_kana(field, value) if value else None


def valid_address(field: str, value: str) -> str:
    return validate_name(field, value, max_len=MAX_ADDRESS_LEN)


def person_fields(
    person: PersonalItems,
    today: date,
    municipality: str = "",
    carried: AliasHistory = (),
    carried_field: str = "alias_history",
) -> dict[str, Any]:
    """A new record's personal items, validated; `municipality` (the one recording it) is
    written in the 通称 history when a foreign resident's 通称 is recorded with the record.
    A 転入 brings the history its 転出証明書 carried (`carried`, read from `carried_field`)."""
    rules.not_in_future("birth_date", person.birth_date, today)
    foreign = person.foreign
    items: dict[str, Any] = {
        "is_foreign": foreign is not None,
        "birth_date": person.birth_date,
        "honseki": person.honseki,
        "koseki_head": person.koseki_head,
        "former_surname": person.former_surname,
        "former_surname_kana": person.former_surname_kana,
    }
    if foreign is not None:
        items.update(nationality=foreign.nationality, foreign_category=foreign.category)
    rules.record_items(items)
    fields: dict[str, Any] = {
        "family_name": validate_name("family_name", person.family_name),
        "given_name": validate_name("given_name", person.given_name),
        "family_name_kana": validate_kana("family_name_kana", person.family_name_kana),
        "given_name_kana": validate_kana("given_name_kana", person.given_name_kana),
        "birth_date": person.birth_date,
        "sex": person.sex,
        "honseki": optional_name("honseki", person.honseki),
        "koseki_head": optional_name("koseki_head", person.koseki_head),
        "former_surname": optional_name("former_surname", person.former_surname),
        "former_surname_kana": optional_kana("former_surname_kana", person.former_surname_kana),
        "is_foreign": foreign is not None,
    }
    if foreign is None and carried:
        raise ValidationError(
            carried_field,
            "not_foreign",
            "only a foreign resident has an alias history",
            "通称履歴は外国人住民にのみ記載します",
        )
    if foreign is not None:
        alias = optional_name("alias_name", foreign.alias_name)
        if foreign.alias_name_kana and not alias and not current_alias(carried):
            raise ValidationError(
                "alias_name",
                "required",
                "a reading of the alias needs the alias",
                "通称の振り仮名だけを記載することはできません",
            )
        check_carried(carried, carried_field)
        alias, history = carried_on_move_in(carried, alias, today, municipality)
        fields.update(
            nationality=validate_name("nationality", foreign.nationality),
            foreign_category=foreign.category,
            residence_status=optional_name("residence_status", foreign.residence_status),
            period_of_stay=optional_name("period_of_stay", foreign.period_of_stay),
            stay_expiry=foreign.stay_expiry,
            residence_card_number=residence_card(foreign.residence_card_number),
            alias_name=alias,
            alias_name_kana=optional_kana("alias_name_kana", foreign.alias_name_kana),
            alias_history=history,
        )
    return fields


def residence_card(value: str | None) -> str | None:
    """在留カード番号: two letters, eight digits, two letters (e.g. AB12345678CD)."""
    if not value:
        return None
    v = value.strip().upper()
    ok = (
        len(v) == 12
        and v[:2].isascii()
        and v[:2].isalpha()
        and v[2:10].isascii()
        and v[2:10].isdigit()
        and v[10:].isascii()
        and v[10:].isalpha()
    )
    if not ok:
        raise ValidationError(
            "residence_card_number",
            "format",
            "a residence-card number is 2 letters, 8 digits, 2 letters (AB12345678CD)",
            "在留カード等の番号は英字2桁・数字8桁・英字2桁です（例: AB12345678CD）",
        )
    return v


def record_or_404(uow: RegistryUnitOfWork, record_id: str) -> ResidentRecord:
    return uow.registry.get(record_id)


def active_record(uow: RegistryUnitOfWork, record_id: str) -> ResidentRecord:
    record = record_or_404(uow, record_id)
    if not record.is_active:
        raise DomainRuleError(
            "record_id",
            "removed_record",
            f"record {record_id} is removed (除票); no further events on it",
            "消除された住民票（除票）には異動を記録できません",
        )
    return record


def active_household(uow: RegistryUnitOfWork, household_id: str) -> Household:
    household = uow.registry.get_household(household_id)
    if household.status is not HouseholdStatus.ACTIVE:
        raise DomainRuleError(
            "household_id",
            "dissolved_household",
            f"household {household_id} is dissolved",
            "消滅した世帯です",
        )
    return household


def distinct_ids(field: str, ids: Sequence[str]) -> tuple[str, ...]:
    if not ids:
        raise ValidationError(
            field, "required", "at least one record is required", "対象者を選択してください"
        )
    if len(ids) > MAX_RELATED_RECORDS or len(set(ids)) != len(ids):
        raise ValidationError(
            field, "distinct", "record ids must be distinct (at most 50)", "対象者が重複しています"
        )
    return tuple(ids)


def same_household(records: Iterable[ResidentRecord]) -> str:
    households = {r.household_id for r in records}
    if len(households) != 1:
        raise DomainRuleError(
            "record_ids",
            "same_household",
            "all records of one notification must belong to one household",
            "同一の届出の対象者は同じ世帯に属していなければなりません",
        )
    return households.pop()


def relationship_for(
    relationships: Mapping[str, Relationship], record: ResidentRecord
) -> Relationship:
    try:
        return relationships[record.record_id]
    except KeyError:
        raise ValidationError(
            "relationships",
            "required",
            f"the relationship of {record.record_id} ({record.full_name}) is required",
            f"{record.full_name}さんの続柄を指定してください",
        ) from None


def require(value: object | None, field: str, what_ja: str) -> None:
    if not value:
        raise ValidationError(field, "required", f"{field} is required", f"{what_ja}が必要です")


def unused_resident_code(uow: RegistryUnitOfWork, code: str | None) -> str:
    if code is None:
        return uow.registry.allot_resident_code()
    parsed = ResidentCode.parse(code).value
    if any(r.is_active for r in uow.registry.find_by_resident_code(parsed)):
        raise DomainRuleError(
            "resident_code",
            "already_resident",
            f"resident code {parsed} already belongs to an active record here",
            "この住民票コードの住民票は既に当市区町村にあります",
        )
    return parsed


def unused_my_number(
    uow: RegistryUnitOfWork, number: str | None, record_id: str | None = None
) -> str | None:
    if number is None:
        return None
    parsed = MyNumber.parse(number).value
    if any(
        r.is_active and r.record_id != record_id for r in uow.registry.find_by_my_number(parsed)
    ):
        raise DomainRuleError(
            "my_number",
            "duplicate",
            "this my_number belongs to another active record",
            "この個人番号は他の住民の個人番号です",
        )
    return parsed


def record_target(record: ResidentRecord) -> str:
    return f"record:{record.record_id}"


def first_id(ids: Sequence[str]) -> str:
    return ids[0] if ids else "-"
