"""Who may receive which items, for which task, on a day: pure, from the register's versions.

`allowed_items(task, agency, on=day)` is the rule every provision will be judged by (issue 13,
point 2): the items the task's version in force on that day allows, for an agency registered for
it and active that day, and never the 個人番号 unless the task is a 個人番号利用事務 (番号法
第19条: the 個人番号 is provided only where the law allows it). Anything else is a refusal with a
reason (`refusal`), which a provision will record.

`may_use_fuhyo(task)` is the rule for 附票本人確認情報 (a person who moved abroad): only a task
whose register entry says so (`fuhyo`), of 別表第五 or 第六 (法30条の44の6第1項1号・第2項1号:
"国外転出者に係る事務を処理する場合に限る").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from juki.provision.model import FUHYO_TABLES, Agency, Item, PermittedTask


def task_on(versions: Iterable[PermittedTask], ref: str, day: date) -> PermittedTask | None:
    """The version of the row `ref` in force on `day`, if any (the latest start wins should
    two overlap: a later amendment supersedes)."""
    found = [v for v in versions if v.ref == ref and v.in_force_on(day)]
    return max(found, key=lambda v: v.effective_from) if found else None


def refusal(task: PermittedTask | None, agency: Agency, *, on: date) -> str | None:
    """Why `agency` may receive nothing for `task` on `on`; None when it may."""
    if task is None:
        return "no such permitted task in force on that day"
    if not task.in_force_on(on):
        return f"{task.ref} is not in force on {on.isoformat()}"
    if not agency.active_on(on):
        return f"agency {agency.agency_id} is not active on {on.isoformat()}"
    if agency.agency_id not in task.agencies:
        return f"agency {agency.agency_id} is not registered for {task.ref}"
    return None


def allowed_items(task: PermittedTask | None, agency: Agency, *, on: date) -> frozenset[Item]:
    """The items `agency` may receive for `task` on `on`: empty when refused."""
    if task is None or refusal(task, agency, on=on) is not None:
        return frozenset()
    if task.my_number_task:
        return task.items
    return task.items - {Item.MY_NUMBER}


def disallowed(
    task: PermittedTask | None, agency: Agency, asked: Iterable[Item], *, on: date
) -> frozenset[Item]:
    """The items asked for that the rules in force on `on` do not allow."""
    return frozenset(asked) - allowed_items(task, agency, on=on)


def may_use_fuhyo(task: PermittedTask | None) -> bool:
    """Whether a lookup for `task` may be answered from 附票本人確認情報: the register entry
    says so, and the row is of a table 法30条の44の6 names (the file refuses the flag on any
    other; checked again here so a register written otherwise cannot widen it)."""
    return task is not None and task.fuhyo and task.table in FUHYO_TABLES
