"""Which changes wait for review, and how each is kept and applied.

A provisional change keeps its validated command as JSON (a pydantic TypeAdapter over the
command's frozen dataclass: dates, enums, nested items and tuples come back as they went in) and
is applied by the same service that applies it at once when review is off, so a 本登録 runs every
rule of the change again, on the record as it is then.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Final

from pydantic import TypeAdapter

from juki.registry import commands as c
from juki.registry import services
from juki.registry.model import ResidentRecord
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.review.model import ProvisionalChange, household_target, record_target
from juki.registry.services.codes import new_resident_code
from juki.registry.services.people import delete_alias, record_alias
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role, hidden_items

Applied = ResidentRecord | list[ResidentRecord]


@dataclass(frozen=True, slots=True)
class Kind:
    """One change an operator enters that waits for review: one route of the registry's event
    API (its path's last part), its name at the counter, its command and its service. Changes
    by the node itself (a message from the network, 個人番号の指定, seeding) are applied as
    they come."""

    name: str
    ja: str
    command: type[Any]
    permission: Permission
    service: Callable[[RegistryUnitOfWork, Actor, Any], Applied]

    def encode(self, cmd: Any) -> str:
        return _adapter(self.command).dump_json(cmd).decode("utf-8")

    def decode(self, text: str) -> Any:
        return _adapter(self.command).validate_json(text)


_ADAPTERS: Final[dict[type[Any], TypeAdapter[Any]]] = {}


def _adapter(command: type[Any]) -> TypeAdapter[Any]:
    """Built once per command type: a TypeAdapter compiles its schema when it is made, and every
    filed or approved change encodes or decodes its command."""
    adapter = _ADAPTERS.get(command)
    if adapter is None:
        adapter = _ADAPTERS[command] = TypeAdapter(command)
    return adapter


KINDS: Final[Mapping[str, Kind]] = {
    k.name: k
    for k in (
        Kind("birth", "出生", c.RecordBirth, Permission.RECORD_BIRTH, services.record_birth),
        Kind("death", "死亡", c.RecordDeath, Permission.RECORD_DEATH, services.record_death),
        Kind("move-in", "転入", c.RecordMoveIn, Permission.RECORD_MOVE_IN, services.record_move_in),
        Kind(
            "move-out",
            "転出",
            c.RecordMoveOut,
            Permission.RECORD_MOVE_OUT,
            services.record_move_out,
        ),
        Kind(
            "move-out-confirmation",
            "転出確定",
            c.ConfirmMoveOut,
            Permission.CONFIRM_MOVE_OUT,
            services.confirm_move_out,
        ),
        Kind(
            "relocation",
            "転居",
            c.RecordRelocation,
            Permission.RECORD_RELOCATION,
            services.record_relocation,
        ),
        Kind(
            "household-split",
            "世帯分離",
            c.SplitHousehold,
            Permission.CHANGE_HOUSEHOLD,
            services.split_household,
        ),
        Kind(
            "household-merge",
            "世帯合併",
            c.MergeHouseholds,
            Permission.CHANGE_HOUSEHOLD,
            services.merge_households,
        ),
        Kind(
            "householder-change",
            "世帯主変更",
            c.ChangeHouseholder,
            Permission.CHANGE_HOUSEHOLD,
            services.change_householder,
        ),
        Kind(
            "name-change", "氏名の変更", c.ChangeName, Permission.CHANGE_NAME, services.change_name
        ),
        Kind(
            "entry-by-authority",
            "職権記載",
            c.EnterByAuthority,
            Permission.ENTER_BY_AUTHORITY,
            services.enter_by_authority,
        ),
        Kind(
            "correction-by-authority",
            "職権修正",
            c.CorrectByAuthority,
            Permission.CORRECT_BY_AUTHORITY,
            services.correct_by_authority,
        ),
        Kind(
            "removal-by-authority",
            "職権消除",
            c.RemoveByAuthority,
            Permission.REMOVE_BY_AUTHORITY,
            services.remove_by_authority,
        ),
        Kind(
            "move-out-withdrawal",
            "転出取消",
            c.WithdrawMoveOut,
            Permission.WITHDRAW_MOVE_OUT,
            services.withdraw_move_out,
        ),
        Kind(
            "change-cancellation",
            "異動取消",
            c.CancelChanges,
            Permission.CANCEL_CHANGE,
            services.cancel_changes,
        ),
        Kind("alias", "通称の記載", c.RecordAlias, Permission.CHANGE_NAME, record_alias),
        Kind("alias-deletion", "通称の削除", c.DeleteAlias, Permission.CHANGE_NAME, delete_alias),
        Kind(
            "resident-code-change",
            "住民票コードの変更",
            c.ChangeResidentCode,
            Permission.CHANGE_RESIDENT_CODE,
            new_resident_code,
        ),
    )
}


def kind_ja(name: str) -> str:
    kind = KINDS.get(name)
    return kind.ja if kind else name


_RECORD_FIELDS: Final = ("record_id", "record_ids", "new_householder_id")
_HOUSEHOLD_FIELDS: Final = (
    "household_id",
    "join_household_id",
    "from_household_id",
    "into_household_id",
)


def _ids(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        yield from (v for v in value if isinstance(v, str))


def targets_of(cmd: Any) -> tuple[list[str], list[str]]:
    """The records and households a command names (the edit lock's targets)."""
    records: list[str] = []
    households: list[str] = []
    for f in fields(cmd):
        value = getattr(cmd, f.name)
        if f.name in _RECORD_FIELDS:
            records.extend(_ids(value))
        elif f.name in _HOUSEHOLD_FIELDS:
            households.extend(_ids(value))
        elif f.name == "placement" and is_dataclass(value):
            households.extend(_ids(getattr(value, "household_id", None)))
    return sorted(set(records)), sorted(set(households))


def lock_targets(records: list[str], households: list[str]) -> tuple[str, ...]:
    return tuple([record_target(r) for r in records] + [household_target(h) for h in households])


def summary_of(kind: Kind, cmd: Any, people: int) -> str:
    """One line for the review list: the kind, how many records, the new address or 通称 if
    any, else the reason a cancellation gives."""
    line = f"{kind.ja}（{people}名）" if people else kind.ja
    for name in (
        "new_address",
        "address",
        "destination_address",
        "confirmed_address",
        "alias_name",
    ):
        value = getattr(cmd, name, None)
        if isinstance(value, str) and value:
            return f"{line} → {value}"
    reason = getattr(cmd, "reason", None)
    if isinstance(reason, str) and reason.strip():
        return f"{line}：{reason.strip()[:40]}"
    return line


def applied_ids(result: Applied) -> tuple[str, ...]:
    records = result if isinstance(result, list) else [result]
    return tuple(r.record_id for r in records)


def without_items(data: Any, hidden: frozenset[str]) -> Any:
    """The command as a role may see it: every item it may not see (SENSITIVE_ITEMS) removed."""
    if isinstance(data, dict):
        return {k: without_items(v, hidden) for k, v in data.items() if k not in hidden}
    if isinstance(data, list):
        return [without_items(v, hidden) for v in data]
    return data


def command_json(text: str) -> Any:
    return json.loads(text)


def visible_command(change: ProvisionalChange, role: Role) -> Any:
    """The change's command as `role` may see it (what `show` answers, over HTTP or the CLI)."""
    return without_items(command_json(change.command), hidden_items(role))


def holds_my_number(data: Any) -> bool:
    if isinstance(data, dict):
        return bool(data.get("my_number")) or any(holds_my_number(v) for v in data.values())
    if isinstance(data, list):
        return any(holds_my_number(v) for v in data)
    return False
