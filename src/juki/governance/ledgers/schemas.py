"""The ledgers' request and response bodies for the JSON API.

Requests forbid unknown fields and carry only clean strings (`juki.web.text`); their limits are
loose on purpose, so a text too long or empty is refused by the domain's rule, which names the
field and says it in Japanese (`juki.governance.ledgers.rules`). A time without an offset is
read as JST, the municipality's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from juki.core.clock import JST
from juki.governance.ledgers import commands as c
from juki.governance.ledgers.model import CLAUSE_BY_CODE, STEPS, Contract, Incident
from juki.web.text import CleanStr

Text = Annotated[CleanStr, Field(max_length=2000)]
Short = Annotated[CleanStr, Field(max_length=200)]
ClauseCode = Literal[
    "confidentiality",
    "no_subcontracting",
    "no_other_use",
    "copying_and_disposal",
    "incident_reporting",
    "termination_and_damages",
    "ownership",
]


def _jst(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo is not None else at.replace(tzinfo=JST)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PermitIn(_In):
    """事前の許可: the approver is the operator who sends it."""

    room: Literal["server_room", "media_store"]
    entrant_name: Short
    entrant_org: Short
    entrant_operator_id: Annotated[CleanStr, Field(max_length=64)] | None = None
    purpose: Text
    permitted_on: date

    def to_command(self) -> c.PermitRoomAccess:
        return c.PermitRoomAccess(
            self.room,
            self.entrant_name,
            self.entrant_org,
            self.purpose,
            self.permitted_on,
            self.entrant_operator_id or None,
        )


class MomentIn(_In):
    """When the entry or exit happened; now when left out."""

    at: datetime | None = None

    def when(self) -> datetime | None:
        return _jst(self.at)


class ConfigItemIn(_In):
    kind: Literal["device", "program", "medium"]
    name: Short
    model: Short
    version: Short
    location: Short
    serial: Short = ""
    reason: Text

    def to_command(self) -> c.AddConfigItem:
        return c.AddConfigItem(
            self.kind,
            self.name,
            self.model,
            self.version,
            self.location,
            self.reason,
            self.serial,
        )


class ConfigChangeIn(_In):
    """The fields that change (the others are left out) and why."""

    reason: Text
    name: Short | None = None
    model: Short | None = None
    version: Short | None = None
    serial: Short | None = None
    location: Short | None = None

    def to_command(self, item_id: int) -> c.ChangeConfigItem:
        return c.ChangeConfigItem(
            item_id, self.reason, self.name, self.model, self.version, self.serial, self.location
        )


class ReasonIn(_In):
    reason: Text


class ContractIn(_In):
    contract_id: Annotated[CleanStr, Field(max_length=64)]
    contractor: Short
    subject: Text
    starts_on: date
    ends_on: date
    clauses: Annotated[list[ClauseCode], Field(max_length=7)] = Field(
        description="the mandatory clauses the contract states (seed 001 第24, 002 第19条)"
    )
    non_compliant: bool = Field(
        default=False, description="record it although clauses are missing (they are named)"
    )

    def to_command(self) -> c.RecordContract:
        return c.RecordContract(
            self.contract_id,
            self.contractor,
            self.subject,
            self.starts_on,
            self.ends_on,
            frozenset(self.clauses),
            self.non_compliant,
        )


class AmendmentIn(_In):
    clauses: Annotated[list[ClauseCode], Field(max_length=7)]
    reason: Text
    non_compliant: bool = False


class EndIn(_In):
    ended_on: date
    reason: Text


class AuditIn(_In):
    audited_on: date
    auditor: Short
    result: Literal["satisfactory", "needs_action"]
    findings: Text


class IncidentIn(_In):
    kind: Literal["intrusion", "virus", "failure", "disaster", "leak"]
    title: Text
    occurred_at: datetime

    def to_command(self) -> c.OpenIncident:
        at = self.occurred_at
        return c.OpenIncident(self.kind, self.title, at if at.tzinfo else at.replace(tzinfo=JST))


class StepIn(_In):
    step: Annotated[CleanStr, Field(max_length=32)]
    note: Text


class ClosureIn(_In):
    closing_note: Text


class ClauseOut(BaseModel):
    code: str
    ja: str
    basis: str


class ContractOut(BaseModel):
    contract_id: str
    contractor: str
    subject: str
    starts_on: date
    ends_on: date
    ended_on: date | None
    status: str
    clauses: list[str]
    missing: list[ClauseOut] = Field(description="mandatory clauses the contract does not state")
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def of(cls, k: Contract) -> ContractOut:
        return cls(
            contract_id=k.contract_id,
            contractor=k.contractor,
            subject=k.subject,
            starts_on=k.starts_on,
            ends_on=k.ends_on,
            ended_on=k.ended_on,
            status=k.status.value,
            clauses=sorted(k.clauses),
            missing=[ClauseOut(**_clause(m)) for m in k.missing],
            recorded_at=k.recorded_at,
            recorded_by=k.recorded_by,
        )


def _clause(code: str) -> dict[str, str]:
    k = CLAUSE_BY_CODE[code]
    return {"code": k.code, "ja": k.ja, "basis": k.basis}


class StepOut(BaseModel):
    step: str
    ja: str
    basis: str
    done_at: datetime | None
    by_actor: str | None
    note: str | None


class IncidentOut(BaseModel):
    incident_id: int
    kind: str
    title: str
    occurred_at: datetime
    opened_at: datetime
    opened_by: str
    status: str
    steps: list[StepOut] = Field(description="the seed's response steps, in order, done or not")
    next_step: str | None
    closed_at: datetime | None
    closed_by: str | None
    closing_note: str

    @classmethod
    def of(cls, i: Incident) -> IncidentOut:
        done = {s.step: s for s in i.steps}
        steps = [
            StepOut(
                step=s.code,
                ja=s.ja,
                basis=s.basis,
                done_at=done[s.code].done_at if s.code in done else None,
                by_actor=done[s.code].by_actor if s.code in done else None,
                note=done[s.code].note if s.code in done else None,
            )
            for s in STEPS[i.kind]
        ]
        nxt = i.next_step
        return cls(
            incident_id=i.incident_id,
            kind=i.kind.value,
            title=i.title,
            occurred_at=i.occurred_at,
            opened_at=i.opened_at,
            opened_by=i.opened_by,
            status=i.status.value,
            steps=steps,
            next_step=None if nxt is None else nxt.code,
            closed_at=i.closed_at,
            closed_by=i.closed_by,
            closing_note=i.closing_note,
        )
