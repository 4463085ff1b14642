"""What staff ask of the ledgers, as frozen dataclasses; the services check every field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class PermitRoomAccess:
    """事前の許可: the approver (the actor) permits one person into a room on a day."""

    room: str
    entrant_name: str
    entrant_org: str
    purpose: str
    permitted_on: date
    entrant_operator_id: str | None = None


@dataclass(frozen=True, slots=True)
class RecordRoomEntry:
    access_id: int
    at: datetime | None = None  # now when None


@dataclass(frozen=True, slots=True)
class RecordRoomExit:
    access_id: int
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AddConfigItem:
    kind: str
    name: str
    model: str
    version: str
    location: str
    reason: str
    serial: str = ""


@dataclass(frozen=True, slots=True)
class ChangeConfigItem:
    """A change of version, location, model, serial or name; None leaves a field as it is."""

    item_id: int
    reason: str
    name: str | None = None
    model: str | None = None
    version: str | None = None
    serial: str | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveConfigItem:
    item_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class RecordContract:
    """A contract with the clauses checked in it; `non_compliant` records one that lacks some
    (they are named in the record and in the oplog)."""

    contract_id: str
    contractor: str
    subject: str
    starts_on: date
    ends_on: date
    clauses: frozenset[str]
    non_compliant: bool = False


@dataclass(frozen=True, slots=True)
class AmendContract:
    """The clauses after an amendment (変更契約); the status follows them."""

    contract_id: str
    clauses: frozenset[str]
    reason: str
    non_compliant: bool = False


@dataclass(frozen=True, slots=True)
class EndContract:
    contract_id: str
    ended_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class RecordContractAudit:
    contract_id: str
    audited_on: date
    auditor: str
    result: str
    findings: str


@dataclass(frozen=True, slots=True)
class OpenIncident:
    kind: str
    title: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class RecordIncidentStep:
    incident_id: int
    step: str
    note: str


@dataclass(frozen=True, slots=True)
class CloseIncident:
    incident_id: int
    closing_note: str
