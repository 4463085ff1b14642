"""The ledgers in SQL, the unit of work that carries them beside the oplog, and the two reads a
transparency report calls without an operator: `open_incidents` and `ledger_summary`.

Those two take a connection and return counts and incident kinds and titles (no names, no
personal data); they write nothing and no oplog entry, so the caller (a report that is itself
an action) logs its own reading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from juki.core.clock import JST
from juki.governance.ledgers.model import (
    AuditResult,
    CardHolding,
    ConfigChange,
    ConfigEvent,
    ConfigItem,
    ConfigKind,
    ConfigStatus,
    Contract,
    ContractAudit,
    ContractStatus,
    Incident,
    IncidentKind,
    IncidentStatus,
    LedgerSummary,
    Room,
    RoomAccess,
    StepDone,
)
from juki.governance.ledgers.tables import (
    config_changes,
    config_items,
    contract_audits,
    incident_steps,
    incidents,
    outsourcing_contracts,
    room_access_log,
)
from juki.security.tables import operator_cards, operator_credentials, operators
from juki.security.uow import SqlUnitOfWork

ra, ci, cc = room_access_log.c, config_items.c, config_changes.c
oc, ca, inc, st = outsourcing_contracts.c, contract_audits.c, incidents.c, incident_steps.c


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _must(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _new_id(conn: sa.Connection, stmt: sa.Insert) -> int:
    return int(conn.execute(stmt).inserted_primary_key[0])  # type: ignore[index]


def _access(m: Any) -> RoomAccess:
    return RoomAccess(
        int(m["access_id"]),
        Room(m["room"]),
        m["entrant_name"],
        m["entrant_org"],
        m["entrant_operator_id"],
        m["purpose"],
        m["permitted_on"],
        m["approved_by"],
        _must(m["approved_at"]),
        _dt(m["entered_at"]),
        m["entry_recorded_by"],
        _dt(m["exited_at"]),
        m["exit_recorded_by"],
    )


def _item(m: Any) -> ConfigItem:
    return ConfigItem(
        int(m["item_id"]),
        ConfigKind(m["kind"]),
        m["name"],
        m["model"],
        m["version"],
        m["serial"],
        m["location"],
        ConfigStatus(m["status"]),
        _must(m["registered_at"]),
        _must(m["updated_at"]),
    )


def _contract(m: Any) -> Contract:
    return Contract(
        m["contract_id"],
        m["contractor"],
        m["subject"],
        m["starts_on"],
        m["ends_on"],
        frozenset(c for c in m["clauses"].split(",") if c),
        ContractStatus(m["status"]),
        _must(m["recorded_at"]),
        m["recorded_by"],
        m["ended_on"],
    )


def _audit(m: Any) -> ContractAudit:
    return ContractAudit(
        int(m["audit_id"]),
        m["contract_id"],
        m["audited_on"],
        m["auditor"],
        AuditResult(m["result"]),
        m["findings"],
        m["recorded_by"],
    )


def _incidents(conn: sa.Connection, where: sa.ColumnElement[bool] | None) -> list[Incident]:
    query = sa.select(incidents).order_by(inc.incident_id.desc())
    if where is not None:
        query = query.where(where)
    rows = [r._mapping for r in conn.execute(query)]
    ids = [int(m["incident_id"]) for m in rows]
    steps: dict[int, list[StepDone]] = {i: [] for i in ids}
    if ids:
        done = conn.execute(
            sa.select(incident_steps)
            .where(st.incident_id.in_(ids))
            .order_by(st.incident_id, st.done_at)
        )
        for s in done:
            steps[int(s.incident_id)].append(StepDone(s.step, _must(s.done_at), s.by_actor, s.note))
    return [
        Incident(
            int(m["incident_id"]),
            IncidentKind(m["kind"]),
            m["title"],
            _must(m["occurred_at"]),
            _must(m["opened_at"]),
            m["opened_by"],
            IncidentStatus(m["status"]),
            tuple(steps[int(m["incident_id"])]),
            _dt(m["closed_at"]),
            m["closed_by"],
            m["closing_note"],
        )
        for m in rows
    ]


def open_incidents(conn: sa.Connection) -> list[Incident]:
    """Incidents not yet closed, newest first, with the steps done and (`open_steps`) the
    steps left: for a transparency report. Reads only; logs nothing."""
    return _incidents(conn, inc.status == IncidentStatus.OPEN.value)


def _count(conn: sa.Connection, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    return int(
        conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
    )


def ledger_summary(conn: sa.Connection, since: date, until: date) -> LedgerSummary:
    """Counts over the days `since`..`until` (inclusive, JST) and the state at the time of
    reading: for a transparency report. Reads only; logs nothing; names nobody."""
    start = datetime.combine(since, time.min, JST).isoformat()
    end = datetime.combine(until, time.max, JST).isoformat()  # inclusive; 9999-12-31 too
    in_use = Counter(
        r.kind
        for r in conn.execute(sa.select(ci.kind).where(ci.status == ConfigStatus.IN_USE.value))
    )
    return LedgerSummary(
        since=since,
        until=until,
        room_entries=_count(conn, room_access_log, ra.entered_at >= start, ra.entered_at <= end),
        still_in_room=_count(
            conn, room_access_log, ra.entered_at.is_not(None), ra.exited_at.is_(None)
        ),
        config_in_use={k.value: in_use.get(k.value, 0) for k in ConfigKind},
        config_changes=_count(conn, config_changes, cc.at >= start, cc.at <= end),
        contracts_active=_count(
            conn, outsourcing_contracts, oc.status == ContractStatus.ACTIVE.value
        ),
        contracts_non_compliant=_count(
            conn, outsourcing_contracts, oc.status == ContractStatus.NON_COMPLIANT.value
        ),
        contract_audits=_count(
            conn, contract_audits, ca.audited_on >= since, ca.audited_on <= until
        ),
        audits_needing_action=_count(
            conn,
            contract_audits,
            ca.audited_on >= since,
            ca.audited_on <= until,
            ca.result == AuditResult.NEEDS_ACTION.value,
        ),
        incidents_opened=_count(conn, incidents, inc.opened_at >= start, inc.opened_at <= end),
        incidents_closed=_count(conn, incidents, inc.closed_at >= start, inc.closed_at <= end),
        incidents_open=_count(conn, incidents, inc.status == IncidentStatus.OPEN.value),
    )


class SqlLedgers:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def add_access(self, access: RoomAccess) -> int:
        return _new_id(
            self._conn,
            room_access_log.insert().values(
                room=access.room.value,
                entrant_name=access.entrant_name,
                entrant_org=access.entrant_org,
                entrant_operator_id=access.entrant_operator_id,
                purpose=access.purpose,
                permitted_on=access.permitted_on,
                approved_by=access.approved_by,
                approved_at=access.approved_at.isoformat(),
            ),
        )

    def access(self, access_id: int) -> RoomAccess | None:
        row = self._conn.execute(
            sa.select(room_access_log).where(ra.access_id == access_id)
        ).first()
        return None if row is None else _access(row._mapping)

    def set_entry(self, access_id: int, at: datetime, by: str) -> None:
        self._conn.execute(
            room_access_log.update()
            .where(ra.access_id == access_id)
            .values(entered_at=at.isoformat(), entry_recorded_by=by)
        )

    def set_exit(self, access_id: int, at: datetime, by: str) -> None:
        self._conn.execute(
            room_access_log.update()
            .where(ra.access_id == access_id)
            .values(exited_at=at.isoformat(), exit_recorded_by=by)
        )

    def accesses(self, since: date | None, until: date | None) -> Sequence[RoomAccess]:
        query = sa.select(room_access_log).order_by(ra.permitted_on.desc(), ra.access_id.desc())
        if since is not None:
            query = query.where(ra.permitted_on >= since)
        if until is not None:
            query = query.where(ra.permitted_on <= until)
        return [_access(r._mapping) for r in self._conn.execute(query)]

    def add_item(self, item: ConfigItem) -> int:
        return _new_id(self._conn, config_items.insert().values(**_item_values(item)))

    def item(self, item_id: int) -> ConfigItem | None:
        row = self._conn.execute(sa.select(config_items).where(ci.item_id == item_id)).first()
        return None if row is None else _item(row._mapping)

    def put_item(self, item: ConfigItem) -> None:
        self._conn.execute(
            config_items.update().where(ci.item_id == item.item_id).values(**_item_values(item))
        )

    def items(self, include_removed: bool) -> Sequence[ConfigItem]:
        query = sa.select(config_items).order_by(ci.kind, ci.item_id)
        if not include_removed:
            query = query.where(ci.status == ConfigStatus.IN_USE.value)
        return [_item(r._mapping) for r in self._conn.execute(query)]

    def add_change(self, change: ConfigChange) -> None:
        self._conn.execute(
            config_changes.insert().values(
                item_id=change.item_id,
                at=change.at.isoformat(),
                event=change.event.value,
                detail=change.detail,
                reason=change.reason,
                by_actor=change.by_actor,
            )
        )

    def changes(self, item_id: int | None) -> Sequence[ConfigChange]:
        query = sa.select(config_changes).order_by(cc.change_id)
        if item_id is not None:
            query = query.where(cc.item_id == item_id)
        return [
            ConfigChange(
                int(r.item_id), _must(r.at), ConfigEvent(r.event), r.detail, r.reason, r.by_actor
            )
            for r in self._conn.execute(query)
        ]

    def contract(self, contract_id: str) -> Contract | None:
        row = self._conn.execute(
            sa.select(outsourcing_contracts).where(oc.contract_id == contract_id)
        ).first()
        return None if row is None else _contract(row._mapping)

    def put_contract(self, contract: Contract) -> None:
        values = {
            "contractor": contract.contractor,
            "subject": contract.subject,
            "starts_on": contract.starts_on,
            "ends_on": contract.ends_on,
            "clauses": ",".join(sorted(contract.clauses)),
            "status": contract.status.value,
            "recorded_at": contract.recorded_at.isoformat(),
            "recorded_by": contract.recorded_by,
            "ended_on": contract.ended_on,
        }
        done = self._conn.execute(
            outsourcing_contracts.update()
            .where(oc.contract_id == contract.contract_id)
            .values(**values)
        )
        if done.rowcount == 0:
            self._conn.execute(
                outsourcing_contracts.insert().values(contract_id=contract.contract_id, **values)
            )

    def contracts(self) -> Sequence[Contract]:
        rows = self._conn.execute(sa.select(outsourcing_contracts).order_by(oc.contract_id))
        return [_contract(r._mapping) for r in rows]

    def add_audit(self, audit: ContractAudit) -> int:
        return _new_id(
            self._conn,
            contract_audits.insert().values(
                contract_id=audit.contract_id,
                audited_on=audit.audited_on,
                auditor=audit.auditor,
                result=audit.result.value,
                findings=audit.findings,
                recorded_by=audit.recorded_by,
            ),
        )

    def audits(self, contract_id: str | None) -> Sequence[ContractAudit]:
        query = sa.select(contract_audits).order_by(ca.audited_on.desc(), ca.audit_id.desc())
        if contract_id is not None:
            query = query.where(ca.contract_id == contract_id)
        return [_audit(r._mapping) for r in self._conn.execute(query)]

    def add_incident(self, incident: Incident) -> int:
        return _new_id(
            self._conn,
            incidents.insert().values(
                kind=incident.kind.value,
                title=incident.title,
                occurred_at=incident.occurred_at.isoformat(),
                opened_at=incident.opened_at.isoformat(),
                opened_by=incident.opened_by,
                status=incident.status.value,
                closing_note="",
            ),
        )

    def incident(self, incident_id: int) -> Incident | None:
        found = _incidents(self._conn, inc.incident_id == incident_id)
        return found[0] if found else None

    def add_step(self, incident_id: int, done: StepDone) -> None:
        self._conn.execute(
            incident_steps.insert().values(
                incident_id=incident_id,
                step=done.step,
                done_at=done.done_at.isoformat(),
                by_actor=done.by_actor,
                note=done.note,
            )
        )

    def close_incident(self, incident_id: int, at: datetime, by: str, note: str) -> None:
        self._conn.execute(
            incidents.update()
            .where(inc.incident_id == incident_id)
            .values(
                status=IncidentStatus.CLOSED.value,
                closed_at=at.isoformat(),
                closed_by=by,
                closing_note=note,
            )
        )

    def incidents(self, open_only: bool) -> Sequence[Incident]:
        return _incidents(
            self._conn, inc.status == IncidentStatus.OPEN.value if open_only else None
        )

    def card_holdings(self) -> Sequence[CardHolding]:
        return card_holdings(self._conn)

    def summary(self, since: date, until: date) -> LedgerSummary:
        return ledger_summary(self._conn, since, until)


def _item_values(item: ConfigItem) -> dict[str, object]:
    return {
        "kind": item.kind.value,
        "name": item.name,
        "model": item.model,
        "version": item.version,
        "serial": item.serial,
        "location": item.location,
        "status": item.status.value,
        "registered_at": item.registered_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }


def card_holdings(conn: sa.Connection) -> list[CardHolding]:
    """Each operator with the card they hold now, how many were taken back, and how many
    照合情報 they have enrolled, from `juki.security`'s own tables."""
    op, card, cred = operators.c, operator_cards.c, operator_credentials.c
    live: dict[str, Any] = {}
    returned: Counter[str] = Counter()
    for r in conn.execute(sa.select(operator_cards).order_by(card.card_id)):
        if r.withdrawn_at is None:
            live[r.operator_id] = r
        else:
            returned[r.operator_id] += 1
    verifiers = Counter(
        r.operator_id
        for r in conn.execute(sa.select(cred.operator_id).where(cred.withdrawn_at.is_(None)))
    )
    rows = conn.execute(
        sa.select(op.operator_id, op.display_name, op.role, op.status).order_by(op.operator_id)
    )
    out = []
    for r in rows:
        held = live.get(r.operator_id)
        out.append(
            CardHolding(
                r.operator_id,
                r.display_name,
                r.role,
                r.status,
                None if held is None else held.card_label,
                None if held is None else held.issued_at,
                None if held is None else held.issued_by,
                returned[r.operator_id],
                verifiers[r.operator_id],
            )
        )
    return out


class SqlLedgerUnitOfWork(SqlUnitOfWork):
    ledgers: SqlLedgers

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.ledgers = SqlLedgers(conn)
