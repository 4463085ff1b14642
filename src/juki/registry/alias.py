"""A foreign resident's 通称 history (通称の記載及び削除に関する事項, 令第30条の27).

A 通称 is recorded at the resident's request (令第30条の26) and deleted at their request or when
it is no longer needed; each entry and deletion stays on the record with the municipality that
made it and the date, and a certificate shows this history when the applicant asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class AliasAction(StrEnum):
    """What happened to a 通称 (令第30条の27: 通称の記載及び削除に関する事項)."""

    ENTERED = "entered"  # 記載
    DELETED = "deleted"  # 削除

    @property
    def label_ja(self) -> str:
        return {"entered": "記載", "deleted": "削除"}[self.value]


@dataclass(frozen=True, slots=True)
class AliasEntry:
    """One line of a foreign resident's 通称履歴: which 通称, entered or deleted, when, and by
    which municipality (令第30条の27 第1項: 通称を記載・削除した市町村名及び年月日)."""

    alias_name: str
    action: AliasAction
    on: date
    municipality: str  # e.g. 東京都稲城市

    def to_json(self) -> dict[str, str]:
        return {
            "alias_name": self.alias_name,
            "action": self.action.value,
            "on": self.on.isoformat(),
            "municipality": self.municipality,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AliasEntry:
        return cls(
            alias_name=str(raw["alias_name"]),
            action=AliasAction(raw["action"]),
            on=date.fromisoformat(raw["on"]),
            municipality=str(raw["municipality"]),
        )


AliasHistory = tuple[AliasEntry, ...]


def history_to_json(history: Iterable[AliasEntry]) -> list[dict[str, str]]:
    return [entry.to_json() for entry in history]


def history_from_json(raw: Iterable[Mapping[str, Any]] | None) -> AliasHistory:
    return tuple(AliasEntry.from_json(x) for x in raw or ())
