"""The repository the register's services need, as protocols (the SQL one is `store`)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from juki.core.ports import UnitOfWork
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
