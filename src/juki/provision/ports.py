"""The repositories the register's and provision's services need, as protocols (the SQL ones
are `store` and `provide_store`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from juki.core.ports import UnitOfWork
from juki.provision.answers import IdentityFound
from juki.provision.model import Agency, PermittedTask


class ProvisionRegister(Protocol):
    def agency(self, agency_id: str) -> Agency | None: ...

    def agencies(self) -> list[Agency]: ...

    def put_agency(self, agency: Agency) -> None:
        """Insert, or replace the row of the same id."""

    def versions(self) -> list[PermittedTask]:
        """Every version of every row, withdrawn ones included (the history)."""

    def add_version(self, task: PermittedTask) -> None: ...

    def set_withdrawn(self, ref: str, effective_from: date, withdrawn_on: date) -> None: ...


class ProvisionUnitOfWork(UnitOfWork, Protocol):
    @property
    def provision(self) -> ProvisionRegister: ...


@dataclass(frozen=True, slots=True)
class ProvisionRecord:
    """One row of `provision_records`: one lookup answered, not found or refused."""

    request_id: str
    agency_id: str
    task_ref: str | None
    task_effective_from: date | None
    purpose: str
    lookup: str
    as_of: date | None
    lg_code: str | None
    resident_code: str | None
    items: str
    outcome: str
    reason: str | None
    source: str | None = None  # identity_info | fuhyo_identity_info, for what was provided


class IdentitySource(Protocol):
    """The node's identity_info, read set-based (the store reads in chunks)."""

    def by_codes(self, codes: Sequence[str]) -> Mapping[str, list[IdentityFound]]:
        """Every entry of each code (one per municipality that holds it)."""

    def histories(self, codes: Sequence[str]) -> Mapping[str, list[IdentityFound]]:
        """Every version each code's identity_info had at this node, in the order received."""

    def by_reading(
        self, keys: Sequence[tuple[str, date | None]]
    ) -> Mapping[tuple[str, date | None], list[IdentityFound]]:
        """The entries a lookup may find (`IdentityFound.reachable`) of each (reading key,
        birth date)."""

    def histories_by_reading(
        self, keys: Sequence[tuple[str, date | None]]
    ) -> Mapping[tuple[str, date | None], list[IdentityFound]]:
        """Per (reading key, birth date), every version of everyone who ever had them (their
        whole history: the version in force on a day may have another reading)."""


@dataclass(frozen=True, slots=True)
class ProvisionCount:
    """提供状況の公表: how many lookups of one agency for one task ended one way in a year."""

    agency_id: str
    task_ref: str | None
    outcome: str
    count: int


class ProvisionRecords(Protocol):
    def record(self, rows: Sequence[ProvisionRecord]) -> None: ...

    def counts(self, year: int) -> list[ProvisionCount]: ...


class ProvideUnitOfWork(ProvisionUnitOfWork, Protocol):
    @property
    def identities(self) -> IdentitySource: ...

    @property
    def abroad(self) -> IdentitySource:
        """The 附票本人確認情報 this node keeps (附票連携), for people who moved abroad."""

    @property
    def provisions(self) -> ProvisionRecords: ...

    @property
    def read_on(self) -> str:
        """Where the lookups were read when not simply on the node's database (a standby, or
        the primary because the standby could not be): the oplog entry says it. '' otherwise."""
