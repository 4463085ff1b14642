"""The register in SQL, and the unit of work that carries it beside the oplog."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields
from datetime import date

import sqlalchemy as sa

from juki.core.clock import Clock
from juki.provision.model import Agency, AgencyKind, AgencyStatus, Item, PermittedTask
from juki.provision.ports import ProvisionCount, ProvisionRecord
from juki.provision.tables import (
    permitted_task_agencies,
    permitted_tasks,
    provision_agencies,
    provision_records,
)
from juki.security.uow import SqlUnitOfWork

pa, pt, pta = provision_agencies.c, permitted_tasks.c, permitted_task_agencies.c
_RECORD_FIELDS = tuple(f.name for f in fields(ProvisionRecord))


class SqlProvisionRegister:
    def __init__(self, conn: sa.Connection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    @staticmethod
    def _agency(r: sa.Row[tuple[object, ...]]) -> Agency:
        m = r._mapping
        return Agency(
            m["agency_id"],
            m["name"],
            AgencyKind(m["kind"]),
            AgencyStatus(m["status"]),
            m["certificate_sha256"],
            m["registered_on"],
            m["withdrawn_on"],
        )

    def agency(self, agency_id: str) -> Agency | None:
        row = self._conn.execute(
            sa.select(provision_agencies).where(pa.agency_id == agency_id)
        ).first()
        return None if row is None else self._agency(row)

    def agencies(self) -> list[Agency]:
        rows = self._conn.execute(sa.select(provision_agencies).order_by(pa.agency_id))
        return [self._agency(r) for r in rows]

    def put_agency(self, agency: Agency) -> None:
        values = {
            "name": agency.name,
            "kind": agency.kind.value,
            "status": agency.status.value,
            "certificate_sha256": agency.certificate_sha256,
            "registered_on": agency.registered_on,
            "withdrawn_on": agency.withdrawn_on,
            "updated_at": self._clock.now().isoformat(),
        }
        done = self._conn.execute(
            provision_agencies.update().where(pa.agency_id == agency.agency_id).values(**values)
        )
        if done.rowcount == 0:
            self._conn.execute(
                provision_agencies.insert().values(agency_id=agency.agency_id, **values)
            )

    def versions(self) -> list[PermittedTask]:
        who: defaultdict[tuple[str, date], set[str]] = defaultdict(set)
        for ref, start, agency_id in self._conn.execute(
            sa.select(pta.ref, pta.effective_from, pta.agency_id)
        ):
            who[(ref, start)].add(agency_id)
        rows = self._conn.execute(
            sa.select(permitted_tasks).order_by(pt.law_table, pt.ref, pt.effective_from)
        )
        return [
            PermittedTask(
                table=r.law_table,
                row=r.law_row,
                title=r.title,
                items=frozenset(Item(i) for i in r.items.split(",")),
                my_number_task=bool(r.my_number_task),
                agencies=frozenset(who[(r.ref, r.effective_from)]),
                effective_from=r.effective_from,
                withdrawn_on=r.withdrawn_on,
                basis=r.basis,
                verified=bool(r.verified),
                fuhyo=bool(r.fuhyo),
            )
            for r in rows
        ]

    def add_version(self, task: PermittedTask) -> None:
        self._conn.execute(
            permitted_tasks.insert().values(
                ref=task.ref,
                effective_from=task.effective_from,
                law_table=task.table,
                law_row=task.row,
                title=task.title,
                items=",".join(sorted(task.items)),
                my_number_task=task.my_number_task,
                withdrawn_on=task.withdrawn_on,
                basis=task.basis,
                verified=task.verified,
                fuhyo=task.fuhyo,
                loaded_at=self._clock.now().isoformat(),
            )
        )
        if task.agencies:
            self._conn.execute(
                permitted_task_agencies.insert(),
                [
                    {"ref": task.ref, "effective_from": task.effective_from, "agency_id": a}
                    for a in sorted(task.agencies)
                ],
            )

    def set_withdrawn(self, ref: str, effective_from: date, withdrawn_on: date) -> None:
        self._conn.execute(
            permitted_tasks.update()
            .where((pt.ref == ref) & (pt.effective_from == effective_from))
            .values(withdrawn_on=withdrawn_on)
        )


class SqlProvisionUnitOfWork(SqlUnitOfWork):
    provision: SqlProvisionRegister

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.provision = SqlProvisionRegister(conn, self.clock)


class SqlProvisionRecords:
    """`provision_records`: written in one executemany per request, never rewritten."""

    def __init__(self, conn: sa.Connection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    def record(self, rows: Sequence[ProvisionRecord]) -> None:
        if not rows:
            return
        at, names = self._clock.now().isoformat(), _RECORD_FIELDS
        # not dataclasses.asdict: it deep-copies every value, the most of a 10,000-line batch
        self._conn.execute(
            provision_records.insert(),
            [{"at": at, **{n: getattr(r, n) for n in names}} for r in rows],
        )

    def counts(self, year: int) -> list[ProvisionCount]:
        """Per agency, task and outcome, the lookups of `year` (its days in UTC, as `at`)."""
        pr = provision_records.c
        start, end = date(year, 1, 1).isoformat(), date(year + 1, 1, 1).isoformat()
        rows = self._conn.execute(
            sa.select(pr.agency_id, pr.task_ref, pr.outcome, sa.func.count().label("n"))
            .where((pr.at >= start) & (pr.at < end))
            .group_by(pr.agency_id, pr.task_ref, pr.outcome)
            .order_by(pr.agency_id, pr.task_ref, pr.outcome)
        )
        return [ProvisionCount(r.agency_id, r.task_ref, r.outcome, int(r.n)) for r in rows]
