"""Recipient agencies, permitted tasks (法別表第一〜第六) and the items of identity_info.

A permitted task is one row of one of the law's 別表, with the law's own numbering ("別表第一 の
九十一"). A row's text can change by amendment, so the register keeps each row as *versions*: a
version is in force from `effective_from` until the day before `withdrawn_on` (or for good), and
an amendment adds a version (or sets the day a version is withdrawn) rather than rewriting one.
A provision is judged by the version in force on its day (`rules.task_on`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final


class AgencyKind(StrEnum):
    """Who may be a recipient (法30条の7〜30条の9: 国の機関等, 都道府県, 市町村, 法人)."""

    NATIONAL_GOVERNMENT = "national_government"  # 国の機関
    PREFECTURE = "prefecture"  # 都道府県 (知事・教育委員会 …)
    MUNICIPALITY = "municipality"  # 市町村
    CORPORATION = "corporation"  # 法人 (日本年金機構, 共済組合 …)


AGENCY_KIND_JA: Final = {
    AgencyKind.NATIONAL_GOVERNMENT: "国の機関",
    AgencyKind.PREFECTURE: "都道府県",
    AgencyKind.MUNICIPALITY: "市町村",
    AgencyKind.CORPORATION: "法人",
}


class AgencyStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Item(StrEnum):
    """The items of identity_info (法30条の6) an answer may hold, one by one."""

    NAME = "name"  # 氏名 (旧氏・通称 included where recorded)
    NAME_KANA = "name_kana"  # 氏名の振り仮名
    BIRTH_DATE = "birth_date"  # 出生の年月日
    SEX = "sex"  # 男女の別
    ADDRESS = "address"  # 住所
    RESIDENT_CODE = "resident_code"  # 住民票コード
    MY_NUMBER = "my_number"  # 個人番号: only to a 個人番号利用事務
    CHANGE_INFO = "change_info"  # 変更情報 (異動事由・異動年月日)


ITEM_JA: Final = {
    Item.NAME: "氏名",
    Item.NAME_KANA: "氏名の振り仮名",
    Item.BIRTH_DATE: "出生の年月日",
    Item.SEX: "男女の別",
    Item.ADDRESS: "住所",
    Item.RESIDENT_CODE: "住民票コード",
    Item.MY_NUMBER: "個人番号",
    Item.CHANGE_INFO: "変更情報",
}

# 別表第一〜第六: the law's numbering of its tables, as the file and the reference spell them.
TABLES: Final = ("第一", "第二", "第三", "第四", "第五", "第六")
# The tables whose tasks may use 附票本人確認情報, as they concern 国外転出者: 別表第五 (the
# 都道府県知事's own use) and 別表第六 (its other 執行機関), 法30条の44の6第1項1号・第2項1号. Which
# other tables the law lets 附票本人確認情報 reach (機構's provision) is not in a source here.
FUHYO_TABLES: Final = ("第五", "第六")


@dataclass(frozen=True, slots=True)
class Agency:
    agency_id: str
    name: str
    kind: AgencyKind
    status: AgencyStatus
    certificate_sha256: str  # of its client certificate, issued by the network root
    registered_on: date
    withdrawn_on: date | None = None  # from this day it receives nothing

    def active_on(self, day: date) -> bool:
        if day < self.registered_on:
            return False
        return self.withdrawn_on is None or day < self.withdrawn_on


@dataclass(frozen=True, slots=True)
class PermittedTask:
    """One version of one 別表 row: the task, which items it may receive, and who may."""

    table: str  # 第一 … 第六
    row: str  # the row's own number in kanji, e.g. 九十一, 九十一の二
    title: str  # 事務の名称, as the row says (shortened)
    items: frozenset[Item]
    my_number_task: bool  # 個人番号利用事務 (番号法 第9条・別表): only then the 個人番号
    agencies: frozenset[str]  # agency ids registered for the task
    effective_from: date
    withdrawn_on: date | None = None  # from this day the version is no longer in force
    basis: str = ""  # the citation, as docs/law.md writes them
    verified: bool = False  # False: "to check" against the current 法令 text
    # may use 附票本人確認情報 (国外転出者に係る事務, 法30条の44の6): only a row of FUHYO_TABLES
    fuhyo: bool = False

    @property
    def ref(self) -> str:
        return task_ref(self.table, self.row)

    def in_force_on(self, day: date) -> bool:
        if day < self.effective_from:
            return False
        return self.withdrawn_on is None or day < self.withdrawn_on


def task_ref(table: str, row: str) -> str:
    """The law's own way to name a row: "別表第一 の 九十一"."""
    return f"別表{table} の {row}"
