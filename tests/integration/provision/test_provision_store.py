"""The register in SQL (SQLite and PostgreSQL), through its services: agencies, the shipped
tasks, an amendment's withdrawal, history never rewritten, and every call in the oplog."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.core.errors import PermissionDeniedError, RuleViolation
from juki.nodes.provision_register import shipped_register
from juki.provision import services
from juki.provision.commands import AddAgency, LoadTasks, WithdrawAgency
from juki.provision.model import AgencyStatus, Item
from juki.provision.register_file import parse_register
from juki.provision.rules import allowed_items, task_on
from juki.provision.store import SqlProvisionUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.storage.engine import make_engine

OPERATOR = Actor("nat-1", Role.NATIONAL_OPERATOR, "console")
AUDITOR = Actor("audit-1", Role.AUDITOR, "console")
TODAY = date(2026, 4, 1)


def test_the_register_keeps_its_history_and_logs_every_call(migrated_db_url: str) -> None:
    engine = make_engine(migrated_db_url)
    uow = SqlProvisionUnitOfWork(engine, clock=FixedClock(datetime(2026, 4, 1, 9, tzinfo=JST)))
    register = parse_register(shipped_register())
    try:
        with pytest.raises(PermissionDeniedError):
            services.add_agency(
                uow,
                AUDITOR,
                AddAgency("nenkin", "日本年金機構", register.agencies[0].kind, "a" * 64),
            )
        for i, entry in enumerate(register.agencies):
            services.add_agency(
                uow, OPERATOR, AddAgency(entry.agency_id, entry.name, entry.kind, f"{i:064x}")
            )
        with pytest.raises(RuleViolation) as refused:
            services.load_tasks(
                uow,
                OPERATOR,
                LoadTasks((replace(register.tasks[0], agencies=frozenset({"nobody"})),)),
            )
        assert refused.value.rule == "unknown_agency"
        first = services.load_tasks(uow, OPERATOR, LoadTasks(register.tasks))
        assert len(first.added) == len(register.tasks) and not first.withdrawn
        loaded = services.list_tasks(uow, AUDITOR)
        assert sorted(loaded, key=lambda t: (t.ref, t.effective_from)) == sorted(
            register.tasks, key=lambda t: (t.ref, t.effective_from)
        )

        # an amendment withdraws the 旅券 row from last year; reloading it changes only that
        passport = next(t for t in register.tasks if t.table == "第五")
        amended = tuple(
            replace(t, withdrawn_on=date(2025, 4, 1)) if t == passport else t
            for t in register.tasks
        )
        second = services.load_tasks(uow, OPERATOR, LoadTasks(amended))
        assert second.withdrawn == (f"{passport.ref} from {passport.effective_from}",)
        assert second.unchanged == len(register.tasks) - 1
        with pytest.raises(RuleViolation) as rewritten:
            services.load_tasks(uow, OPERATOR, LoadTasks((replace(passport, title="別の事務"),)))
        assert rewritten.value.rule == "history"
        # nor may a loaded version lose (or gain) the 附票: an amendment is a new version
        assert passport.fuhyo
        with pytest.raises(RuleViolation) as unflagged:
            services.load_tasks(uow, OPERATOR, LoadTasks((replace(passport, fuhyo=False),)))
        assert unflagged.value.rule == "history"

        versions = services.list_tasks(uow, OPERATOR)
        tokyo = next(a for a in services.list_agencies(uow, AUDITOR) if a.agency_id == "tokyo")
        tokyo = replace(tokyo, registered_on=passport.effective_from)  # as if registered then
        assert allowed_items(task_on(versions, passport.ref, TODAY), tokyo, on=TODAY) == frozenset()
        then = date(2020, 6, 1)
        assert (
            allowed_items(task_on(versions, passport.ref, then), tokyo, on=then) == passport.items
        )

        gone = services.withdraw_agency(uow, OPERATOR, WithdrawAgency("nenkin"))
        assert (gone.status, gone.withdrawn_on) == (AgencyStatus.WITHDRAWN, TODAY)
        pension = task_on(versions, "別表第一 の 九十一", TODAY)
        assert pension is not None and Item.MY_NUMBER in pension.items
        assert allowed_items(pension, gone, on=TODAY) == frozenset()
        with pytest.raises(RuleViolation):
            services.add_agency(
                uow, OPERATOR, AddAgency("nenkin", "日本年金機構", gone.kind, "b" * 64)
            )

        o = oplog.c
        with engine.connect() as conn:
            rows = conn.execute(sa.select(o.action, o.outcome, o.role).order_by(o.seq)).all()
    finally:
        engine.dispose()
    n = len(register.agencies)
    assert [tuple(r) for r in rows] == [
        ("manage_provision_register", "denied", "auditor"),
        *[("manage_provision_register", "ok", "national_operator")] * n,
        ("manage_provision_register", "rejected", "national_operator"),  # unknown agency
        ("manage_provision_register", "ok", "national_operator"),
        ("view_provision_register", "ok", "auditor"),
        ("manage_provision_register", "ok", "national_operator"),  # the withdrawal
        ("manage_provision_register", "rejected", "national_operator"),  # history rewritten
        ("manage_provision_register", "rejected", "national_operator"),  # the 附票 unflagged
        ("view_provision_register", "ok", "national_operator"),
        ("view_provision_register", "ok", "auditor"),
        ("manage_provision_register", "ok", "national_operator"),  # agency withdrawn
        ("manage_provision_register", "rejected", "national_operator"),  # re-registered
    ]
