"""Outsourcing contracts (委託契約, seed 001 第23–第25, seed 002 第17–第20条) and the audits of
the contractor.

The contract must state the clauses of 001 第24 and 002 第19条 (`model.CLAUSES`). One that
states them all is recorded active; one that lacks any is refused, unless it is recorded as
non-compliant on purpose, and then its record and its oplog entry name the missing clauses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from juki.core.errors import DomainRuleError, NotFoundError
from juki.governance.ledgers import rules
from juki.governance.ledgers.commands import (
    AmendContract,
    EndContract,
    RecordContract,
    RecordContractAudit,
)
from juki.governance.ledgers.model import (
    AuditResult,
    Contract,
    ContractAudit,
    ContractStatus,
)
from juki.governance.ledgers.ports import LedgerUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission


def _said(contract: Contract) -> str:
    missing = contract.missing
    state = contract.status.value
    return f"{state}; missing: {', '.join(missing)}" if missing else state


def record_contract(uow: LedgerUnitOfWork, by: Actor, cmd: RecordContract) -> Contract:
    def run(u: LedgerUnitOfWork) -> Contract:
        cid = rules.contract_id(cmd.contract_id)
        contractor = rules.text("contractor", cmd.contractor, 100)
        subject = rules.text("subject", cmd.subject, 200)
        rules.period(cmd.starts_on, cmd.ends_on)
        chosen = rules.clauses(cmd.clauses)
        status = rules.contract_status(chosen, cmd.non_compliant)
        if u.ledgers.contract(cid) is not None:
            raise DomainRuleError(
                "contract_id",
                "duplicate",
                f"contract {cid} is already recorded",
                f"契約番号「{cid}」は登録済みです",
            )
        contract = Contract(
            cid,
            contractor,
            subject,
            cmd.starts_on,
            cmd.ends_on,
            chosen,
            status,
            u.clock.now(),
            by.actor_id,
        )
        u.ledgers.put_contract(contract)
        return contract

    return perform(
        uow,
        by,
        Permission.MANAGE_CONTRACTS,
        rules.target("contract", cmd.contract_id),
        run,
        describe=_said,
    )


def _contract(uow: LedgerUnitOfWork, contract_id: str) -> Contract:
    found = uow.ledgers.contract(rules.contract_id(contract_id))
    if found is None:
        raise NotFoundError("contract", contract_id[:40])
    return found


def amend_contract(uow: LedgerUnitOfWork, by: Actor, cmd: AmendContract) -> Contract:
    """変更契約: the clauses the amended contract states; its status follows them."""

    def run(u: LedgerUnitOfWork) -> Contract:
        rules.text("reason", cmd.reason, 200)
        current = _contract(u, cmd.contract_id)
        rules.not_ended(current)
        chosen = rules.clauses(cmd.clauses)
        amended = replace(
            current, clauses=chosen, status=rules.contract_status(chosen, cmd.non_compliant)
        )
        u.ledgers.put_contract(amended)
        return amended

    return perform(
        uow,
        by,
        Permission.MANAGE_CONTRACTS,
        rules.target("contract", cmd.contract_id),
        run,
        describe=lambda c: f"amended ({cmd.reason[:100]}): {_said(c)}",
    )


def end_contract(uow: LedgerUnitOfWork, by: Actor, cmd: EndContract) -> Contract:
    def run(u: LedgerUnitOfWork) -> Contract:
        rules.text("reason", cmd.reason, 200)
        current = _contract(u, cmd.contract_id)
        rules.not_ended(current)
        if cmd.ended_on < current.starts_on:
            raise rules.before_start("ended_on")
        ended = replace(current, status=ContractStatus.ENDED, ended_on=cmd.ended_on)
        u.ledgers.put_contract(ended)
        return ended

    return perform(
        uow,
        by,
        Permission.MANAGE_CONTRACTS,
        rules.target("contract", cmd.contract_id),
        run,
        describe=lambda c: f"ended on {c.ended_on} ({cmd.reason[:100]})",
    )


def record_contract_audit(
    uow: LedgerUnitOfWork, by: Actor, cmd: RecordContractAudit
) -> ContractAudit:
    """受託者の管理状況の調査 (001 第25, 002 第20条): who looked, when, what they found."""

    def run(u: LedgerUnitOfWork) -> ContractAudit:
        current = _contract(u, cmd.contract_id)
        result = rules.choice("result", cmd.result, AuditResult)
        auditor = rules.text("auditor", cmd.auditor, 64)
        findings = rules.text("findings", cmd.findings, 1000)
        today = u.clock.now().date()
        if cmd.audited_on > today:
            raise rules.future_day("audited_on")
        if cmd.audited_on < current.starts_on:
            raise rules.before_start("audited_on")
        audit = ContractAudit(
            0, current.contract_id, cmd.audited_on, auditor, result, findings, by.actor_id
        )
        return replace(audit, audit_id=u.ledgers.add_audit(audit))

    return perform(
        uow,
        by,
        Permission.MANAGE_CONTRACTS,
        rules.target("contract", cmd.contract_id),
        run,
        describe=lambda a: f"audit {a.audit_id} on {a.audited_on}: {a.result}",
    )


def contracts(uow: LedgerUnitOfWork, by: Actor) -> Sequence[Contract]:
    return perform(
        uow,
        by,
        Permission.VIEW_LEDGERS,
        "ledger:contracts",
        lambda u: list(u.ledgers.contracts()),
        describe=lambda rows: f"{len(rows)} contracts",
    )


def contract_audits(
    uow: LedgerUnitOfWork, by: Actor, contract_id: str | None = None
) -> Sequence[ContractAudit]:
    if contract_id is not None:
        rules.contract_id(contract_id)
    return perform(
        uow,
        by,
        Permission.VIEW_LEDGERS,
        "ledger:contracts" if contract_id is None else rules.target("contract", contract_id),
        lambda u: list(u.ledgers.audits(contract_id)),
        describe=lambda rows: f"{len(rows)} audits",
    )
