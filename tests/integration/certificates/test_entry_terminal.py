"""The terminal's life-event entry screens without a browser (issue 11): for each screen, a
clerk's entry goes through the confirmation screen to a provisional change in the 審査 list,
another operator (a supervisor) approves it, and the record changes; a bad value comes back as
the form with the Japanese error beside the field it names, never a 500; a role without the
kind's permission is refused, and the refusal logged, before the screen reads anything.

One populated SQLite registry for the module; each case makes its own household. The rules
and their SQL are tested on both databases in tests/integration/registry/ (the same services
and review path the API uses); the no-500 property over these screens is in
test_review_terminal.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from juki.registry import services as svc
from juki.registry.model import Relationship, ResidentRecord, Sex
from juki.security.tables import oplog
from support.cert_population import (
    HONSEKI,
    SUPERVISOR,
    CertEnv,
    person,
)
from support.terminal_counter import TODAY, Counter


@pytest.fixture(scope="module")
def counter(module_env: CertEnv) -> Counter:
    return Counter(module_env)


@dataclass(frozen=True)
class Case:
    """A screen: who enters it, the household it starts from, the form, what a 本登録 changes,
    and one bad value with the field whose error must show."""

    kind: str
    family: str  # the household's surname (and its reading)
    kana: str
    form: Callable[[Counter, list[ResidentRecord]], dict[str, Any]]
    applied: Callable[[Counter, list[ResidentRecord]], bool]
    bad: dict[str, str]
    bad_field: str
    clerk: str = "clerk-e"
    members: int = 2


def household(c: Counter, family: str, kana: str, size: int) -> list[ResidentRecord]:
    """A householder and, with `size` 2 or 3, a wife and a child, at the same address."""
    reg = c.env.reg
    head = reg.move_in(person(family, "一郎", kana, "イチロウ", date(1980, 1, 2)))
    out = [head]
    for given, reading, born, sex, rel in (
        ("花子", "ハナコ", date(1982, 3, 4), Sex.FEMALE, Relationship.WIFE),
        ("次郎", "ジロウ", date(2010, 5, 6), Sex.MALE, Relationship.CHILD),
    )[: size - 1]:
        p = person(family, given, kana, reading, born, sex)
        out.append(reg.move_in(p, join=(head.household_id, rel)))
    return out


def _move_in(c: Counter, _h: list[ResidentRecord]) -> dict[str, Any]:
    code = c.env.reg.next_code()
    previous = "神奈川県藤沢市鵠沼海岸2丁目3番4号"
    items = {
        "family_name": "転入",
        "given_name": "一美",
        "birth_date": "1990-05-05",
        "sex": "female",
    }
    return {
        "origin": "certificate",
        **items,
        "family_name_kana": "テンニュウ",
        "given_name_kana": "カズミ",
        "honseki": HONSEKI,
        "koseki_head": "転入　一美",
        "address": "東京都稲城市百村1612番地",
        "moved_on": "2025-03-28",
        "notified_on": TODAY,
        "previous_address": previous,
        "previous_lg_code": "142051",
        "resident_code": code,
        "cert_number": "142051-0099",
        "cert_lg_code": "142051",
        "cert_resident_code": code,
        **{f"cert_{k}": v for k, v in items.items()},
        "cert_address": previous,
        "cert_destination_address": "東京都稲城市百村1612番地",
        "cert_planned_on": "2025-03-27",
    }


def _moved_in(c: Counter, _h: list[ResidentRecord]) -> bool:
    found = svc.search_records(c.env.reg.uow(), SUPERVISOR, _query("テンニュウ カズミ"))
    return [r.address for r in found] == ["東京都稲城市百村1612番地"]


def _query(kana: str) -> Any:
    from juki.registry.ports import SearchQuery

    return SearchQuery(name_kana=kana)


def _members_named(c: Counter, h: list[ResidentRecord], given: str) -> bool:
    _hh, members = svc.household_view(c.env.reg.uow(), SUPERVISOR, h[0].household_id)
    return any(m.given_name == given for m in members)


CASES = [
    Case(
        "birth",
        "出生",
        "シュッセイ",
        lambda c, h: {
            "family_name": "出生",
            "given_name": "三郎",
            "family_name_kana": "シュッセイ",
            "given_name_kana": "サブロウ",
            "birth_date": "2025-03-28",
            "sex": "male",
            "honseki": HONSEKI,
            "koseki_head": "出生　一郎",
            "relationship": "child",
            "notified_on": TODAY,
        },
        lambda c, h: _members_named(c, h, "三郎"),
        {"birth_date": "2025-13-01"},
        "birth_date",
    ),
    Case(
        "death",
        "死亡",
        "シボウ",
        lambda c, h: {"died_on": "2025-03-30", "notified_on": TODAY},
        lambda c, h: not c.record(h[1].record_id).is_active,
        {"died_on": "2025-04-02"},  # after today: the registry's rule
        "died_on",
    ),
    Case(
        "move-in",
        "転入",
        "テンニュウ",
        _move_in,
        _moved_in,
        {"cert_given_name": "一子"},
        "cert_given_name",
    ),
    Case(
        "move-out",
        "転出",
        "テンシュツ",
        lambda c, h: {
            "record_ids": [h[0].record_id, h[1].record_id],
            "destination_address": "大阪府大阪市北区梅田1丁目1番1号",
            "planned_on": "2025-04-10",
            "notified_on": TODAY,
            "abroad": "domestic",
            "card": "paper",
        },
        lambda c, h: c.record(h[1].record_id).move_out_planned_on == date(2025, 4, 10),
        {"destination_address": ""},
        "destination_address",
    ),
    Case(
        "household-split",
        "分離",
        "ブンリ",
        lambda c, h: {
            "record_ids": [h[2].record_id],
            "new_householder_id": h[2].record_id,
            "effective_on": TODAY,
            "notified_on": TODAY,
        },
        lambda c, h: c.record(h[2].record_id).household_id != h[0].household_id,
        {"effective_on": "04/01"},
        "effective_on",
        members=3,
    ),
    Case(
        "household-merge",
        "合併",
        "ガッペイ",
        lambda c, h: {
            "into_resident_code": household(c, "合併先", "ガッペイサキ", 1)[0].resident_code,
            f"rel.{h[0].record_id}": "relative",
            f"rel.{h[1].record_id}": "relative",
            "effective_on": TODAY,
            "notified_on": TODAY,
        },
        lambda c, h: c.record(h[0].record_id).relationship is Relationship.RELATIVE,
        {"into_resident_code": "12345678901"},
        "into_resident_code",
    ),
    Case(
        "householder-change",
        "世帯主",
        "セタイヌシ",
        lambda c, h: {
            "new_householder_id": h[1].record_id,
            f"rel.{h[0].record_id}": "husband",
            "effective_on": TODAY,
            "notified_on": TODAY,
        },
        lambda c, h: c.record(h[1].record_id).relationship is Relationship.HOUSEHOLDER,
        {"new_householder_id": ""},
        "new_householder_id",
    ),
    Case(
        "name-change",
        "改姓",
        "カイセイ",
        lambda c, h: {
            "family_name": "新姓",
            "given_name": "花子",
            "family_name_kana": "シンセイ",
            "given_name_kana": "ハナコ",
            "effective_on": TODAY,
            "notified_on": TODAY,
        },
        lambda c, h: c.record(h[1].record_id).family_name == "新姓",
        {"family_name_kana": "shinsei"},
        "family_name_kana",
    ),
    Case(
        "correction-by-authority",
        "職権",
        "ショッケン",
        lambda c, h: {
            "relationship": "wife_unregistered",
            "effective_on": TODAY,
            "note": "届書の続柄の転記誤り",
        },
        lambda c, h: c.record(h[1].record_id).relationship is Relationship.WIFE_UNREGISTERED,
        {"relationship": "", "family_name": ""},
        "family_name",
        clerk="super-e",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_an_entered_event_waits_for_review_and_a_bad_value_is_named(
    counter: Counter, case: Case
) -> None:
    h = household(counter, case.family, case.kana, case.members)
    subject = "" if case.kind == "move-in" else h[-1 if case.members < 3 else 0].record_id
    form = counter.get(case.clerk, f"/entry/{case.kind}?record={subject}")
    assert form.status_code == 200, form.text[:500]
    data = {"record": subject, **case.form(counter, h)}

    bad = counter.post(case.clerk, f"/entry/{case.kind}", {**data, **case.bad, "step": "file"})
    assert bad.status_code in (409, 422), bad.text[:500]
    assert re.search(rf'id="error-{case.bad_field}">[^<]+', bad.text), bad.text

    confirm = counter.post(case.clerk, f"/entry/{case.kind}", data)
    assert confirm.status_code == 200 and 'id="entry-confirm"' in confirm.text, confirm.text
    before = counter.pending()
    filed = counter.post(case.clerk, f"/entry/{case.kind}", {**data, "step": "file"})
    assert filed.status_code == 303, filed.text
    assert filed.headers["location"].endswith("/review?msg=entered")
    (change,) = counter.pending() - before
    assert not case.applied(counter, h)  # 仮登録: nothing applied yet

    approved = counter.post("super-f", "/review/approval", {"change": change})
    assert approved.status_code == 303, approved.text[:500]
    assert case.applied(counter, h)


def test_a_role_without_the_permission_is_refused_before_the_screen_and_logged(
    counter: Counter,
) -> None:
    h = household(counter, "権限", "ケンゲン", 1)
    shown = counter.get("clerk-e", f"/entry/correction-by-authority?record={h[0].record_id}")
    posted = counter.post(
        "clerk-e",
        "/entry/correction-by-authority",
        {"record": h[0].record_id, "family_name": "誤", "effective_on": TODAY, "note": "x"},
    )
    assert shown.status_code == posted.status_code == 403
    assert "権限がありません" in shown.text
    with counter.env.engine.connect() as conn:
        denied = conn.execute(
            sa.select(sa.func.count()).where(
                oplog.c.actor_id == "clerk-e",
                oplog.c.action == "correct_by_authority",
                oplog.c.outcome == "denied",
            )
        ).scalar_one()
    assert denied == 2
    menu = counter.get("clerk-e", f"/entry?record={h[0].record_id}")
    assert 'id="entry-birth"' in menu.text and "entry-correction-by-authority" not in menu.text


def test_a_post_without_this_sessions_csrf_token_files_nothing(counter: Counter) -> None:
    h = household(counter, "偽造", "ギゾウ", 1)
    client, _csrf = counter.clients["clerk-e"]
    before = counter.pending()
    r = client.post(
        "/terminal/entry/death",
        data={"csrf": "0" * 64, "record": h[0].record_id, "died_on": "2025-03-30", "step": "file"},
        follow_redirects=False,
    )
    assert r.status_code == 422 and "画面の有効期限が切れました" in r.text
    assert counter.pending() == before and counter.record(h[0].record_id).is_active
