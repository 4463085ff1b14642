"""What the registry's services need from storage, as protocols: domain code stays free of I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from juki.core.clock import Clock
from juki.registry.model import Household, RecordChange, RecordedChange, ResidentRecord
from juki.registry.seal import SealRegistration


@dataclass(frozen=True, slots=True)
class Municipality:
    lg_code: str
    prefecture: str
    name: str

    @property
    def address_prefix(self) -> str:
        return f"{self.prefecture}{self.name}"


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Search by reading (kana-normalised), birth date, resident code or my number."""

    name_kana: str | None = None
    name: str | None = None
    birth_date: date | None = None
    resident_code: str | None = None
    include_removed: bool = False
    limit: int = 50


@dataclass(frozen=True, slots=True)
class OpLogEntry:
    at: datetime
    actor_id: str
    role: str
    terminal_id: str
    action: str
    target: str
    outcome: (
        str  # ok | denied | rejected | failed (an allowed action whose I/O failed after it began)
    )
    detail: str = ""


class RegistryRepository(Protocol):
    def get(self, record_id: str) -> ResidentRecord: ...

    def find_by_resident_code(self, resident_code: str) -> Sequence[ResidentRecord]: ...

    def find_by_my_number(self, my_number: str) -> Sequence[ResidentRecord]: ...

    def members(self, household_id: str) -> Sequence[ResidentRecord]: ...

    def get_household(self, household_id: str) -> Household: ...

    def add_household(self, household: Household) -> None: ...

    def save_household(self, household: Household) -> None: ...

    def add_record(self, record: ResidentRecord, change: RecordChange, actor_id: str) -> None: ...

    def append_change(self, after: ResidentRecord, change: RecordChange, actor_id: str) -> int: ...

    def history(self, record_id: str) -> Sequence[RecordedChange]: ...

    def search(self, query: SearchQuery) -> Sequence[ResidentRecord]: ...

    def stats(self) -> Mapping[str, int]: ...

    def allot_resident_code(self) -> str: ...


class SealRepository(Protocol):
    def live_for(self, record_id: str) -> SealRegistration | None: ...

    def get(self, registration_number: str) -> SealRegistration: ...

    def add(self, registration: SealRegistration) -> None: ...

    def save(self, registration: SealRegistration) -> None: ...

    def next_number(self) -> str: ...


class MoveOutInfos(Protocol):
    """転出証明書情報 the CS received ahead of a card-based move-in (転入届の特例)."""

    def take(self, resident_code: str, from_lg_code: str) -> Mapping[str, Any] | None: ...


class Outbox(Protocol):
    def put(self, message_type: str, key: str, payload: Mapping[str, Any]) -> None: ...


class OpLog(Protocol):
    def append(self, entry: OpLogEntry) -> None: ...


class IdSource(Protocol):
    def new_id(self) -> str: ...


class UnitOfWork(Protocol):
    """One transaction. `with uow:` begins it; leaving without `commit()` rolls it back."""

    @property
    def registry(self) -> RegistryRepository: ...

    @property
    def seals(self) -> SealRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def oplog(self) -> OpLog: ...

    @property
    def move_out_infos(self) -> MoveOutInfos: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def ids(self) -> IdSource: ...

    @property
    def municipality(self) -> Municipality: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
