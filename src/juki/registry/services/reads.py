"""Reads, logged like changes: who looked at whom is part of the operation history."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from juki.core.errors import ValidationError
from juki.core.identifiers import ResidentCode
from juki.registry.model import Household, RecordedChange, ResidentRecord
from juki.registry.ports import RegistryUnitOfWork, SearchQuery
from juki.registry.standing import as_of
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission, is_allowed


def shows_my_number(by: Actor) -> Callable[[ResidentRecord], bool]:
    """Whether a record view shows `by` a 個人番号: the record has one and the role may see it."""
    return lambda r: r.my_number is not None and is_allowed(by.role, Permission.VIEW_MY_NUMBER)


def _history_shows_my_number(by: Actor) -> Callable[[Sequence[RecordedChange]], bool]:
    def shown(changes: Sequence[RecordedChange]) -> bool:
        numbered = any(c.change.fields.get("my_number") is not None for c in changes)
        return numbered and is_allowed(by.role, Permission.VIEW_MY_NUMBER)

    return shown


def get_record(uow: RegistryUnitOfWork, by: Actor, record_id: str) -> ResidentRecord:
    return perform(
        uow,
        by,
        Permission.VIEW_RECORD,
        f"record:{record_id}",
        lambda u: u.registry.get(record_id),
        shows_my_number=shows_my_number(by),
    )


def record_as_of(
    uow: RegistryUnitOfWork, by: Actor, record_id: str, on: date | None = None
) -> ResidentRecord:
    """The record as it stands on `on` (today by default): a filed move-out is a 住民票 until
    its planned date, a 除票 from it (ADR 0005)."""

    def run(u: RegistryUnitOfWork) -> ResidentRecord:
        return as_of(u.registry.get(record_id), on or u.clock.today())

    return perform(
        uow,
        by,
        Permission.VIEW_RECORD,
        f"record:{record_id}",
        run,
        shows_my_number=shows_my_number(by),
    )


def record_history(uow: RegistryUnitOfWork, by: Actor, record_id: str) -> Sequence[RecordedChange]:
    def run(u: RegistryUnitOfWork) -> Sequence[RecordedChange]:
        u.registry.get(record_id)
        return u.registry.history(record_id)

    return perform(
        uow,
        by,
        Permission.VIEW_RECORD,
        f"record:{record_id}",
        run,
        shows_my_number=_history_shows_my_number(by),
    )


def household_view(
    uow: RegistryUnitOfWork, by: Actor, household_id: str
) -> tuple[Household, Sequence[ResidentRecord]]:
    def run(u: RegistryUnitOfWork) -> tuple[Household, Sequence[ResidentRecord]]:
        return u.registry.get_household(household_id), u.registry.members(household_id)

    return perform(uow, by, Permission.VIEW_RECORD, f"household:{household_id}", run)


def search_records(
    uow: RegistryUnitOfWork, by: Actor, query: SearchQuery
) -> Sequence[ResidentRecord]:
    if not (query.name_kana or query.name or query.resident_code or query.birth_date):
        raise ValidationError(
            "query",
            "required",
            "give a reading, a name, a resident code or a birth date",
            "検索条件（カナ氏名・氏名・住民票コード・生年月日）を入力してください",
        )
    if query.resident_code is not None:
        ResidentCode.parse(query.resident_code)
    target = "search:" + ",".join(
        k for k in ("name_kana", "name", "birth_date", "resident_code") if getattr(query, k)
    )
    return perform(
        uow,
        by,
        Permission.SEARCH_RECORDS,
        target,
        lambda u: u.registry.search(query),
        describe=lambda rs: f"{len(rs)} hits",
    )


def registry_stats(uow: RegistryUnitOfWork, by: Actor) -> Mapping[str, int]:
    return perform(uow, by, Permission.VIEW_STATS, "stats", lambda u: u.registry.stats())
