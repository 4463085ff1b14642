"""`juki ledger …`: the governance ledgers from the console (docs/ledgers.md).

    juki ledger room permit --room R --name N --org O [--operator-id ID] --purpose P --on DAY
    juki ledger room enter|exit ACCESS_ID [--at TIME]      juki ledger room list [--since --until]
    juki ledger config add --kind K --name N --model M --version V --location L --reason R
    juki ledger config change|remove ITEM_ID --reason R [...]   juki ledger config list|history
    juki ledger cards
    juki ledger contract add|amend|end|audit|list|audits ...
    juki ledger incident open|step|close|list|show ...
    juki ledger summary --since DAY --until DAY

Every command acts as the operator whose token is given (`--token` or $JUKI_TOKEN), whose role
must allow it; each change and each reading is in the oplog. `--json` prints what a list shows
as JSON. A refusal prints the field and the rule and exits 1.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from juki.core.console import Subparsers, table
from juki.core.settings import Settings
from juki.governance.ledgers import commands as c
from juki.governance.ledgers.cli_cases import register_cases
from juki.governance.ledgers.cli_common import as_json, day, leaf, moment, show, when
from juki.governance.ledgers.model import ConfigKind, Room
from juki.governance.ledgers.services import config, rooms, views
from juki.governance.ledgers.store import SqlLedgerUnitOfWork
from juki.security.actors import Actor

# --- 入退室管理簿 ---------------------------------------------------------------------------


def _access_lines(rows: Sequence[Any]) -> list[str]:
    head = ("番号", "部屋", "許可日", "入室者", "所属", "目的", "許可者", "入室", "退室")
    return table(
        [head]
        + [
            (
                str(a.access_id),
                a.room.value,
                a.permitted_on.isoformat(),
                a.entrant_name,
                a.entrant_org,
                a.purpose,
                a.approved_by,
                moment(a.entered_at),
                moment(a.exited_at),
            )
            for a in rows
        ]
    )


def _permit(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    cmd = c.PermitRoomAccess(
        args.room, args.name, args.org, args.purpose, args.on, args.operator_id
    )
    a = rooms.permit_room_access(uow, by, cmd)
    return f"room access {a.access_id} permitted: {a.room.value} on {a.permitted_on}"


def _enter(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    a = rooms.record_room_entry(uow, by, c.RecordRoomEntry(args.access_id, args.at))
    return f"room access {a.access_id}: entered at {moment(a.entered_at)}"


def _exit(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    a = rooms.record_room_exit(uow, by, c.RecordRoomExit(args.access_id, args.at))
    return f"room access {a.access_id}: exited at {moment(a.exited_at)}"


def _room_list(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    rows = list(rooms.room_access_log(uow, by, args.since, args.until))
    return show(args, rows, _access_lines)


def _room(sub: Subparsers, settings: Settings) -> None:
    p = sub.add_parser("room", help="入退室管理簿: server-room entry and exit")
    s = p.add_subparsers(dest="room_command", required=True)
    q = leaf(s, settings, "permit", "permit one person's entry beforehand (the approver)", _permit)
    q.add_argument("--room", required=True, choices=[r.value for r in Room])
    q.add_argument("--name", required=True, help="the entrant's name")
    q.add_argument("--org", required=True, help="the entrant's organisation (所属)")
    q.add_argument("--operator-id", default=None, help="the entrant's 照合ID when staff")
    q.add_argument("--purpose", required=True)
    q.add_argument("--on", required=True, type=day, help="the day permitted (YYYY-MM-DD)")
    for name, work, said in (("enter", _enter, "entry"), ("exit", _exit, "exit")):
        q = leaf(s, settings, name, f"record the {said} (now, or --at)", work)
        q.add_argument("access_id", type=int)
        q.add_argument("--at", type=when, default=None, help="when, ISO 8601 (default now)")
    q = leaf(s, settings, "list", "the log, by day permitted", _room_list, listing=True)
    q.add_argument("--since", type=day, default=None)
    q.add_argument("--until", type=day, default=None)


# --- 構成管理簿 -----------------------------------------------------------------------------


def _item_lines(rows: Sequence[Any]) -> list[str]:
    head = ("番号", "種別", "名称", "型式", "版数", "製造番号等", "設置場所", "状態")
    return table(
        [head]
        + [
            (
                str(i.item_id),
                i.kind.value,
                i.name,
                i.model,
                i.version,
                i.serial or "-",
                i.location,
                i.status.value,
            )
            for i in rows
        ]
    )


def _config_add(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    cmd = c.AddConfigItem(
        args.kind, args.name, args.model, args.version, args.location, args.reason, args.serial
    )
    item = config.add_config_item(uow, by, cmd)
    return f"config item {item.item_id} registered"


def _config_change(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    cmd = c.ChangeConfigItem(
        args.item_id, args.reason, args.name, args.model, args.version, args.serial, args.location
    )
    item = config.change_config_item(uow, by, cmd)
    return f"config item {item.item_id} changed"


def _config_remove(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    item = config.remove_config_item(uow, by, c.RemoveConfigItem(args.item_id, args.reason))
    return f"config item {item.item_id} removed"


def _config_list(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    return show(args, list(config.config_ledger(uow, by, args.all)), _item_lines)


def _history_lines(rows: Sequence[Any]) -> list[str]:
    head = ("番号", "日時", "区分", "内容", "理由", "記録者")
    return table(
        [head]
        + [
            (str(h.item_id), moment(h.at), h.event.value, h.detail, h.reason, h.by_actor)
            for h in rows
        ]
    )


def _config_history(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    return show(args, list(config.config_history(uow, by, args.item_id)), _history_lines)


def _config(sub: Subparsers, settings: Settings) -> None:
    p = sub.add_parser("config", help="構成管理簿 (様式第1号): devices, programs, media")
    s = p.add_subparsers(dest="config_command", required=True)
    q = leaf(s, settings, "add", "register an item", _config_add)
    q.add_argument("--kind", required=True, choices=[k.value for k in ConfigKind])
    for name in ("name", "model", "version", "location", "reason"):
        q.add_argument(f"--{name}", required=True)
    q.add_argument("--serial", default="")
    q = leaf(s, settings, "change", "record a change (version, location …)", _config_change)
    q.add_argument("item_id", type=int)
    q.add_argument("--reason", required=True)
    for name in ("name", "model", "version", "serial", "location"):
        q.add_argument(f"--{name}", default=None)
    q = leaf(s, settings, "remove", "record its removal or disposal", _config_remove)
    q.add_argument("item_id", type=int)
    q.add_argument("--reason", required=True)
    q = leaf(s, settings, "list", "the items in use", _config_list, listing=True)
    q.add_argument("--all", action="store_true", help="removed items too")
    q = leaf(s, settings, "history", "the change history", _config_history, listing=True)
    q.add_argument("item_id", type=int, nargs="?", default=None)


def _cards(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    rows = list(views.card_ledger(uow, by))
    head = (
        "照合ID",
        "氏名",
        "操作者ID",
        "状態",
        "カード",
        "交付日時",
        "交付者",
        "回収",
        "照合情報",
    )
    return show(
        args,
        rows,
        lambda rs: table(
            [head]
            + [
                (
                    r.operator_id,
                    r.display_name,
                    r.role,
                    r.status,
                    r.card_label or "-",
                    r.card_issued_at or "-",
                    r.card_issued_by or "-",
                    str(r.cards_returned),
                    str(r.verifiers),
                )
                for r in rs
            ]
        ),
    )


def _summary(uow: SqlLedgerUnitOfWork, by: Actor, args: argparse.Namespace) -> str:
    s = views.ledger_summary(uow, by, args.since, args.until)
    return show(args, s, lambda x: [f"{k}: {v}" for k, v in as_json(x).items()])


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    p = sub.add_parser(name, help="governance ledgers: rooms, configuration, cards, contracts")
    s = p.add_subparsers(dest="ledger_command", required=True)
    _room(s, settings)
    _config(s, settings)
    leaf(s, settings, "cards", "operator cards and 照合情報 (a view)", _cards, listing=True)
    q = leaf(s, settings, "summary", "counts for a period", _summary, listing=True)
    q.add_argument("--since", required=True, type=day)
    q.add_argument("--until", required=True, type=day)
    register_cases(s, settings)
