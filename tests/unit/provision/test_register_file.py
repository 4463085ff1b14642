"""`juki.provision.register_file`: the shipped register parses; each fault names its place."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.errors import RuleViolation
from juki.nodes.provision_register import shipped_register
from juki.provision.model import TABLES, Item
from juki.provision.register_file import FORMAT, parse_register
from juki.provision.rules import may_use_fuhyo

SHIPPED = shipped_register()


def doc(**task: Any) -> str:
    base = {
        "table": "第一",
        "row": "九十一",
        "title": "年金給付",
        "items": ["name", "address"],
        "my_number_task": False,
        "agencies": ["nenkin"],
        "effective_from": "2010-01-01",
    }
    agency = {"id": "nenkin", "name": "日本年金機構", "kind": "corporation"}
    return json.dumps({"format": FORMAT, "agencies": [agency], "tasks": [{**base, **task}]})


def fault(text: str) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        parse_register(text)
    return caught.value


def test_the_shipped_register_parses_and_only_my_number_tasks_receive_the_my_number() -> None:
    register = parse_register(SHIPPED)
    assert {a.agency_id for a in register.agencies} >= {"nenkin", "tokyo", "inagi"}
    assert len(register.tasks) >= 6
    assert all(t.my_number_task for t in register.tasks if Item.MY_NUMBER in t.items)
    assert any(t.withdrawn_on is not None for t in register.tasks)  # its history shows


def test_the_shipped_register_lets_one_task_use_the_fuhyo_and_not_the_others() -> None:
    """住基法30条の44の6: a 別表第五 task (旅券) may use 附票本人確認情報; 別表第一's may not."""
    register = parse_register(SHIPPED)
    flagged = {t.ref for t in register.tasks if t.fuhyo}
    assert flagged == {"別表第五 の 二"}
    assert len(register.tasks) > len(flagged)
    assert all(may_use_fuhyo(t) == t.fuhyo for t in register.tasks)


@given(st.sampled_from(TABLES), st.sampled_from([True, False, None, 1, "true"]))
def test_the_register_file_refuses_fuhyo_outside_the_fifth_and_sixth_tables(
    table: str, flag: object
) -> None:
    """住基法30条の44の6第1項1号・第2項1号: only 別表第五 and 第六 may use the 附票. A row of
    another table with `"fuhyo": true` is refused naming the article; the flag is a boolean,
    false when left out."""
    text = doc(table=table) if flag is None else doc(table=table, fuhyo=flag)
    if flag is not None and not isinstance(flag, bool):
        assert fault(text).rule == "type"
    elif flag and table not in ("第五", "第六"):
        got = fault(text)
        assert (got.field, got.rule) == (
            f"tasks[0] (別表{table} の 九十一).fuhyo",
            "fuhyo_not_allowed",
        )
        assert "30条の44の6" in got.message_en and "30条の44の6" in got.message_ja
    else:
        (task,) = parse_register(text).tasks
        assert task.fuhyo is bool(flag) and may_use_fuhyo(task) is bool(flag)


@pytest.mark.parametrize(
    ("text", "field", "rule"),
    [
        ('{"format": 1,\n"agencies": [', "line 2", "json"),
        (
            doc(items=["name", "my_number"]),
            "tasks[0] (別表第一 の 九十一).items",
            "my_number_not_allowed",
        ),
        (doc(items=["name", "shoe_size"]), "tasks[0] (別表第一 の 九十一).items[1]", "item"),
        (doc(row="91"), "tasks[0].row", "row"),
        (doc(items=[["name"]]), "tasks[0] (別表第一 の 九十一).items[0]", "item"),
        (doc(table="第七"), "tasks[0].table", "table"),
        (doc(agencies=["nobody"]), "tasks[0] (別表第一 の 九十一).agencies[0]", "unknown_agency"),
        (doc(withdrawn_on="2009-01-01"), "tasks[0] (別表第一 の 九十一).withdrawn_on", "period"),
        (doc(effective_from="2010-13-01"), "tasks[0] (別表第一 の 九十一).effective_from", "date"),
        (doc(withdrawn="2020-01-01"), "tasks[0].withdrawn", "unknown_key"),
        (doc(title="年金\x00給付"), "tasks[0] (別表第一 の 九十一).title", "forbidden_character"),
    ],
)
def test_a_fault_names_its_line_or_field_and_rule(text: str, field: str, rule: str) -> None:
    got = fault(text)
    assert (got.field, got.rule) == (field, rule)
    assert got.message_ja


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    text=st.text(max_size=200)
    | json_values.map(json.dumps)
    | st.dictionaries(
        st.sampled_from(
            [
                "table",
                "row",
                "items",
                "agencies",
                "effective_from",
                "withdrawn_on",
                "my_number_task",
                "title",
                "verified",
            ]
        ),
        json_values,
    ).map(lambda t: doc(**t))
)
def test_any_input_is_a_register_or_a_rule_violation_never_a_traceback(text: str) -> None:
    refused: RuleViolation | None = None
    try:
        parse_register(text)
    except RuleViolation as exc:
        refused = exc
    assert refused is None or (refused.field and refused.message_en and refused.message_ja)
