"""`juki agency …` and `juki task …`: the register of recipient agencies and permitted tasks.

    juki agency add      --dir DIR --agency-id ID --name NAME --kind KIND --out DIR [--token T]
    juki agency add      --dir DIR --node PREF --agency-id ID --name NAME --kind KIND
                         --certificate ID.pem [--token T]
    juki agency withdraw --dir DIR --agency-id ID [--on YYYY-MM-DD] [--token T]
    juki agency list     --dir DIR [--json] [--token T]
    juki task load       --dir DIR FILE [--token T]
    juki task list       --dir DIR [--on YYYY-MM-DD] [--json] [--token T]

Run on the national node's console (the network directory holds its node.json and the root
key), or with `--node ID` on a prefecture's, which keeps its own register for the provision it
answers (its operators: `prefecture_operator`); there `agency add` registers the certificate
national issued (`--certificate ID.pem`) instead of issuing one. At national `agency add`
issues the agency a key and a client certificate from the network root (kind `agency`) and
registers its fingerprint; the key and certificate are written to `--out` (owner-only).
`task load` reads a register file (docs/provision.md) and adds its new versions and
withdrawals, all or nothing. Changes need a national (or that prefecture's) operator's token
(`manage_provision_register`); the lists also an auditor's (`view_provision_register`).
Each use, refused ones included, is in that node's oplog.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from juki.core.console import EXIT_OK, ConsoleError, Subparsers
from juki.core.settings import Settings
from juki.nodes.kiosk_store_cli import run_on_national
from juki.nodes.provide_cli import run_on_node
from juki.provision.model import AgencyKind
from juki.security.actors import Actor
from juki.security.credentials import add_token_arg

if TYPE_CHECKING:
    from juki.nodes.node import Node


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a date YYYY-MM-DD / 日付は YYYY-MM-DD") from None


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.node is None:
        return run_on_national(args, settings, args.register_action)
    return run_on_node(args, settings, lambda node, by: int(args.register_action(args, node, by)))


def _register_at_prefecture(args: argparse.Namespace, node: Node, by: Actor) -> int:
    from juki.nodes.provision_register import register_certificate

    if not args.certificate:
        raise ConsoleError(
            "certificate: a prefecture registers the certificate national issued "
            "(--certificate ID.pem) / 全国サーバが発行した証明書を指定してください"
        )
    try:
        pem = Path(args.certificate).read_bytes()
    except OSError as exc:
        raise ConsoleError(f"certificate: cannot read: {type(exc).__name__}") from None
    agency = register_certificate(node, by, args.agency_id, args.name, args.kind, pem)
    print(
        json.dumps({"agency_id": agency.agency_id, "certificate_sha256": agency.certificate_sha256})
    )
    return EXIT_OK


def _add(args: argparse.Namespace, node: Node, by: Actor) -> int:
    from juki.nodes.national import NationalNode
    from juki.nodes.provision_register import add_agency

    if not isinstance(node, NationalNode):
        return _register_at_prefecture(args, node, by)
    if not args.out:
        raise ConsoleError("out: where to write ID.key and ID.pem / 鍵の出力先を指定してください")
    try:
        issued = add_agency(node, by, args.agency_id, args.name, args.kind, Path(args.out))
    except FileExistsError as exc:
        raise ConsoleError(
            f"out: {exc} exists / 鍵ファイルが既にあります（上書きしません）"
        ) from None
    except LookupError:
        raise ConsoleError(
            "dir: the national node holds no root key / ルート鍵がありません"
        ) from None
    print(
        json.dumps(
            {
                "agency_id": issued.agency.agency_id,
                "key": str(issued.key_file),
                "certificate": str(issued.cert_file),
                "certificate_sha256": issued.agency.certificate_sha256,
            }
        )
    )
    return EXIT_OK


def _withdraw(args: argparse.Namespace, node: Node, by: Actor) -> int:
    from juki.nodes.provision_register import uow_of
    from juki.provision import services
    from juki.provision.commands import WithdrawAgency

    agency = services.withdraw_agency(uow_of(node), by, WithdrawAgency(args.agency_id, args.on))
    print(json.dumps({"agency_id": agency.agency_id, "withdrawn_on": str(agency.withdrawn_on)}))
    return EXIT_OK


def _list(args: argparse.Namespace, node: Node, by: Actor) -> int:
    from juki.nodes.provision_register import uow_of
    from juki.provision import services

    agencies = services.list_agencies(uow_of(node), by)
    rows = [
        {
            "agency_id": a.agency_id,
            "name": a.name,
            "kind": a.kind.value,
            "status": a.status.value,
            "certificate_sha256": a.certificate_sha256,
            "registered_on": a.registered_on.isoformat(),
            "withdrawn_on": None if a.withdrawn_on is None else a.withdrawn_on.isoformat(),
        }
        for a in agencies
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    for r in [] if args.json else rows:
        print(f"{r['agency_id']}\t{r['status']}\t{r['kind']}\t{r['name']}")
    return EXIT_OK


def _load(args: argparse.Namespace, node: Node, by: Actor) -> int:
    from juki.nodes.provision_register import uow_of
    from juki.provision import services
    from juki.provision.commands import LoadTasks
    from juki.provision.register_file import parse_register

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConsoleError(f"file: cannot read {args.file}: {type(exc).__name__}") from None
    register = parse_register(text)
    done = services.load_tasks(uow_of(node), by, LoadTasks(register.tasks))
    print(
        json.dumps(
            {
                "added": list(done.added),
                "withdrawn": list(done.withdrawn),
                "unchanged": done.unchanged,
            },
            ensure_ascii=False,
        )
    )
    return EXIT_OK


def _tasks(args: argparse.Namespace, node: Node, by: Actor) -> int:
    from juki.nodes.provision_register import uow_of
    from juki.provision import services

    versions = services.list_tasks(uow_of(node), by)
    if args.on is not None:
        versions = [v for v in versions if v.in_force_on(args.on)]
    rows = [
        {
            "ref": v.ref,
            "title": v.title,
            "items": sorted(v.items),
            "my_number_task": v.my_number_task,
            "agencies": sorted(v.agencies),
            "effective_from": v.effective_from.isoformat(),
            "withdrawn_on": None if v.withdrawn_on is None else v.withdrawn_on.isoformat(),
            "basis": v.basis,
            "verified": v.verified,
            "fuhyo": v.fuhyo,
        }
        for v in versions
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    for v in [] if args.json else versions:
        end = "" if v.withdrawn_on is None else v.withdrawn_on.isoformat()
        who = ",".join(sorted(v.agencies))
        fuhyo = "附票可" if v.fuhyo else "-"  # may use 附票本人確認情報 (法30条の44の6)
        print(f"{v.ref}\t{v.effective_from.isoformat()}\t{end}\t{who}\t{fuhyo}\t{v.title}")
    return EXIT_OK


def _common(s: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for action in s.choices.values():
        action.add_argument("--dir", required=True, help="the network directory (node.json files)")
        action.add_argument(
            "--node", default=None, help="a prefecture's node id (default: the national node)"
        )
        add_token_arg(action)
        action.set_defaults(handler=_run)


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    if name == "agency":
        top = sub.add_parser(name, help="recipient agencies of identity_info (本人確認情報の提供)")
        s = top.add_subparsers(dest="agency_command", required=True)
        p = s.add_parser("add", help="issue an agency's client certificate and register it")
        p.add_argument("--agency-id", required=True, help="1-32 of A-Z, a-z, 0-9, _ and -")
        p.add_argument("--name", required=True, help="1-100 characters, e.g. 日本年金機構")
        p.add_argument("--kind", required=True, type=AgencyKind, choices=list(AgencyKind))
        p.add_argument("--out", help="national: where to write ID.key (0600) and ID.pem")
        p.add_argument(
            "--certificate", help="at a prefecture (--node): the ID.pem national issued the agency"
        )
        p.set_defaults(register_action=_add)
        p = s.add_parser("withdraw", help="from a day on, the agency receives nothing")
        p.add_argument("--agency-id", required=True)
        p.add_argument("--on", type=_day, default=None, help="YYYY-MM-DD (default: today)")
        p.set_defaults(register_action=_withdraw)
        p = s.add_parser("list", help="every agency, with its status")
        p.add_argument("--json", action="store_true")
        p.set_defaults(register_action=_list)
    else:
        top = sub.add_parser(name, help="permitted tasks (法別表第一〜第六) and their history")
        s = top.add_subparsers(dest="task_command", required=True)
        p = s.add_parser("load", help="add a register file's new versions and withdrawals")
        p.add_argument("file", help="the register file (JSON, docs/provision.md)")
        p.set_defaults(register_action=_load)
        p = s.add_parser("list", help="every version of every task (or those in force on a day)")
        p.add_argument("--on", type=_day, default=None, help="only those in force that day")
        p.add_argument("--json", action="store_true")
        p.set_defaults(register_action=_tasks)
    _common(s)
