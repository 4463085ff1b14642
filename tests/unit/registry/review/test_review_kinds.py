"""What a provisional change keeps: its command, round-tripped exactly, the records and
households it locks, and the permission it is entered under, which is the one its service checks
(so entering a change is allowed exactly when applying it would be)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import juki
from juki.registry.commands import (
    AbolishSeal,
    CancelChanges,
    ChangeName,
    ChangeResidentCode,
    DeleteAlias,
    JoinHousehold,
    MergeHouseholds,
    RecordAlias,
    RecordMoveIn,
    RecordRelocation,
    RegisterSeal,
    WithdrawMoveOut,
)
from juki.registry.model import Relationship
from juki.registry.review.kinds import (
    KINDS,
    holds_my_number,
    lock_targets,
    summary_of,
    targets_of,
    without_items,
)
from juki.security.permissions import Permission
from support.residents import move_in_command
from support.rules import action_calls

TODAY = date(2025, 4, 1)


def test_each_kind_is_entered_under_the_permission_its_service_checks() -> None:
    calls = action_calls(Path(juki.__file__).parent / "registry" / "services")
    for kind in KINDS.values():
        module = kind.service.__module__.removeprefix("juki.registry.services.") + ".py"
        literal = {c.permission for c in calls if c.module == module}
        assert kind.permission in literal, kind.name


@pytest.mark.parametrize(
    "cmd",
    [
        move_in_command(placement=JoinHousehold("h1", Relationship.WIFE)),
        move_in_command(),
        RecordRelocation(("r1", "r2"), "東京都稲城市平尾1丁目1番1号", TODAY, TODAY),
        MergeHouseholds("h1", "h2", {"r3": Relationship.CHILD}, TODAY, TODAY),
        ChangeName("r1", "髙橋", "葛󠄂子", "タカハシ", "カツコ", TODAY, TODAY),
        WithdrawMoveOut(("r1", "r2"), "転勤の取りやめ", TODAY),
        CancelChanges(("r1",), "住所の誤記載"),
        RecordAlias("r1", "山田　ジョン", "ヤマダ　ジョン", TODAY, TODAY),
        RecordAlias("r1", "山田　ジョン", None, TODAY, TODAY),
        DeleteAlias("r1", TODAY, TODAY),
        ChangeResidentCode("r1", "本人からの変更請求", TODAY),
    ],
)
def test_a_command_comes_back_as_it_was_kept(cmd: object) -> None:
    kind = next(k for k in KINDS.values() if isinstance(cmd, k.command))
    assert kind.decode(kind.encode(cmd)) == cmd


def test_the_lock_targets_are_the_records_and_households_a_command_names() -> None:
    relocation = RecordRelocation(("r2", "r1"), "x", TODAY, TODAY, join_household_id="h9")
    assert targets_of(relocation) == (["r1", "r2"], ["h9"])
    assert lock_targets(*targets_of(relocation)) == ("record:r1", "record:r2", "household:h9")
    joining = move_in_command(placement=JoinHousehold("h1", Relationship.WIFE))
    assert targets_of(joining) == ([], ["h1"])
    assert targets_of(MergeHouseholds("h1", "h2", {}, TODAY, TODAY)) == ([], ["h1", "h2"])


def test_the_summary_says_the_kind_the_people_and_the_new_address() -> None:
    relocation = RecordRelocation(("r1", "r2"), "東京都稲城市平尾1丁目1番1号", TODAY, TODAY)
    assert (
        summary_of(KINDS["relocation"], relocation, 2)
        == "転居（2名） → 東京都稲城市平尾1丁目1番1号"
    )
    cancellation = CancelChanges(("r1",), "  住所の誤記載 ")
    assert (
        summary_of(KINDS["change-cancellation"], cancellation, 1) == "異動取消（1名）：住所の誤記載"
    )
    alias = RecordAlias("r1", "山田　ジョン", None, TODAY, TODAY)
    assert summary_of(KINDS["alias"], alias, 1) == "通称の記載（1名） → 山田　ジョン"
    assert targets_of(WithdrawMoveOut(("r2", "r1"), "x", TODAY)) == (["r1", "r2"], [])


def test_a_command_shown_to_a_role_leaves_out_what_it_may_not_see() -> None:
    cmd: RecordMoveIn = move_in_command()
    data = json.loads(KINDS["move-in"].encode(cmd))
    assert holds_my_number(data)
    shown = without_items(data, frozenset({"my_number", "honseki"}))
    assert "my_number" not in shown and "honseki" not in shown["person"]
    assert not holds_my_number(shown)


def test_seals_and_support_measures_are_not_reviewed() -> None:
    """ADR 0007: 印鑑登録・廃止 (the municipality's own register under its 印鑑条例, and a 廃止
    must stop certificates at once) and 支援措置 (protection from the moment it is recorded)
    are applied as entered; a kind under their permissions would hold them for an approval."""
    applied_at_once = {
        Permission.REGISTER_SEAL,
        Permission.ABOLISH_SEAL,
        Permission.MANAGE_SUPPORT_MEASURES,
    }
    assert not {k.permission for k in KINDS.values()} & applied_at_once
    assert not {k.command for k in KINDS.values()} & {RegisterSeal, AbolishSeal}
    assert KINDS["resident-code-change"].permission is Permission.CHANGE_RESIDENT_CODE
