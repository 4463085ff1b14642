"""The ledgers over the JSON API (`/api/v1/ledgers/…`): body → command → service → response.

Every route takes an operator's bearer token; the service checks the permission and writes the
oplog entry. A refusal is a 422 naming the field and the rule (with `msg_ja`), a missing line a
404, a role without the permission a 403 (logged as `denied`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query, Request

from juki.governance.ledgers import commands as c
from juki.governance.ledgers.model import (
    CardHolding,
    ConfigChange,
    ConfigItem,
    ContractAudit,
    LedgerSummary,
    RoomAccess,
)
from juki.governance.ledgers.schemas import (
    AmendmentIn,
    AuditIn,
    ClosureIn,
    ConfigChangeIn,
    ConfigItemIn,
    ContractIn,
    ContractOut,
    EndIn,
    IncidentIn,
    IncidentOut,
    MomentIn,
    PermitIn,
    ReasonIn,
    StepIn,
)
from juki.governance.ledgers.services import config, contracts, incidents, rooms, views
from juki.governance.ledgers.store import SqlLedgerUnitOfWork
from juki.web.auth import OperatorActor
from juki.web.errors import READ_RESPONSES, WRITE_RESPONSES
from juki.web.text import CleanStr

PREFIX: Final = "/api/v1/ledgers"
IdPath = Annotated[int, Path(ge=1, le=2**62)]
ContractPath = Annotated[CleanStr, Path(min_length=1, max_length=64)]


def new_uow(request: Request) -> SqlLedgerUnitOfWork:
    return SqlLedgerUnitOfWork(request.app.state.engine, clock=request.app.state.clock)


UoW = Annotated[SqlLedgerUnitOfWork, Depends(new_uow)]


def _rooms(router: APIRouter) -> None:
    @router.get("/room-access", responses=READ_RESPONSES)
    def room_access_log(
        uow: UoW,
        by: OperatorActor,
        since: Annotated[date | None, Query()] = None,
        until: Annotated[date | None, Query()] = None,
    ) -> list[RoomAccess]:
        """入退室管理簿 by the day permitted, newest first (`view_ledgers`)."""
        return list(rooms.room_access_log(uow, by, since, until))

    @router.post("/room-access", status_code=201, responses=WRITE_RESPONSES)
    def permit(body: PermitIn, uow: UoW, by: OperatorActor) -> RoomAccess:
        """事前の許可: the sender permits the entrant (`approve_room_access`; not themself)."""
        return rooms.permit_room_access(uow, by, body.to_command())

    @router.post("/room-access/{access_id}/entry", responses=WRITE_RESPONSES)
    def entry(access_id: IdPath, body: MomentIn, uow: UoW, by: OperatorActor) -> RoomAccess:
        """入室 on the day permitted (`record_room_access`)."""
        return rooms.record_room_entry(uow, by, c.RecordRoomEntry(access_id, body.when()))

    @router.post("/room-access/{access_id}/exit", responses=WRITE_RESPONSES)
    def exit_(access_id: IdPath, body: MomentIn, uow: UoW, by: OperatorActor) -> RoomAccess:
        """退室 (`record_room_access`)."""
        return rooms.record_room_exit(uow, by, c.RecordRoomExit(access_id, body.when()))


def _config(router: APIRouter) -> None:
    @router.get("/config", responses=READ_RESPONSES)
    def config_ledger(
        uow: UoW, by: OperatorActor, include_removed: Annotated[bool, Query()] = False
    ) -> list[ConfigItem]:
        """構成管理簿 (様式第1号): the items in use, or all (`view_ledgers`)."""
        return list(config.config_ledger(uow, by, include_removed))

    @router.get("/config/history", responses=READ_RESPONSES)
    def config_history(
        uow: UoW, by: OperatorActor, item_id: Annotated[int | None, Query(ge=1)] = None
    ) -> list[ConfigChange]:
        """The change history of one item or all, oldest first (`view_ledgers`)."""
        return list(config.config_history(uow, by, item_id))

    @router.post("/config", status_code=201, responses=WRITE_RESPONSES)
    def add_item(body: ConfigItemIn, uow: UoW, by: OperatorActor) -> ConfigItem:
        """Register a device, program or medium (`manage_config_ledger`)."""
        return config.add_config_item(uow, by, body.to_command())

    @router.post("/config/{item_id}/changes", responses=WRITE_RESPONSES)
    def change_item(
        item_id: IdPath, body: ConfigChangeIn, uow: UoW, by: OperatorActor
    ) -> ConfigItem:
        """Record a change (version, location …) with its reason (`manage_config_ledger`)."""
        return config.change_config_item(uow, by, body.to_command(item_id))

    @router.post("/config/{item_id}/removal", responses=WRITE_RESPONSES)
    def remove_item(item_id: IdPath, body: ReasonIn, uow: UoW, by: OperatorActor) -> ConfigItem:
        """撤去・廃棄: the item stays in the ledger, removed (`manage_config_ledger`)."""
        return config.remove_config_item(uow, by, c.RemoveConfigItem(item_id, body.reason))


def _contracts(router: APIRouter) -> None:
    @router.get("/contracts", responses=READ_RESPONSES)
    def list_contracts(uow: UoW, by: OperatorActor) -> list[ContractOut]:
        """委託契約, each with the mandatory clauses it lacks (`view_ledgers`)."""
        return [ContractOut.of(k) for k in contracts.contracts(uow, by)]

    @router.post("/contracts", status_code=201, responses=WRITE_RESPONSES)
    def record(body: ContractIn, uow: UoW, by: OperatorActor) -> ContractOut:
        """Record a contract: active only with every mandatory clause, or non-compliant on
        purpose with the missing ones named (`manage_contracts`)."""
        return ContractOut.of(contracts.record_contract(uow, by, body.to_command()))

    @router.post("/contracts/{contract_id}/amendment", responses=WRITE_RESPONSES)
    def amend(
        contract_id: ContractPath, body: AmendmentIn, uow: UoW, by: OperatorActor
    ) -> ContractOut:
        """変更契約: the clauses it states now (`manage_contracts`)."""
        cmd = c.AmendContract(contract_id, frozenset(body.clauses), body.reason, body.non_compliant)
        return ContractOut.of(contracts.amend_contract(uow, by, cmd))

    @router.post("/contracts/{contract_id}/end", responses=WRITE_RESPONSES)
    def end(contract_id: ContractPath, body: EndIn, uow: UoW, by: OperatorActor) -> ContractOut:
        """The contract ended (`manage_contracts`)."""
        cmd = c.EndContract(contract_id, body.ended_on, body.reason)
        return ContractOut.of(contracts.end_contract(uow, by, cmd))

    @router.post("/contracts/{contract_id}/audits", status_code=201, responses=WRITE_RESPONSES)
    def audit(
        contract_id: ContractPath, body: AuditIn, uow: UoW, by: OperatorActor
    ) -> ContractAudit:
        """受託者の管理状況の調査 (`manage_contracts`)."""
        cmd = c.RecordContractAudit(
            contract_id, body.audited_on, body.auditor, body.result, body.findings
        )
        return contracts.record_contract_audit(uow, by, cmd)

    @router.get("/contract-audits", responses=READ_RESPONSES)
    def audits(
        uow: UoW,
        by: OperatorActor,
        contract_id: Annotated[CleanStr | None, Query(max_length=64)] = None,
    ) -> list[ContractAudit]:
        """The audits of one contract or all, newest first (`view_ledgers`)."""
        return list(contracts.contract_audits(uow, by, contract_id))


def _incidents(router: APIRouter) -> None:
    @router.get("/incidents", responses=READ_RESPONSES)
    def list_incidents(
        uow: UoW, by: OperatorActor, open_only: Annotated[bool, Query()] = False
    ) -> list[IncidentOut]:
        """事故, newest first, each with its steps (`view_ledgers`)."""
        return [IncidentOut.of(i) for i in incidents.incidents(uow, by, open_only)]

    @router.get("/incidents/{incident_id}", responses=READ_RESPONSES)
    def one_incident(incident_id: IdPath, uow: UoW, by: OperatorActor) -> IncidentOut:
        return IncidentOut.of(incidents.incident(uow, by, incident_id))

    @router.post("/incidents", status_code=201, responses=WRITE_RESPONSES)
    def report(body: IncidentIn, uow: UoW, by: OperatorActor) -> IncidentOut:
        """Report an incident of a kind the seeds name (`report_incident`)."""
        return IncidentOut.of(incidents.open_incident(uow, by, body.to_command()))

    @router.post("/incidents/{incident_id}/steps", responses=WRITE_RESPONSES)
    def step(incident_id: IdPath, body: StepIn, uow: UoW, by: OperatorActor) -> IncidentOut:
        """The next response step done, in the seed's order (`handle_incident`)."""
        cmd = c.RecordIncidentStep(incident_id, body.step, body.note)
        return IncidentOut.of(incidents.record_incident_step(uow, by, cmd))

    @router.post("/incidents/{incident_id}/closure", responses=WRITE_RESPONSES)
    def close(incident_id: IdPath, body: ClosureIn, uow: UoW, by: OperatorActor) -> IncidentOut:
        """終結, once no step is open (`handle_incident`)."""
        cmd = c.CloseIncident(incident_id, body.closing_note)
        return IncidentOut.of(incidents.close_incident(uow, by, cmd))


def _views(router: APIRouter) -> None:
    @router.get("/operator-cards", responses=READ_RESPONSES)
    def operator_cards(uow: UoW, by: OperatorActor) -> Sequence[CardHolding]:
        """操作識別カード and 照合情報 by operator (`view_operator_ledger`)."""
        return list(views.card_ledger(uow, by))

    @router.get("/summary", responses=READ_RESPONSES)
    def summary(
        uow: UoW,
        by: OperatorActor,
        since: Annotated[date, Query()],
        until: Annotated[date, Query()],
    ) -> LedgerSummary:
        """Counts over a period, no names (`view_ledgers`)."""
        return views.ledger_summary(uow, by, since, until)


def ledgers_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["ledgers"])
    _rooms(router)
    _config(router)
    _contracts(router)
    _incidents(router)
    _views(router)
    return router
