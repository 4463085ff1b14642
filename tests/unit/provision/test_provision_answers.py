"""An agency's lookups checked line by line, and answers cut to what the task allows (pure)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from juki.core.errors import RuleViolation
from juki.core.identifiers import ResidentCode
from juki.provision.answers import (
    ITEM_FIELDS,
    IdentityFound,
    Outcome,
    Source,
    answer,
    as_of,
    current,
    reading_key,
)
from juki.provision.model import Agency, AgencyKind, AgencyStatus, Item, PermittedTask
from juki.provision.provide import judge
from juki.provision.requests import Lookup, parse_line, parse_lines, parse_object

CODE = ResidentCode.complete("1234567890").value
PERSON = IdentityFound(
    lg_code="132250",
    resident_code=CODE,
    my_number="123456789018",
    family_name="葛󠄂西",
    given_name="花子",
    family_name_kana="カサイ",
    given_name_kana="ハナコ",
    birth_date=date(1990, 4, 1),
    sex="female",
    address="東京都稲城市東長沼２１１１番地",
    status="active",
    change_reason="birth",
    changed_on=date(1990, 4, 1),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
lookup_keys = st.sampled_from(
    ["resident_code", "name_kana", "name", "birth_date", "sex", "address", "as_of", "items", "x"]
)


@given(st.lists(st.text(max_size=60), max_size=20))
def test_every_line_is_answered_or_named_as_bad_never_an_exception(lines: list[str]) -> None:
    good, bad = parse_lines(lines, first_line=5)
    seen = [r.line for r in good] + [b.line for b in bad]
    assert sorted(seen) == [n for n, text in enumerate(lines, start=5) if text.strip()]
    assert all(b.message_en and b.message_ja and b.field and b.rule for b in bad)


@given(st.dictionaries(lookup_keys, json_values, max_size=6) | json_values)
def test_any_json_is_a_lookup_or_a_fault_naming_its_field(value: object) -> None:
    try:
        request = parse_object(value, 1)
    except RuleViolation as exc:
        fault: RuleViolation | None = exc
    else:
        fault = None
    if fault is not None:
        assert fault.field and fault.rule and fault.message_ja
        return
    assert isinstance(value, dict)
    assert request.lookup is (
        Lookup.RESIDENT_CODE if "resident_code" in value else Lookup.BASIC_ITEMS
    )


def test_the_faults_name_the_field_and_the_rule() -> None:
    cases = {
        '{"resident_code": "12345678901"}': "resident_code",
        '{"resident_code": "' + CODE + '", "name": "山田"}': "name",
        '{"name_kana": "ヤマダ"}': "birth_date",
        '{"name_kana": "山田", "birth_date": "1980-01-01"}': "name_kana",
        '{"name_kana": "ヤマダ", "birth_date": "1980-01-01", "as_of": "2020-13-01"}': "as_of",
        '{"resident_code": "' + CODE + '", "items": ["everything"]}': "items",
        '{"resident_code": "' + CODE + '", "colour": "red"}': "colour",
        "[1]": "line",
        "{": "line",
    }
    for text, field in cases.items():
        _, [bad] = parse_lines([text])
        assert bad.field == field, text


def test_kana_and_variant_characters_do_not_hide_a_person() -> None:
    request = parse_line(
        json.dumps(
            {
                "name_kana": "かさい　ﾊﾅｺ",
                "birth_date": "1990-04-01",
                "name": "葛西 花子",
                "sex": "female",
                "address": "東京都稲城市東長沼2111",
            }
        ),
        1,
    )
    allowed = frozenset({Item.NAME, Item.ADDRESS})
    found = answer(request, [PERSON], allowed)
    assert found.outcome is Outcome.PROVIDED
    assert found.identity()["family_name"] == "葛󠄂西"  # as stored, with its selector
    twins = [PERSON, replace(PERSON, resident_code="x", given_name="花子")]
    assert answer(request, twins, allowed).reason == "ambiguous: 2 persons match"
    assert answer(request, [replace(PERSON, sex="male")], allowed).outcome is Outcome.NOT_FOUND


@given(st.sets(st.sampled_from(list(Item))), st.sets(st.sampled_from(list(Item))))
def test_an_answer_holds_only_the_items_allowed_and_asked(
    allowed: set[Item], asked: set[Item]
) -> None:
    line = {"resident_code": CODE, **({"items": sorted(asked)} if asked else {})}
    request = parse_line(json.dumps(line), 1)
    got = answer(request, [PERSON], frozenset(allowed))
    wanted = asked or allowed
    if not wanted <= allowed:
        assert got.outcome is Outcome.REFUSED and got.identity() == {}
        return
    fields = {f for item in wanted for f in ITEM_FIELDS[item]}
    assert set(got.as_json().get("identity", {})) == fields
    assert ("my_number" in got.identity()) == (Item.MY_NUMBER in wanted)


@given(st.integers(0, 4000))
def test_as_of_gives_the_version_in_force_that_day(offset: int) -> None:
    start = date(2015, 1, 1)
    history = [
        replace(PERSON, address=f"住所{i}", changed_on=start + timedelta(days=365 * i), order=i)
        for i in range(10)
    ]
    day = start + timedelta(days=offset)
    got = as_of(history, day)
    assert got is not None and got.changed_on <= day
    assert all(v.changed_on > day or v.changed_on <= got.changed_on for v in history)
    assert as_of(history, start - timedelta(days=1)) is None


def test_the_current_entry_is_the_active_one() -> None:
    moved = replace(PERSON, lg_code="142051", changed_on=date(2020, 1, 1))
    left = replace(PERSON, status="removed", changed_on=date(2020, 1, 1))
    assert current([left, moved]) == moved
    assert current([left]) == left


@given(st.dates(date(2000, 1, 1), date(2040, 1, 1)))
def test_a_request_is_judged_by_the_register_on_its_day(day: date) -> None:
    agency = Agency("nenkin", "日本年金機構", AgencyKind.CORPORATION, AgencyStatus.ACTIVE, "0" * 64,
                    date(2010, 1, 1))  # fmt: skip
    task = PermittedTask("第一", "九十九", "t", frozenset({Item.NAME, Item.MY_NUMBER}), False,
                         frozenset({"nenkin"}), date(2012, 1, 1), date(2030, 1, 1))  # fmt: skip
    version, allowed, why = judge(agency, [task], "別表第一 の 九十九", day)
    if date(2012, 1, 1) <= day < date(2030, 1, 1):
        assert why is None and allowed == {Item.NAME}  # never the 個人番号 to this task
    else:
        assert why is not None and allowed == frozenset() and version is None
    assert judge(None, [task], task.ref, day)[2] == "agency not registered"


ABROAD = replace(
    PERSON,
    my_number=None,
    status="removed",
    change_reason="emigration",
    changed_on=date(2024, 4, 1),
    source=Source.FUHYO,
    moved_abroad=True,
    abroad_country="フランス共和国",
)
LEFT = replace(PERSON, status="removed", change_reason="emigration", changed_on=date(2024, 4, 1))
EVERY_ITEM = frozenset(Item)


def test_a_person_abroad_is_answered_from_the_fuhyo_stating_it() -> None:
    """For a task that may use the 附票 (`fuhyo`): the four items find her there, the answer
    says so, with the country beside the address (the article's own limits:
    tests/unit/provision/test_provision_fuhyo.py)."""
    four = parse_line(
        json.dumps({"name_kana": "かさい はなこ", "birth_date": "1990-04-01", "sex": "female"}), 2
    )
    got = answer(four, [], EVERY_ITEM, abroad=[ABROAD], fuhyo=True).as_json()
    assert got["source"] == "fuhyo_identity_info"
    assert got["identity"]["moved_abroad"] is True
    assert got["identity"]["abroad_country"] == "フランス共和国"
    assert "my_number" not in got["items"] and "my_number" not in got["identity"]
    # the same task rules: an address the task does not allow carries no country
    names = answer(four, [], frozenset({Item.NAME}), abroad=[ABROAD], fuhyo=True).as_json()
    assert set(names["identity"]) == set(ITEM_FIELDS[Item.NAME])
    asked = replace(four, items=frozenset({Item.MY_NUMBER}))
    refused = answer(asked, [], frozenset({Item.NAME}), abroad=[ABROAD], fuhyo=True)
    assert refused.outcome is Outcome.REFUSED
    # a resident's own active entry wins; a 附票 entry not abroad answers no one
    mine = answer(four, [PERSON], EVERY_ITEM, abroad=[ABROAD], fuhyo=True)
    assert mine.source() is Source.IDENTITY
    home = replace(ABROAD, moved_abroad=False, abroad_country=None)
    assert answer(four, [], EVERY_ITEM, abroad=[home], fuhyo=True).outcome is Outcome.NOT_FOUND
    # by code, identity_info's removed entry is what answers (the 附票 is not searched by code)
    by_code = parse_line(json.dumps({"resident_code": CODE}), 1)
    assert answer(by_code, [LEFT], EVERY_ITEM, abroad=[ABROAD], fuhyo=True).found == LEFT


def test_the_four_items_as_of_a_day_find_who_fitted_them_then() -> None:
    married = replace(PERSON, family_name="山田", family_name_kana="ヤマダ",
                      changed_on=date(2020, 6, 1), change_reason="renamed", order=1)  # fmt: skip
    history = [PERSON, married]
    then = parse_line(
        json.dumps(
            {"name_kana": "カサイ ハナコ", "birth_date": "1990-04-01", "as_of": "2019-01-01"}
        ),
        1,
    )
    got = answer(then, history, EVERY_ITEM)
    assert got.outcome is Outcome.PROVIDED and got.found == PERSON and got.as_of == date(2019, 1, 1)
    later = replace(then, as_of=date(2021, 1, 1))  # by then she read ヤマダ: not her any more
    assert answer(later, history, EVERY_ITEM).outcome is Outcome.NOT_FOUND
    now_name = replace(later, name_kana_key=reading_key(married))
    assert answer(now_name, history, EVERY_ITEM).found == married
    before_birth = replace(then, as_of=date(1980, 1, 1))
    assert answer(before_birth, history, EVERY_ITEM).outcome is Outcome.NOT_FOUND
