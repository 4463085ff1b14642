"""The governance ledgers' screens on the counter terminal (管理簿), for staff, in Japanese.

They live here, where the node is put together, because they join two features of one layer:
the terminal's session and pages (`juki.certificates.terminal`) and the ledgers' services
(`juki.governance.ledgers`); they are added to the terminal as a `ScreenSet` and drawn by the
ledgers' own templates. Each post is the service's action (authorised, in the oplog); a refused
one comes back on its page naming the field, any other refusal is the terminal's error page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Final

from fastapi import Form, Path, Query
from fastapi.responses import HTMLResponse, Response

from juki.certificates.terminal.screens import Route, Screens, ScreenSet, TerminalScreens
from juki.certificates.terminal.session import FormSession, Session, TerminalSession
from juki.core.clock import JST
from juki.core.errors import RuleViolation, ValidationError
from juki.governance.ledgers import commands as c
from juki.governance.ledgers import model as m
from juki.governance.ledgers.services import config, contracts, incidents, rooms, views
from juki.governance.ledgers.store import SqlLedgerUnitOfWork
from juki.security.permissions import Permission
from juki.web.text import CleanStr

# Every form field is a `CleanStr`: NUL, lone surrogates and noncharacters are a 422 page before
# anything runs (PostgreSQL could store none of them, not even in the oplog's refusal).
Line = Annotated[CleanStr, Form(max_length=400)]
Long = Annotated[CleanStr, Form(max_length=2000)]
Short = Annotated[CleanStr, Form(max_length=64)]
Moment = Annotated[CleanStr, Form(max_length=40)]
IdPath = Annotated[int, Path(ge=1, le=2**62)]
DONE: Final = {
    "permitted": "入室を許可しました。",
    "entered": "入室を記録しました。",
    "exited": "退室を記録しました。",
    "added": "構成管理簿に記載しました。",
    "changed": "変更を記録しました。",
    "removed": "撤去・廃棄を記録しました。",
    "recorded": "契約を登録しました。",
    "audited": "調査結果を記録しました。",
    "ended": "契約の終了を記録しました。",
    "opened": "事故を報告しました。",
    "step": "対応手順を記録しました。",
    "closed": "事故を終結しました。",
}
LABELS: Final = {
    "room": m.ROOM_JA,
    "state": m.ACCESS_STATE_JA,
    "config_kind": m.CONFIG_KIND_JA,
    "contract_status": m.CONTRACT_STATUS_JA,
    "audit_result": m.AUDIT_RESULT_JA,
    "incident_kind": m.INCIDENT_KIND_JA,
    "clauses": m.CLAUSES,
    "steps": m.STEPS,
}


def _uow(screens: Screens) -> SqlLedgerUnitOfWork:
    desk = screens.desk()
    return SqlLedgerUnitOfWork(desk.engine, clock=desk.clock)


def _page(
    screens: Screens,
    session: Session,
    name: str,
    msg: str = "",
    error: RuleViolation | None = None,
    **context: Any,
) -> HTMLResponse:
    return screens.page(
        f"ledgers/{name}.html",
        session,
        200 if error is None else 422,
        done=DONE.get(msg, ""),
        error=error,
        labels=LABELS,
        **context,
    )


def _day(field: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            field, "date", "not a day (YYYY-MM-DD)", "日付を正しく入力してください"
        ) from None


def _moment(field: str, text: str) -> datetime | None:
    """A datetime-local field (JST), or now when left empty."""
    if not text.strip():
        return None
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            field, "datetime", "not a time", "日時を正しく入力してください"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=JST)


def _act(
    screens: Screens,
    session: Session,
    done: Callable[[], str],
    back: Callable[[RuleViolation], Response],
) -> Response:
    """Run the action; on a rule's refusal, the page again with the error."""
    try:
        where = done()
    except RuleViolation as exc:
        return back(exc)
    return screens.see_other(where)


def menu(session: TerminalSession, screens: TerminalScreens) -> HTMLResponse:
    return _page(screens, session, "menu")


# --- 入退室管理簿 ---------------------------------------------------------------------------


def _rooms(
    screens: Screens, session: Session, msg: str = "", error: RuleViolation | None = None
) -> HTMLResponse:
    rows = rooms.room_access_log(_uow(screens), session.actor)
    today = screens.desk().clock.now().date().isoformat()
    return _page(screens, session, "rooms", msg, error, rows=rows, today=today)


def rooms_page(
    session: TerminalSession,
    screens: TerminalScreens,
    msg: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    return _rooms(screens, session, msg)


def permit(
    session: FormSession,
    screens: TerminalScreens,
    room: Line,
    entrant_name: Line,
    entrant_org: Line,
    purpose: Long,
    permitted_on: Line,
    entrant_operator_id: Short = "",
) -> Response:
    def run() -> str:
        cmd = c.PermitRoomAccess(
            room,
            entrant_name,
            entrant_org,
            purpose,
            _day("permitted_on", permitted_on),
            entrant_operator_id.strip() or None,
        )
        rooms.permit_room_access(_uow(screens), session.actor, cmd)
        return "/ledgers/room-access?msg=permitted"

    return _act(screens, session, run, lambda e: _rooms(screens, session, error=e))


def _passage(exit_: bool) -> Callable[..., Response]:
    def record(
        session: FormSession,
        screens: TerminalScreens,
        access_id: Annotated[int, Form(ge=1, le=2**62)],
        at: Moment = "",
    ) -> Response:
        def run() -> str:
            when = _moment("at", at)
            if exit_:
                rooms.record_room_exit(
                    _uow(screens), session.actor, c.RecordRoomExit(access_id, when)
                )
                return "/ledgers/room-access?msg=exited"
            rooms.record_room_entry(
                _uow(screens), session.actor, c.RecordRoomEntry(access_id, when)
            )
            return "/ledgers/room-access?msg=entered"

        return _act(screens, session, run, lambda e: _rooms(screens, session, error=e))

    record.__name__ = "room_exit" if exit_ else "room_entry"
    return record


# --- 構成管理簿 -----------------------------------------------------------------------------


def _config(
    screens: Screens, session: Session, msg: str = "", error: RuleViolation | None = None
) -> HTMLResponse:
    uow = _uow(screens)
    items = config.config_ledger(uow, session.actor, include_removed=True)
    history = config.config_history(uow, session.actor)
    return _page(screens, session, "config", msg, error, items=items, history=history)


def config_page(
    session: TerminalSession,
    screens: TerminalScreens,
    msg: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    return _config(screens, session, msg)


def add_item(
    session: FormSession,
    screens: TerminalScreens,
    kind: Line,
    name: Line,
    model: Line,
    version: Line,
    location: Line,
    reason: Line,
    serial: Line = "",
) -> Response:
    def run() -> str:
        cmd = c.AddConfigItem(kind, name, model, version, location, reason, serial)
        config.add_config_item(_uow(screens), session.actor, cmd)
        return "/ledgers/config?msg=added"

    return _act(screens, session, run, lambda e: _config(screens, session, error=e))


def change_item(
    session: FormSession,
    screens: TerminalScreens,
    item_id: Annotated[int, Form(ge=1, le=2**62)],
    reason: Line,
    version: Line = "",
    location: Line = "",
    action: Short = "change",
) -> Response:
    def run() -> str:
        uow = _uow(screens)
        if action == "remove":
            config.remove_config_item(uow, session.actor, c.RemoveConfigItem(item_id, reason))
            return "/ledgers/config?msg=removed"
        cmd = c.ChangeConfigItem(
            item_id, reason, version=version or None, location=location or None
        )
        config.change_config_item(uow, session.actor, cmd)
        return "/ledgers/config?msg=changed"

    return _act(screens, session, run, lambda e: _config(screens, session, error=e))


def cards_page(session: TerminalSession, screens: TerminalScreens) -> HTMLResponse:
    rows = views.card_ledger(_uow(screens), session.actor)
    return _page(screens, session, "cards", rows=rows)


# --- 委託契約 -------------------------------------------------------------------------------


def _contracts(
    screens: Screens, session: Session, msg: str = "", error: RuleViolation | None = None
) -> HTMLResponse:
    uow = _uow(screens)
    rows = contracts.contracts(uow, session.actor)
    audits = contracts.contract_audits(uow, session.actor)
    return _page(screens, session, "contracts", msg, error, rows=rows, audits=audits)


def contracts_page(
    session: TerminalSession,
    screens: TerminalScreens,
    msg: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    return _contracts(screens, session, msg)


def record_contract(
    session: FormSession,
    screens: TerminalScreens,
    contract_id: Short,
    contractor: Line,
    subject: Long,
    starts_on: Line,
    ends_on: Line,
    clause: Annotated[list[CleanStr], Form(max_length=7)] = [],  # noqa: B006 (FastAPI's form default)
    non_compliant: Short = "",
) -> Response:
    def run() -> str:
        cmd = c.RecordContract(
            contract_id,
            contractor,
            subject,
            _day("starts_on", starts_on),
            _day("ends_on", ends_on),
            frozenset(clause),
            non_compliant == "on",
        )
        contracts.record_contract(_uow(screens), session.actor, cmd)
        return "/ledgers/contracts?msg=recorded"

    return _act(screens, session, run, lambda e: _contracts(screens, session, error=e))


def audit_contract(
    session: FormSession,
    screens: TerminalScreens,
    contract_id: Short,
    audited_on: Line,
    auditor: Line,
    result: Line,
    findings: Long,
) -> Response:
    def run() -> str:
        cmd = c.RecordContractAudit(
            contract_id, _day("audited_on", audited_on), auditor, result, findings
        )
        contracts.record_contract_audit(_uow(screens), session.actor, cmd)
        return "/ledgers/contracts?msg=audited"

    return _act(screens, session, run, lambda e: _contracts(screens, session, error=e))


def end_contract(
    session: FormSession,
    screens: TerminalScreens,
    contract_id: Short,
    ended_on: Line,
    reason: Line,
) -> Response:
    def run() -> str:
        cmd = c.EndContract(contract_id, _day("ended_on", ended_on), reason)
        contracts.end_contract(_uow(screens), session.actor, cmd)
        return "/ledgers/contracts?msg=ended"

    return _act(screens, session, run, lambda e: _contracts(screens, session, error=e))


# --- 事故 -----------------------------------------------------------------------------------


def _incidents(
    screens: Screens, session: Session, msg: str = "", error: RuleViolation | None = None
) -> HTMLResponse:
    rows = incidents.incidents(_uow(screens), session.actor)
    return _page(screens, session, "incidents", msg, error, rows=rows)


def incidents_page(
    session: TerminalSession,
    screens: TerminalScreens,
    msg: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    return _incidents(screens, session, msg)


def open_incident(
    session: FormSession,
    screens: TerminalScreens,
    kind: Line,
    title: Long,
    occurred_at: Moment = "",
) -> Response:
    def run() -> str:
        when = _moment("occurred_at", occurred_at) or screens.desk().clock.now()
        found = incidents.open_incident(
            _uow(screens), session.actor, c.OpenIncident(kind, title, when)
        )
        return f"/ledgers/incidents/{found.incident_id}?msg=opened"

    return _act(screens, session, run, lambda e: _incidents(screens, session, error=e))


def _incident(
    screens: Screens,
    session: Session,
    incident_id: int,
    msg: str = "",
    error: RuleViolation | None = None,
) -> HTMLResponse:
    found = incidents.incident(_uow(screens), session.actor, incident_id)
    done = {s.step: s for s in found.steps}
    can = session.can(Permission.HANDLE_INCIDENT)
    return _page(
        screens, session, "incident", msg, error, incident=found, done_steps=done, can_handle=can
    )


def incident_page(
    incident_id: IdPath,
    session: TerminalSession,
    screens: TerminalScreens,
    msg: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    return _incident(screens, session, incident_id, msg)


def incident_step(
    incident_id: IdPath,
    session: FormSession,
    screens: TerminalScreens,
    step: Short,
    note: Long,
) -> Response:
    def run() -> str:
        cmd = c.RecordIncidentStep(incident_id, step, note)
        incidents.record_incident_step(_uow(screens), session.actor, cmd)
        return f"/ledgers/incidents/{incident_id}?msg=step"

    return _act(screens, session, run, lambda e: _incident(screens, session, incident_id, error=e))


def incident_closure(
    incident_id: IdPath, session: FormSession, screens: TerminalScreens, closing_note: Long
) -> Response:
    def run() -> str:
        cmd = c.CloseIncident(incident_id, closing_note)
        incidents.close_incident(_uow(screens), session.actor, cmd)
        return f"/ledgers/incidents/{incident_id}?msg=closed"

    return _act(screens, session, run, lambda e: _incident(screens, session, incident_id, error=e))


ROUTES: Final = (
    Route("GET", "/ledgers", menu),
    Route("GET", "/ledgers/room-access", rooms_page),
    Route("POST", "/ledgers/room-access", permit),
    Route("POST", "/ledgers/room-access/entry", _passage(exit_=False)),
    Route("POST", "/ledgers/room-access/exit", _passage(exit_=True)),
    Route("GET", "/ledgers/config", config_page),
    Route("POST", "/ledgers/config", add_item),
    Route("POST", "/ledgers/config/changes", change_item),
    Route("GET", "/ledgers/operator-cards", cards_page),
    Route("GET", "/ledgers/contracts", contracts_page),
    Route("POST", "/ledgers/contracts", record_contract),
    Route("POST", "/ledgers/contracts/audits", audit_contract),
    Route("POST", "/ledgers/contracts/end", end_contract),
    Route("GET", "/ledgers/incidents", incidents_page),
    Route("POST", "/ledgers/incidents", open_incident),
    Route("GET", "/ledgers/incidents/{incident_id}", incident_page),
    Route("POST", "/ledgers/incidents/{incident_id}/steps", incident_step),
    Route("POST", "/ledgers/incidents/{incident_id}/closure", incident_closure),
)
LEDGER_SCREENS: Final = ScreenSet(
    routes=ROUTES,
    template_package="juki.governance.ledgers",
    menu=(("/ledgers", "管理簿", Permission.VIEW_LEDGERS.value),),
)
