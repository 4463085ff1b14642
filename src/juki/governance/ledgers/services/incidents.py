"""Incidents (事故): opened with their kind, followed through the response steps the seed names
for that kind, in order (`model.STEPS`: seed 001 第19・第21・第22・第26–第30, seed 002 第8条),
and closed only when no step is left open.

A step that did not apply (no terminal to switch off) is still recorded, its note saying why,
so the ledger shows that someone decided it and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from juki.core.errors import NotFoundError
from juki.governance.ledgers import rules
from juki.governance.ledgers.commands import CloseIncident, OpenIncident, RecordIncidentStep
from juki.governance.ledgers.model import (
    Incident,
    IncidentKind,
    IncidentStatus,
    StepDone,
)
from juki.governance.ledgers.ports import LedgerUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission


def open_incident(uow: LedgerUnitOfWork, by: Actor, cmd: OpenIncident) -> Incident:
    def run(u: LedgerUnitOfWork) -> Incident:
        kind = rules.choice("kind", cmd.kind, IncidentKind)
        title = rules.text("title", cmd.title, 200)
        now = u.clock.now()
        occurred = rules.not_future("occurred_at", cmd.occurred_at, now)
        incident = Incident(0, kind, title, occurred, now, by.actor_id, IncidentStatus.OPEN)
        return replace(incident, incident_id=u.ledgers.add_incident(incident))

    return perform(
        uow,
        by,
        Permission.REPORT_INCIDENT,
        rules.target("incident", cmd.kind),
        run,
        describe=lambda i: f"incident {i.incident_id} opened: {i.kind}",
    )


def _incident(uow: LedgerUnitOfWork, incident_id: int) -> Incident:
    found = uow.ledgers.incident(incident_id)
    if found is None:
        raise NotFoundError("incident", str(incident_id))
    return found


def record_incident_step(uow: LedgerUnitOfWork, by: Actor, cmd: RecordIncidentStep) -> Incident:
    def run(u: LedgerUnitOfWork) -> Incident:
        note = rules.text("note", cmd.note, 1000)
        incident = _incident(u, cmd.incident_id)
        rules.next_step(incident, cmd.step)
        done = StepDone(cmd.step, u.clock.now(), by.actor_id, note)
        u.ledgers.add_step(incident.incident_id, done)
        return replace(incident, steps=(*incident.steps, done))

    return perform(
        uow,
        by,
        Permission.HANDLE_INCIDENT,
        rules.target("incident", cmd.incident_id),
        run,
        describe=lambda i: f"step {cmd.step[:32]} done; {len(i.open_steps)} left",
    )


def close_incident(uow: LedgerUnitOfWork, by: Actor, cmd: CloseIncident) -> Incident:
    def run(u: LedgerUnitOfWork) -> Incident:
        note = rules.text("closing_note", cmd.closing_note, 1000)
        incident = _incident(u, cmd.incident_id)
        rules.may_close(incident)
        now = u.clock.now()
        u.ledgers.close_incident(incident.incident_id, now, by.actor_id, note)
        return replace(
            incident,
            status=IncidentStatus.CLOSED,
            closed_at=now,
            closed_by=by.actor_id,
            closing_note=note,
        )

    return perform(
        uow,
        by,
        Permission.HANDLE_INCIDENT,
        rules.target("incident", cmd.incident_id),
        run,
        describe=lambda i: "closed",
    )


def incidents(uow: LedgerUnitOfWork, by: Actor, open_only: bool = False) -> Sequence[Incident]:
    return perform(
        uow,
        by,
        Permission.VIEW_LEDGERS,
        "ledger:incidents",
        lambda u: list(u.ledgers.incidents(open_only)),
        describe=lambda rows: f"{len(rows)} incidents",
    )


def incident(uow: LedgerUnitOfWork, by: Actor, incident_id: int) -> Incident:
    return perform(
        uow,
        by,
        Permission.VIEW_LEDGERS,
        f"incident:{incident_id}",
        lambda u: _incident(u, incident_id),
    )
