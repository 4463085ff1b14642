"""住基法30条の44の6 (as in force 2024-10-01) against provision from 附票本人確認情報 (pure).

The article lets the prefecture use 附票本人確認情報 "住民票コードを除く" only for 別表第五's tasks
(第1項1号) and provide it for 別表第六's (第2項1号), "国外転出者に係る事務を処理する場合に限る".
One test per rule, named for it; the wide inputs (any task, any item list) by hypothesis.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from juki.core.identifiers import ResidentCode
from juki.provision.answers import (
    FUHYO_NOT_BY_CODE,
    FUHYO_TASK_REFUSAL,
    IdentityFound,
    Outcome,
    Source,
    answer,
)
from juki.provision.model import TABLES, Item, PermittedTask
from juki.provision.requests import LookupRequest, parse_line
from juki.provision.rules import may_use_fuhyo

CODE = ResidentCode.complete("1234567890").value
ABROAD = IdentityFound(
    lg_code="142051",
    resident_code=CODE,
    my_number=None,
    family_name="葛西",
    given_name="花子",
    family_name_kana="カサイ",
    given_name_kana="ハナコ",
    birth_date=date(1990, 4, 1),
    sex="female",
    address="神奈川県藤沢市辻堂元町１番地",
    status="removed",
    change_reason="emigration",
    changed_on=date(2024, 4, 1),
    source=Source.FUHYO,
    moved_abroad=True,
    abroad_country="フランス共和国",
)
# identity_info's entry of the same person, removed when she left
LEFT = replace(ABROAD, my_number="123456789018", source=Source.IDENTITY, moved_abroad=False,
               abroad_country=None, lg_code="132250")  # fmt: skip
FOUR = {"name_kana": "かさい はなこ", "birth_date": "1990-04-01"}
items = st.sets(st.sampled_from(list(Item)))


def _four(asked: set[Item] | None = None, **more: str) -> LookupRequest:
    line = {**FOUR, **more, **({"items": sorted(asked)} if asked else {})}
    return parse_line(json.dumps(line), 1)


@given(items, items)
def test_an_answer_from_the_fuhyo_never_carries_the_resident_code_or_my_number(
    allowed: set[Item], asked: set[Item]
) -> None:
    """第1項: 附票本人確認情報 "住民票コードを除く" — whatever the task allows and the lookup
    asks (the 住民票コード included); the 附票 holds no 個人番号 either. The answer names what it
    left out and why, citing the article."""
    request = _four(asked)
    got = answer(request, [], frozenset(allowed), abroad=[ABROAD], fuhyo=True)
    out = got.as_json()
    wanted = asked or allowed
    if not wanted <= allowed:
        assert got.outcome is Outcome.REFUSED
        return
    assert "resident_code" not in out.get("identity", {})
    assert "my_number" not in out.get("identity", {})
    assert not got.items & {Item.RESIDENT_CODE, Item.MY_NUMBER}
    if got.outcome is Outcome.NOT_FOUND:  # nothing asked the 附票 could give
        assert wanted <= {Item.RESIDENT_CODE, Item.MY_NUMBER}
        return
    assert out["source"] == "fuhyo_identity_info"
    assert set(out["items"]) == {i.value for i in wanted} - {"resident_code", "my_number"}
    omitted = wanted & {Item.RESIDENT_CODE, Item.MY_NUMBER}
    assert set(out.get("omitted", [])) == {i.value for i in omitted}
    if Item.RESIDENT_CODE in omitted:
        assert "30条の44の6" in out["omitted_reason"] and "住民票コード" in out["omitted_reason"]


@given(items)
def test_a_task_without_the_fuhyo_flag_is_told_not_found_and_recorded_refused(
    allowed: set[Item],
) -> None:
    """第1項1号・第2項1号: only the tasks the article names may use the 附票. Another task is
    answered as if the person were in neither (`not_found`, not even "ambiguous"), and the
    node records a refusal naming the article."""
    allowed_set = frozenset(allowed) or frozenset({Item.NAME})
    request = _four()
    got = answer(request, [], allowed_set, abroad=[ABROAD], fuhyo=False)
    assert got.as_json() == {"line": 1, "outcome": "not_found"}
    assert got.found is None and got.identity() == {}
    if allowed_set - {Item.RESIDENT_CODE, Item.MY_NUMBER}:
        assert got.recorded_outcome() is Outcome.REFUSED
        assert got.recorded_refusal == FUHYO_TASK_REFUSAL and "30条の44の6" in FUHYO_TASK_REFUSAL
    twin = replace(ABROAD, resident_code=ResidentCode.complete("1234567891").value)
    both = answer(request, [], allowed_set, abroad=[ABROAD, twin], fuhyo=False)
    assert both.as_json() == {"line": 1, "outcome": "not_found"}  # no "ambiguous" either
    assert both.recorded_outcome() is Outcome.NOT_FOUND  # the 附票 would not have answered
    # nobody abroad: a plain not_found, recorded as such
    nobody = answer(request, [], allowed_set, abroad=[], fuhyo=False)
    assert nobody.recorded_outcome() is Outcome.NOT_FOUND and nobody.recorded_refusal is None


@given(st.sampled_from(TABLES), st.booleans())
def test_only_a_flagged_task_of_the_fifth_or_sixth_table_may_use_the_fuhyo(
    table: str, flag: bool
) -> None:
    """第1項1号 (別表第五), 第2項1号 (別表第六); the flag of a row elsewhere gives nothing (the
    register file refuses it: tests/unit/provision/test_register_file.py)."""
    task = PermittedTask(table, "二", "t", frozenset({Item.NAME}), False, frozenset({"a"}),
                         date(2002, 8, 5), fuhyo=flag)  # fmt: skip
    assert may_use_fuhyo(task) == (flag and table in ("第五", "第六"))
    assert not may_use_fuhyo(None)


@given(st.booleans(), items)
def test_a_lookup_by_resident_code_is_never_answered_from_the_fuhyo(
    fuhyo: bool, allowed: set[Item]
) -> None:
    """第1項 "住民票コードを除く": matching the agency's code against the 附票's is a use of the
    code, so the 附票 is never searched by it. identity_info's own entry (removed when she
    left) answers if it has one; else `not_found`, which tells a task that may use the 附票 to
    ask by the four items."""
    allowed_set = frozenset(allowed) or frozenset({Item.NAME})
    by_code = parse_line(json.dumps({"resident_code": CODE}), 1)
    for as_of in (None, date(2025, 1, 1)):
        request = replace(by_code, as_of=as_of)
        from_identity = answer(request, [LEFT], allowed_set, abroad=[ABROAD], fuhyo=fuhyo)
        assert from_identity.source() is Source.IDENTITY
        alone = answer(request, [], allowed_set, abroad=[ABROAD], fuhyo=fuhyo)
        assert alone.outcome is Outcome.NOT_FOUND and alone.found is None
        assert alone.reason == (FUHYO_NOT_BY_CODE if fuhyo else None)
        assert alone.recorded_refusal is None and not alone.asks_fuhyo()
