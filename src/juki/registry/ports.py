"""What the registry's services need from storage, as protocols: domain code stays free of I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from juki.core.ports import UnitOfWork
from juki.registry.events import RegistryEvent
from juki.registry.model import (
    Household,
    Municipality,
    RecordChange,
    RecordedChange,
    ResidentRecord,
)
from juki.registry.seal import SealRegistration
from juki.registry.support.ports import SupportMeasureRepository


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Search by reading (kana-normalised), birth date, resident code or my number."""

    name_kana: str | None = None
    name: str | None = None
    birth_date: date | None = None
    resident_code: str | None = None
    include_removed: bool = False
    limit: int = 50


class RegistryRepository(Protocol):
    """Records and households. A change applies only to the version of the record this
    transaction read first (`append_change` raises `ConcurrentChangeError` otherwise)."""

    def get(self, record_id: str) -> ResidentRecord: ...

    def find_by_resident_code(self, resident_code: str) -> Sequence[ResidentRecord]: ...

    def find_by_my_number(self, my_number: str) -> Sequence[ResidentRecord]: ...

    def members(self, household_id: str) -> Sequence[ResidentRecord]: ...

    def get_household(self, household_id: str) -> Household: ...

    def add_household(self, household: Household) -> None: ...

    def save_household(self, household: Household) -> None: ...

    def add_record(
        self,
        record: ResidentRecord,
        change: RecordChange,
        actor_id: str,
        approved_by: str | None = None,
    ) -> None: ...

    def append_change(
        self,
        after: ResidentRecord,
        change: RecordChange,
        actor_id: str,
        approved_by: str | None = None,
    ) -> int: ...

    def history(self, record_id: str) -> Sequence[RecordedChange]: ...

    def search(self, query: SearchQuery) -> Sequence[ResidentRecord]: ...

    def stats(self) -> Mapping[str, int]: ...

    def allot_resident_code(self) -> str: ...

    def retire_resident_code(self, code: str, successor: str, record_id: str) -> None: ...


class SealRepository(Protocol):
    def live_for(self, record_id: str) -> SealRegistration | None: ...

    def get(self, registration_number: str) -> SealRegistration: ...

    def add(self, registration: SealRegistration) -> None: ...

    def save(self, registration: SealRegistration) -> None: ...

    def next_number(self) -> str: ...


class MoveOutInfos(Protocol):
    """転出証明書情報 the CS received ahead of a card-based move-in (転入届の特例)."""

    def take(self, resident_code: str, from_lg_code: str) -> Mapping[str, Any] | None: ...

    def withdrawn_on(self, resident_code: str, from_lg_code: str) -> date | None: ...


class Outbox(Protocol):
    """The registry's whole interface to its CS: typed events, in the change's transaction."""

    def put(self, event: RegistryEvent, key: str) -> None: ...


class CardHolders(Protocol):
    """Whether a resident holds a working 個人番号カード here: the card register kept by
    `juki.cards` (issued, or continued here after a move-in, and not suspended or abolished).
    A card-based 転出届 (転出届の特例) needs one; a my_number alone is not a card."""

    def holds_card(self, resident_code: str) -> bool: ...


class RegistryUnitOfWork(UnitOfWork, Protocol):
    @property
    def registry(self) -> RegistryRepository: ...

    @property
    def seals(self) -> SealRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def move_out_infos(self) -> MoveOutInfos: ...

    @property
    def support_measures(self) -> SupportMeasureRepository: ...

    @property
    def card_holders(self) -> CardHolders: ...

    @property
    def municipality(self) -> Municipality: ...
