"""`juki ledger contract …` and `juki ledger incident …`: outsourcing contracts with their
mandatory clauses and audits, and incidents through the seed's response steps.

    juki ledger contract add --id C --contractor X --subject S --from DAY --to DAY
                             (--clause CODE ... | --all-clauses) [--non-compliant]
    juki ledger contract amend --id C (--clause CODE ... | --all-clauses) --reason R
    juki ledger contract end --id C --on DAY --reason R
    juki ledger contract audit --id C --on DAY --auditor A --result R --findings F
    juki ledger incident open --kind K --title T [--occurred-at TIME]
    juki ledger incident step ID --step CODE --note N;  juki ledger incident close ID --note N
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from juki.core.console import Subparsers, table
from juki.core.settings import Settings
from juki.governance.ledgers import commands as c
from juki.governance.ledgers.cli_common import day, leaf, moment, show, when
from juki.governance.ledgers.model import (
    CLAUSE_BY_CODE,
    CLAUSE_CODES,
    STEPS,
    AuditResult,
    Incident,
    IncidentKind,
)
from juki.governance.ledgers.services import contracts, incidents
from juki.governance.ledgers.store import SqlLedgerUnitOfWork
from juki.security.actors import Actor

CLAUSE_HELP = "; ".join(f"{k.code}: {k.ja} ({k.basis})" for k in CLAUSE_BY_CODE.values())


def _clauses(args: argparse.Namespace) -> frozenset[str]:
    return frozenset(CLAUSE_CODES) if args.all_clauses else frozenset(args.clause or ())


def _contract_lines(rows: Sequence[Any]) -> list[str]:
    head = ("契約番号", "受託者", "委託内容", "期間", "状態", "不足する記載事項")
    return table(
        [head]
        + [
            (
                k.contract_id,
                k.contractor,
                k.subject,
                f"{k.starts_on}〜{k.ended_on or k.ends_on}",
                k.status.value,
                "、".join(CLAUSE_BY_CODE[m].ja for m in k.missing) or "-",
            )
            for k in rows
        ]
    )


def _add(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    cmd = c.RecordContract(
        args.id,
        args.contractor,
        args.subject,
        args.starts_on,
        args.ends_on,
        _clauses(args),
        args.non_compliant,
    )
    k = contracts.record_contract(uow, by, cmd)
    missing = f"; missing: {', '.join(k.missing)}" if k.missing else ""
    return f"contract {k.contract_id} recorded: {k.status.value}{missing}"


def _amend(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    cmd = c.AmendContract(args.id, _clauses(args), args.reason, args.non_compliant)
    k = contracts.amend_contract(uow, by, cmd)
    return f"contract {k.contract_id} amended: {k.status.value}"


def _end(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    k = contracts.end_contract(uow, by, c.EndContract(args.id, args.on, args.reason))
    return f"contract {k.contract_id} ended on {k.ended_on}"


def _audit(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    cmd = c.RecordContractAudit(args.id, args.on, args.auditor, args.result, args.findings)
    a = contracts.record_contract_audit(uow, by, cmd)
    return f"audit {a.audit_id} of {a.contract_id} recorded: {a.result.value}"


def _list(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    return show(args, list(contracts.contracts(uow, by)), _contract_lines)


def _audits(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    rows = list(contracts.contract_audits(uow, by, args.id))
    head = ("番号", "契約番号", "調査日", "調査者", "結果", "所見")
    return show(
        args,
        rows,
        lambda rs: table(
            [head]
            + [
                (
                    str(a.audit_id),
                    a.contract_id,
                    str(a.audited_on),
                    a.auditor,
                    a.result.value,
                    a.findings,
                )
                for a in rs
            ]
        ),
    )


def _clause_args(q: argparse.ArgumentParser) -> None:
    q.add_argument(
        "--clause", action="append", choices=CLAUSE_CODES, help=f"a clause stated: {CLAUSE_HELP}"
    )
    q.add_argument("--all-clauses", action="store_true", help="every mandatory clause is stated")
    q.add_argument(
        "--non-compliant", action="store_true", help="record it although clauses are missing"
    )


def _contract(sub: Subparsers, settings: Settings) -> None:
    p = sub.add_parser("contract", help="委託契約: outsourcing contracts and contractor audits")
    s = p.add_subparsers(dest="contract_command", required=True)
    q = leaf(s, settings, "add", "record a contract with the clauses it states", _add)
    q.add_argument("--id", required=True, help="契約番号")
    q.add_argument("--contractor", required=True)
    q.add_argument("--subject", required=True, help="委託内容")
    q.add_argument("--from", dest="starts_on", required=True, type=day)
    q.add_argument("--to", dest="ends_on", required=True, type=day)
    _clause_args(q)
    q = leaf(s, settings, "amend", "the clauses after an amendment (変更契約)", _amend)
    q.add_argument("--id", required=True)
    q.add_argument("--reason", required=True)
    _clause_args(q)
    q = leaf(s, settings, "end", "the contract ended", _end)
    q.add_argument("--id", required=True)
    q.add_argument("--on", required=True, type=day)
    q.add_argument("--reason", required=True)
    q = leaf(s, settings, "audit", "受託者の管理状況の調査 (001 第25, 002 第20条)", _audit)
    q.add_argument("--id", required=True)
    q.add_argument("--on", required=True, type=day)
    q.add_argument("--auditor", required=True)
    q.add_argument("--result", required=True, choices=[r.value for r in AuditResult])
    q.add_argument("--findings", required=True)
    leaf(s, settings, "list", "the contracts", _list, listing=True)
    q = leaf(s, settings, "audits", "the audits", _audits, listing=True)
    q.add_argument("--id", default=None)


def _incident_lines(rows: Sequence[Incident]) -> list[str]:
    head = ("番号", "種別", "概要", "発生", "状態", "次の手順")
    return table(
        [head]
        + [
            (
                str(i.incident_id),
                i.kind.value,
                i.title,
                moment(i.occurred_at),
                i.status.value,
                i.next_step.ja if i.next_step else "-",
            )
            for i in rows
        ]
    )


def _detail_lines(i: Incident) -> list[str]:
    lines = [f"{i.incident_id} {i.kind.value} {i.title} ({i.status.value})"]
    done = {s.step: s for s in i.steps}
    for step in STEPS[i.kind]:
        d = done.get(step.code)
        mark = f"済 {moment(d.done_at)} {d.by_actor}: {d.note}" if d else "未了"
        lines.append(f"  {step.code}  {step.ja}（{step.basis}）  {mark}")
    if i.closed_at is not None:
        lines.append(f"終結 {moment(i.closed_at)} {i.closed_by}: {i.closing_note}")
    return lines


def _open(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    at = args.occurred_at or uow.clock.now()
    i = incidents.open_incident(uow, by, c.OpenIncident(args.kind, args.title, at))
    return f"incident {i.incident_id} opened; next step: {i.next_step.code if i.next_step else '-'}"


def _step(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    cmd = c.RecordIncidentStep(args.incident_id, args.step, args.note)
    i = incidents.record_incident_step(uow, by, cmd)
    nxt = i.next_step.code if i.next_step else "none (the incident may be closed)"
    return f"incident {i.incident_id}: {args.step} done; next step: {nxt}"


def _close(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    i = incidents.close_incident(uow, by, c.CloseIncident(args.incident_id, args.note))
    return f"incident {i.incident_id} closed"


def _incident_list(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    return show(args, list(incidents.incidents(uow, by, args.open)), _incident_lines)


def _show(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    return show(args, incidents.incident(uow, by, args.incident_id), _detail_lines)


def _incident(sub: Subparsers, settings: Settings) -> None:
    steps = "; ".join(f"{k.value}: {', '.join(s.code for s in v)}" for k, v in STEPS.items())
    p = sub.add_parser("incident", help="事故: incidents and their response steps")
    s = p.add_subparsers(dest="incident_command", required=True)
    q = leaf(s, settings, "open", "report an incident", _open)
    q.add_argument("--kind", required=True, choices=[k.value for k in IncidentKind])
    q.add_argument("--title", required=True, help="概要")
    q.add_argument("--occurred-at", type=when, default=None, help="when (default now)")
    q = leaf(s, settings, "step", f"record the next step done ({steps})", _step)
    q.add_argument("incident_id", type=int)
    q.add_argument("--step", required=True, help="the step's code (the next one open)")
    q.add_argument("--note", required=True, help="what was done")
    q = leaf(s, settings, "close", "close it (every step done)", _close)
    q.add_argument("incident_id", type=int)
    q.add_argument("--note", required=True, help="終結の所見")
    q = leaf(s, settings, "list", "the incidents", _incident_list, listing=True)
    q.add_argument("--open", action="store_true", help="only those not closed")
    q = leaf(s, settings, "show", "one incident, step by step", _show, listing=True)
    q.add_argument("incident_id", type=int)


def register_cases(sub: Subparsers, settings: Settings) -> None:
    _contract(sub, settings)
    _incident(sub, settings)
