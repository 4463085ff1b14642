"""What the ledgers' services need from storage, as protocols (the SQL ones are `store`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from juki.governance.ledgers.model import (
    CardHolding,
    ConfigChange,
    ConfigItem,
    Contract,
    ContractAudit,
    Incident,
    LedgerSummary,
    RoomAccess,
    StepDone,
)
from juki.security.ports import OperatorUnitOfWork


class LedgerStore(Protocol):
    def add_access(self, access: RoomAccess) -> int:
        """Insert it (its `access_id` is ignored) and return the new id."""

    def access(self, access_id: int) -> RoomAccess | None: ...

    def set_entry(self, access_id: int, at: datetime, by: str) -> None: ...

    def set_exit(self, access_id: int, at: datetime, by: str) -> None: ...

    def accesses(self, since: date | None, until: date | None) -> Sequence[RoomAccess]:
        """By the day permitted, newest first."""

    def add_item(self, item: ConfigItem) -> int: ...

    def item(self, item_id: int) -> ConfigItem | None: ...

    def put_item(self, item: ConfigItem) -> None: ...

    def items(self, include_removed: bool) -> Sequence[ConfigItem]: ...

    def add_change(self, change: ConfigChange) -> None: ...

    def changes(self, item_id: int | None) -> Sequence[ConfigChange]: ...

    def contract(self, contract_id: str) -> Contract | None: ...

    def put_contract(self, contract: Contract) -> None:
        """Insert, or replace the row of the same id."""

    def contracts(self) -> Sequence[Contract]: ...

    def add_audit(self, audit: ContractAudit) -> int: ...

    def audits(self, contract_id: str | None) -> Sequence[ContractAudit]: ...

    def add_incident(self, incident: Incident) -> int: ...

    def incident(self, incident_id: int) -> Incident | None: ...

    def add_step(self, incident_id: int, done: StepDone) -> None: ...

    def close_incident(self, incident_id: int, at: datetime, by: str, note: str) -> None: ...

    def incidents(self, open_only: bool) -> Sequence[Incident]: ...

    def card_holdings(self) -> Sequence[CardHolding]: ...

    def summary(self, since: date, until: date) -> LedgerSummary: ...


class LedgerUnitOfWork(OperatorUnitOfWork, Protocol):
    @property
    def ledgers(self) -> LedgerStore: ...
