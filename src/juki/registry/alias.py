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

from juki.core.errors import DomainRuleError, ValidationError
from juki.core.text import validate_name


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


def current_alias(history: Iterable[AliasEntry]) -> str | None:
    """The 通称 the history leaves in force: the last one entered and not deleted since."""
    alias: str | None = None
    for entry in history:
        alias = entry.alias_name if entry.action is AliasAction.ENTERED else None
    return alias


def check_carried(history: AliasHistory, field: str) -> None:
    """A history from a 転出証明書 (or the 転出証明書情報) holds names and reads in order: dates
    never go back, and a deletion deletes the 通称 in force. The error names the entry."""
    alias: str | None = None
    for position, entry in enumerate(history):
        validate_name(f"{field}.{position}.alias_name", entry.alias_name)
        validate_name(f"{field}.{position}.municipality", entry.municipality, max_len=100)
        if position and entry.on < history[position - 1].on:
            raise ValidationError(
                f"{field}.{position}",
                "out_of_order",
                "the alias history goes back in time",
                f"通称履歴の{position + 1}行目の日付が前の行より前です",
            )
        if entry.action is AliasAction.DELETED and entry.alias_name != alias:
            raise ValidationError(
                f"{field}.{position}",
                "not_in_force",
                "a deletion must delete the alias in force",
                f"通称履歴の{position + 1}行目は記載されていない通称を削除しています",
            )
        alias = entry.alias_name if entry.action is AliasAction.ENTERED else None


def carried_on_move_in(
    carried: AliasHistory, alias: str | None, on: date, municipality: str
) -> tuple[str | None, AliasHistory]:
    """転入: the 通称 and its history travel with the person (令第30条の27). The history the
    転出証明書 carried continues on the new record, with its 通称 in force; a 通称 given with
    the 転入届 when none is in force is entered here, as with any new record. A different
    通称 from the one in force is refused: it is deleted and entered by its own 申出."""
    current = current_alias(carried)
    if current is None:
        if alias is None:
            return None, carried
        return alias, (*carried, AliasEntry(alias, AliasAction.ENTERED, on, municipality))
    if alias is None or alias == current:
        return current, carried
    raise DomainRuleError(
        "alias_name",
        "alias_differs",
        "the alias differs from the one the move-out certificate (or its information) carries",
        f"通称が転出証明書（転出証明書情報）の通称（{current}）と異なります。変更は転入後に通称の削除・記載の"
        "申出で行ってください",
    )
