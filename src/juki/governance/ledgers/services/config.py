"""住基ネット構成管理簿 (seed 001 第14⑸, 様式第1号): every device, program and magnetic medium
used, and a line of history for each change (変更が生じた場合は速やかにその旨を記録).

An item is never deleted: taken out of use it is marked removed (撤去・廃棄), with its reason,
and stays in the ledger with its history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from juki.core.errors import DomainRuleError, NotFoundError
from juki.governance.ledgers import rules
from juki.governance.ledgers.commands import AddConfigItem, ChangeConfigItem, RemoveConfigItem
from juki.governance.ledgers.model import (
    CONFIG_FIELDS,
    ConfigChange,
    ConfigEvent,
    ConfigItem,
    ConfigKind,
    ConfigStatus,
)
from juki.governance.ledgers.ports import LedgerUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission

MAX_DETAIL = 1000  # config_changes.detail
MAX_LEN = {"name": 100, "model": 100, "version": 40, "serial": 64, "location": 100}


def _field(name: str, value: str) -> str:
    if name == "serial":
        return rules.optional_text(name, value, MAX_LEN[name])
    return rules.text(name, value, MAX_LEN[name])


def add_config_item(uow: LedgerUnitOfWork, by: Actor, cmd: AddConfigItem) -> ConfigItem:
    def run(u: LedgerUnitOfWork) -> ConfigItem:
        kind = rules.choice("kind", cmd.kind, ConfigKind)
        values = {f: _field(f, getattr(cmd, f)) for f in CONFIG_FIELDS}
        reason = rules.text("reason", cmd.reason, 200)
        now = u.clock.now()
        item = ConfigItem(
            0, kind, status=ConfigStatus.IN_USE, registered_at=now, updated_at=now, **values
        )
        item = replace(item, item_id=u.ledgers.add_item(item))
        detail = "; ".join(f"{f}: {values[f]}" for f in CONFIG_FIELDS if values[f])[:MAX_DETAIL]
        u.ledgers.add_change(
            ConfigChange(item.item_id, now, ConfigEvent.REGISTERED, detail, reason, by.actor_id)
        )
        return item

    return perform(
        uow,
        by,
        Permission.MANAGE_CONFIG_LEDGER,
        rules.target("config_item", cmd.kind),
        run,
        describe=lambda i: f"item {i.item_id} registered: {i.kind} {i.name[:40]} {i.version[:20]}",
    )


def _item(uow: LedgerUnitOfWork, item_id: int) -> ConfigItem:
    found = uow.ledgers.item(item_id)
    if found is None:
        raise NotFoundError("config_item", str(item_id))
    if found.status is ConfigStatus.REMOVED:
        raise DomainRuleError(
            "item_id", "removed", "the item was removed", "この構成品目は撤去・廃棄済みです"
        )
    return found


def change_config_item(uow: LedgerUnitOfWork, by: Actor, cmd: ChangeConfigItem) -> ConfigItem:
    def run(u: LedgerUnitOfWork) -> tuple[ConfigItem, str]:
        reason = rules.text("reason", cmd.reason, 200)
        item = _item(u, cmd.item_id)
        given = {f: getattr(cmd, f) for f in CONFIG_FIELDS if getattr(cmd, f) is not None}
        new = {f: _field(f, v) for f, v in given.items()}
        changed = {f: v for f, v in new.items() if getattr(item, f) != v}
        if not changed:
            raise DomainRuleError(
                "item_id", "unchanged", "nothing would change", "変更する項目がありません"
            )
        now = u.clock.now()
        updated = item.changed(changed, now)
        u.ledgers.put_item(updated)
        detail = "; ".join(f"{f}: {getattr(item, f)} → {v}" for f, v in changed.items())
        detail = detail[:MAX_DETAIL]  # the item's row holds the values whole
        u.ledgers.add_change(
            ConfigChange(item.item_id, now, ConfigEvent.CHANGED, detail, reason, by.actor_id)
        )
        return updated, detail

    item, _ = perform(
        uow,
        by,
        Permission.MANAGE_CONFIG_LEDGER,
        rules.target("config_item", cmd.item_id),
        run,
        describe=lambda r: f"changed: {r[1]}",
    )
    return item


def remove_config_item(uow: LedgerUnitOfWork, by: Actor, cmd: RemoveConfigItem) -> ConfigItem:
    def run(u: LedgerUnitOfWork) -> ConfigItem:
        reason = rules.text("reason", cmd.reason, 200)
        item = _item(u, cmd.item_id)
        now = u.clock.now()
        removed = replace(item, status=ConfigStatus.REMOVED, updated_at=now)
        u.ledgers.put_item(removed)
        u.ledgers.add_change(
            ConfigChange(item.item_id, now, ConfigEvent.REMOVED, "", reason, by.actor_id)
        )
        return removed

    return perform(
        uow,
        by,
        Permission.MANAGE_CONFIG_LEDGER,
        rules.target("config_item", cmd.item_id),
        run,
        describe=lambda i: "removed",
    )


def config_ledger(
    uow: LedgerUnitOfWork, by: Actor, include_removed: bool = False
) -> Sequence[ConfigItem]:
    return perform(
        uow,
        by,
        Permission.VIEW_LEDGERS,
        "ledger:config",
        lambda u: list(u.ledgers.items(include_removed)),
        describe=lambda rows: f"{len(rows)} items",
    )


def config_history(
    uow: LedgerUnitOfWork, by: Actor, item_id: int | None = None
) -> Sequence[ConfigChange]:
    """The change history, of one item or of all, oldest first."""
    target = "ledger:config" if item_id is None else f"config_item:{item_id}"
    return perform(
        uow,
        by,
        Permission.VIEW_LEDGERS,
        target,
        lambda u: list(u.ledgers.changes(item_id)),
        describe=lambda rows: f"{len(rows)} changes",
    )
