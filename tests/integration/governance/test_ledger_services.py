"""The ledgers in SQL (SQLite and PostgreSQL), through their services: each ledger's life, the
rules that refuse (approver ≠ entrant, clauses, the steps' order, closing with steps open),
every change and every refusal in the oplog, and the reads a transparency report calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.core.errors import NotFoundError, PermissionDeniedError, RuleViolation
from juki.core.ports import OpLogEntry
from juki.governance.ledgers import commands as c
from juki.governance.ledgers.model import CLAUSE_CODES, STEPS, ContractStatus, IncidentKind
from juki.governance.ledgers.services import config, contracts, incidents, rooms, views
from juki.governance.ledgers.store import SqlLedgerUnitOfWork, ledger_summary, open_incidents
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.store import SqlOpLog
from juki.security.tables import oplog
from juki.storage.engine import make_engine

NOW = datetime(2026, 4, 1, 9, 30, tzinfo=JST)
TODAY = NOW.date()
ADMIN = Actor("sysadm", Role.SYSTEM_ADMINISTRATOR, "T-1")
OPS = Actor("ops", Role.OPERATIONS_MANAGER, "T-2")
CLERK = Actor("clerk", Role.COUNTER_CLERK, "T-3")


@pytest.fixture
def uow(migrated_db_url: str) -> Iterator[SqlLedgerUnitOfWork]:
    engine = make_engine(migrated_db_url)
    clock = FixedClock(NOW)
    registrar = Actor("am", Role.ACCESS_MANAGER, "console")
    for actor in (ADMIN, OPS):
        create_operator(
            SqlLedgerUnitOfWork(engine, clock=clock), registrar, actor.actor_id, "職員", actor.role
        )
    try:
        yield SqlLedgerUnitOfWork(engine, clock=clock)
    finally:
        engine.dispose()


def logged(uow: SqlLedgerUnitOfWork, target_prefix: str) -> list[tuple[str, str, str]]:
    o = oplog.c
    with uow.engine.connect() as conn:
        rows = conn.execute(
            sa.select(o.action, o.outcome, o.actor_id)
            .where(o.target.like(f"{target_prefix}%"))
            .order_by(o.seq)
        )
        return [(r.action, r.outcome, r.actor_id) for r in rows]


def refused(fn: object, *args: object) -> RuleViolation:
    with pytest.raises(RuleViolation) as exc:
        fn(*args)  # type: ignore[operator]
    return exc.value


def test_room_access_needs_an_approver_other_than_the_entrant(uow: SqlLedgerUnitOfWork) -> None:
    vendor = c.PermitRoomAccess("server_room", "保守 次郎", "株式会社保守", "CS点検", TODAY)
    access = rooms.permit_room_access(uow, ADMIN, vendor)
    own = c.PermitRoomAccess("server_room", "管理 太郎", "市", "点検", TODAY, "sysadm")
    assert refused(rooms.permit_room_access, uow, ADMIN, own).rule == "self_approval"
    ghost = c.PermitRoomAccess("server_room", "誰か", "市", "点検", TODAY, "nobody")
    assert refused(rooms.permit_room_access, uow, ADMIN, ghost).field == "entrant_operator_id"
    past = c.PermitRoomAccess("server_room", "保守 次郎", "株式会社保守", "点検", date(2026, 3, 1))
    assert refused(rooms.permit_room_access, uow, ADMIN, past).rule == "past"
    with pytest.raises(PermissionDeniedError):  # a clerk permits nobody
        rooms.permit_room_access(uow, CLERK, vendor)

    assert refused(rooms.record_room_exit, uow, OPS, c.RecordRoomExit(1)).rule == "not_entered"
    rooms.record_room_entry(uow, OPS, c.RecordRoomEntry(access.access_id))
    assert refused(rooms.record_room_entry, uow, OPS, c.RecordRoomEntry(1)).rule == (
        "already_entered"
    )
    late = c.RecordRoomExit(access.access_id, NOW + timedelta(hours=2))
    assert refused(rooms.record_room_exit, uow, OPS, late).rule == "future"
    done = rooms.record_room_exit(uow, OPS, c.RecordRoomExit(access.access_id))
    assert done.state.value == "exited"
    with pytest.raises(NotFoundError):
        rooms.record_room_entry(uow, OPS, c.RecordRoomEntry(99))

    (line,) = rooms.room_access_log(uow, OPS)
    assert (line.approved_by, line.entry_recorded_by, line.exit_recorded_by) == (
        "sysadm",
        "ops",
        "ops",
    )
    assert line.entered_at == NOW and line.exited_at == NOW
    outcomes = logged(uow, "room_access:")
    assert ("approve_room_access", "ok", "sysadm") in outcomes
    assert ("approve_room_access", "denied", "clerk") in outcomes
    assert ("approve_room_access", "rejected", "sysadm") in outcomes
    assert [o for o in outcomes if o[0] == "record_room_access" and o[1] == "ok"] == [
        ("record_room_access", "ok", "ops")
    ] * 2


def test_the_configuration_ledger_keeps_every_change(uow: SqlLedgerUnitOfWork) -> None:
    cs = config.add_config_item(
        uow, ADMIN, c.AddConfigItem("device", "CS", "XS-100", "1.0", "電算室", "導入", "SN-1")
    )
    bad = c.AddConfigItem("printer", "X", "Y", "1", "Z", "導入")
    assert refused(config.add_config_item, uow, ADMIN, bad).field == "kind"
    empty = c.AddConfigItem("program", "", "Y", "1", "Z", "導入")
    error = refused(config.add_config_item, uow, ADMIN, empty)
    assert (error.field, error.rule, error.message_ja) == (
        "name",
        "required",
        "名称を入力してください",
    )
    config.change_config_item(uow, ADMIN, c.ChangeConfigItem(cs.item_id, "更新", version="1.1"))
    same = c.ChangeConfigItem(cs.item_id, "更新", version="1.1")
    assert refused(config.change_config_item, uow, ADMIN, same).rule == "unchanged"
    config.remove_config_item(uow, ADMIN, c.RemoveConfigItem(cs.item_id, "更改"))
    again = c.ChangeConfigItem(cs.item_id, "更新", location="倉庫")
    assert refused(config.change_config_item, uow, ADMIN, again).rule == "removed"
    with pytest.raises(PermissionDeniedError):
        config.add_config_item(uow, OPS, c.AddConfigItem("medium", "M", "Y", "1", "Z", "r"))

    assert config.config_ledger(uow, OPS) == []
    (item,) = config.config_ledger(uow, OPS, include_removed=True)
    assert (item.version, item.status.value) == ("1.1", "removed")
    history = config.config_history(uow, OPS, cs.item_id)
    assert [(h.event.value, h.detail) for h in history] == [
        ("registered", "name: CS; model: XS-100; version: 1.0; serial: SN-1; location: 電算室"),
        ("changed", "version: 1.0 → 1.1"),
        ("removed", ""),
    ]
    # the change, the change of nothing, the removal, the change after it, the history read
    assert [o[1] for o in logged(uow, f"config_item:{cs.item_id}")] == [
        "ok",
        "rejected",
        "ok",
        "rejected",
        "ok",
    ]
    assert ("manage_config_ledger", "denied", "ops") in logged(uow, "config_item:medium")


def test_a_contract_is_active_only_with_every_mandatory_clause(uow: SqlLedgerUnitOfWork) -> None:
    some = frozenset({"confidentiality", "no_subcontracting"})
    cmd = c.RecordContract("K-1", "保守会社", "CS保守", date(2026, 4, 1), date(2027, 3, 31), some)
    error = refused(contracts.record_contract, uow, OPS, cmd)
    assert (error.field, error.rule) == ("clauses", "missing_clauses")
    assert "事故発生時の報告義務" in error.message_ja
    lacking = contracts.record_contract(uow, OPS, replace(cmd, non_compliant=True))
    assert lacking.status is ContractStatus.NON_COMPLIANT
    assert set(lacking.missing) == set(CLAUSE_CODES) - some
    full = c.RecordContract(
        "K-2", "委託先", "入力", date(2026, 4, 1), date(2027, 3, 31), frozenset(CLAUSE_CODES)
    )
    assert contracts.record_contract(uow, OPS, full).status is ContractStatus.ACTIVE
    assert refused(contracts.record_contract, uow, OPS, full).rule == "duplicate"
    flagged = replace(full, contract_id="K-3", non_compliant=True)
    assert refused(contracts.record_contract, uow, OPS, flagged).rule == "nothing_missing"

    amended = contracts.amend_contract(
        uow, OPS, c.AmendContract("K-1", frozenset(CLAUSE_CODES), "変更契約")
    )
    assert amended.status is ContractStatus.ACTIVE and amended.missing == ()
    audit = c.RecordContractAudit("K-1", TODAY, "監査 一郎", "needs_action", "保管庫の施錠なし")
    contracts.record_contract_audit(uow, OPS, audit)
    future = c.RecordContractAudit("K-1", TODAY + timedelta(days=1), "監査", "satisfactory", "x")
    assert refused(contracts.record_contract_audit, uow, OPS, future).rule == "future"
    contracts.end_contract(uow, OPS, c.EndContract("K-2", date(2026, 12, 31), "満了"))
    late = c.AmendContract("K-2", frozenset(CLAUSE_CODES), "x")
    assert refused(contracts.amend_contract, uow, OPS, late).rule == "ended"
    assert [a.result.value for a in contracts.contract_audits(uow, OPS, "K-1")] == ["needs_action"]
    entries = logged(uow, "contract:K-1")
    assert entries[0] == ("manage_contracts", "rejected", "ops")
    assert entries[1] == ("manage_contracts", "ok", "ops")
    with uow.engine.connect() as conn:
        detail = conn.execute(
            sa.select(oplog.c.detail).where(
                oplog.c.target == "contract:K-1", oplog.c.outcome == "ok"
            )
        ).first()
    assert detail is not None and "missing: no_other_use" in detail.detail


def test_an_incident_follows_the_seeds_steps_in_order(uow: SqlLedgerUnitOfWork) -> None:
    opened = incidents.open_incident(
        uow, OPS, c.OpenIncident("virus", "USBメモリのウイルス検知", NOW - timedelta(hours=1))
    )
    assert [s.code for s in opened.open_steps] == [s.code for s in STEPS[IncidentKind.VIRUS]]
    out_of_order = c.RecordIncidentStep(opened.incident_id, "report", "報告")
    error = refused(incidents.record_incident_step, uow, OPS, out_of_order)
    assert (error.field, error.rule) == ("step", "order")
    assert "ネットワークの接続の遮断" in error.message_ja
    early = c.CloseIncident(opened.incident_id, "終わり")
    assert refused(incidents.close_incident, uow, OPS, early).rule == "steps_open"
    with pytest.raises(PermissionDeniedError):
        incidents.record_incident_step(
            uow, CLERK, c.RecordIncidentStep(opened.incident_id, "disconnect", "x")
        )
    for step in STEPS[IncidentKind.VIRUS]:
        incidents.record_incident_step(
            uow, OPS, c.RecordIncidentStep(opened.incident_id, step.code, f"{step.ja}済み")
        )
    with uow.engine.connect() as conn:
        (still,) = open_incidents(conn)
        assert still.next_step is None
    closed = incidents.close_incident(uow, OPS, early)
    assert closed.status.value == "closed"
    assert refused(incidents.close_incident, uow, OPS, early).rule == "closed"
    bad = c.OpenIncident("meteor", "x", NOW)
    assert refused(incidents.open_incident, uow, OPS, bad).field == "kind"

    with uow.engine.connect() as conn:
        assert open_incidents(conn) == []
        summary = ledger_summary(conn, TODAY, TODAY)
    assert (summary.incidents_opened, summary.incidents_closed, summary.incidents_open) == (1, 1, 0)
    assert views.ledger_summary(uow, OPS, TODAY, TODAY) == summary
    outcomes = [o[1] for o in logged(uow, f"incident:{opened.incident_id}")]
    assert outcomes.count("ok") == len(STEPS[IncidentKind.VIRUS]) + 1  # every step and the close
    assert "denied" in outcomes


def test_the_cards_ledger_is_a_view_over_the_operators(uow: SqlLedgerUnitOfWork) -> None:
    holdings = {h.operator_id: h for h in views.card_ledger(uow, Actor("am", Role.ACCESS_MANAGER))}
    assert set(holdings) == {"sysadm", "ops"}
    assert holdings["ops"].card_label is None and holdings["ops"].verifiers == 0
    with pytest.raises(PermissionDeniedError):
        views.card_ledger(uow, ADMIN)
    assert logged(uow, "ledger:operator_cards") == [
        ("view_operator_ledger", "ok", "am"),
        ("view_operator_ledger", "denied", "sysadm"),
    ]


def longest(n: int, base: str = "葛") -> str:
    """`n` characters of two code points each (葛 with its variation selector): the most a
    field of `n` characters holds, which the columns must hold on PostgreSQL too."""
    return (base + "\U000e0102") * n


def test_the_longest_values_the_rules_allow_fit_the_columns(uow: SqlLedgerUnitOfWork) -> None:
    access = rooms.permit_room_access(
        uow,
        ADMIN,
        c.PermitRoomAccess("media_store", longest(64), longest(100), longest(200), TODAY),
    )
    assert access.purpose == longest(200)
    item = config.add_config_item(
        uow,
        ADMIN,
        c.AddConfigItem(
            "medium", longest(100), longest(100), longest(40), longest(100), longest(200),
            longest(64),
        ),
    )  # fmt: skip
    changed = c.ChangeConfigItem(
        item.item_id, longest(200), longest(100, "辻"), longest(100, "辻"), longest(40, "辻"),
        longest(64, "辻"), longest(100, "辻"),
    )  # fmt: skip
    assert config.change_config_item(uow, ADMIN, changed).location == longest(100, "辻")
    assert len(config.config_history(uow, ADMIN, item.item_id)[-1].detail) == 1000
    contracts.record_contract(
        uow,
        OPS,
        c.RecordContract(
            "A" * 40, longest(100), longest(200), TODAY, TODAY, frozenset(CLAUSE_CODES)
        ),
    )
    audit = c.RecordContractAudit("A" * 40, TODAY, longest(64), "satisfactory", longest(1000))
    assert contracts.record_contract_audit(uow, OPS, audit).findings == longest(1000)
    opened = incidents.open_incident(uow, OPS, c.OpenIncident("leak", longest(200), NOW))
    step = c.RecordIncidentStep(opened.incident_id, "request_report", longest(1000))
    assert incidents.record_incident_step(uow, OPS, step).steps[0].note == longest(1000)
    early = c.OpenIncident("leak", "x", datetime(1999, 12, 31, tzinfo=JST))
    assert refused(incidents.open_incident, uow, OPS, early).rule == "too_early"
    with uow.engine.connect() as conn:
        assert ledger_summary(conn, date(1, 1, 1), date(9999, 12, 31)).incidents_open == 1


def test_a_change_whose_oplog_entry_cannot_be_written_is_not_kept(
    uow: SqlLedgerUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = SqlOpLog.append

    def failing(self: SqlOpLog, entry: OpLogEntry) -> None:
        if entry.outcome == "ok":
            raise RuntimeError("the log is full")
        real(self, entry)

    monkeypatch.setattr(SqlOpLog, "append", failing)
    with pytest.raises(RuntimeError):
        incidents.open_incident(uow, OPS, c.OpenIncident("failure", "CS停止", NOW))
    monkeypatch.undo()
    assert incidents.incidents(uow, OPS) == []
    assert logged(uow, "incident:failure") == [("report_incident", "failed", "ops")]


@pytest.mark.parametrize("junk", ["\x00", "K\ud800", "\ufffe"])
def test_a_refusal_of_text_no_database_holds_is_still_logged(
    uow: SqlLedgerUnitOfWork, junk: str
) -> None:
    cmd = c.RecordContract(junk, "x", "y", TODAY, TODAY, frozenset(CLAUSE_CODES))
    assert refused(contracts.record_contract, uow, OPS, cmd).field == "contract_id"
    bad_kind = c.OpenIncident(junk, "x", NOW)
    assert refused(incidents.open_incident, uow, OPS, bad_kind).field == "kind"
    assert refused(contracts.contract_audits, uow, OPS, junk).field == "contract_id"
    assert [o[1] for o in logged(uow, "contract:")] == ["rejected"]
    assert [o[1] for o in logged(uow, "incident:")] == ["rejected"]
