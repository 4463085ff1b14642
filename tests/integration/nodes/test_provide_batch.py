"""Provision at a node's database (SQLite and PostgreSQL), through `provide_batch`: the task
decides the items, the history answers `as_of`, a refusal is recorded with its reason, and
every lookup has exactly one `provision_records` row beside one oplog entry per request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from juki.core.clock import JST, FixedClock
from juki.core.errors import PermissionDeniedError, RuleViolation
from juki.core.identifiers import MyNumber, ResidentCode
from juki.network.fuhyo_link_messages import FuhyoIdentityInfoBody
from juki.network.messages import IdentityInfoBody
from juki.nodes.disclosure import provisions_of
from juki.nodes.fuhyo_link import apply_fuhyo_identity
from juki.nodes.identity import apply_identity
from juki.nodes.provide import SqlProvideUnitOfWork, provide_batch
from juki.nodes.provision_register import shipped_register
from juki.provision import services
from juki.provision.commands import AddAgency, LoadTasks
from juki.provision.model import Item, PermittedTask
from juki.provision.provide import agency_actor, provide
from juki.provision.register_file import parse_register
from juki.provision.requests import parse_lines
from juki.provision.tables import provision_records
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.storage.engine import make_engine

OPERATOR = Actor("nat-1", Role.NATIONAL_OPERATOR, "console")
NOW = datetime(2026, 4, 1, 9, tzinfo=JST)
INAGI = "132250"
NENKIN, ONKYU = "別表第一 の 九十一", "別表第一 の 一"


def _person(n: int, **changes: object) -> IdentityInfoBody:
    values: dict[str, object] = {
        "resident_code": ResidentCode.complete(f"{10**9 + n:010d}").value,
        "my_number": MyNumber.complete(f"{10**10 + n:011d}").value,
        "family_name": "髙橋" if n == 0 else "山田",
        "given_name": f"太郎{n}",
        "family_name_kana": "タカハシ" if n == 0 else "ヤマダ",
        "given_name_kana": "タロウ",
        "birth_date": date(1980, 1, 1 + n % 28),
        "sex": "male",
        "address": "東京都稲城市東長沼２１１１番地",
        "status": "active",
        "lg_code": INAGI,
        "change_reason": "birth",
        "changed_on": date(1980, 1, 1 + n % 28),
    }
    values.update(changes)
    return IdentityInfoBody.model_validate(values)


@pytest.fixture
def node_engine(migrated_db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(migrated_db_url)
    clock = FixedClock(NOW)
    uow = SqlProvideUnitOfWork(engine, clock=clock)
    register = parse_register(shipped_register())
    for i, entry in enumerate(register.agencies):
        services.add_agency(
            uow, OPERATOR, AddAgency(entry.agency_id, entry.name, entry.kind, f"{i:064x}")
        )
    services.load_tasks(uow, OPERATOR, LoadTasks(register.tasks))
    with engine.begin() as conn:
        for n in range(120):
            apply_identity(conn, _person(n), message_id=f"m{n}", now=NOW)
        # person 1 moved in 2020 (a new address, the old one in the history)
        moved = _person(1, address="東京都稲城市平尾１丁目", change_reason="relocation",
                        changed_on=date(2020, 6, 1))  # fmt: skip
        apply_identity(conn, moved, message_id="m-moved", now=NOW)
    try:
        yield engine
    finally:
        engine.dispose()


def _lines(node_engine: sa.Engine) -> list[str]:
    code = [_person(n).resident_code for n in range(120)]
    lines = [f'{{"resident_code": "{c}"}}' for c in code]
    lines += [
        f'{{"resident_code": "{code[1]}", "as_of": "2019-01-01"}}',
        '{"name_kana": "たかはし　たろう", "birth_date": "1980-01-01", "name": "髙󠄀橋太郎0"}',
        '{"resident_code": "12345678901"}',  # a bad check digit: an error line
        "not json",
        f'{{"resident_code": "{ResidentCode.complete("9999999999").value}"}}',  # nobody
    ]
    return lines


def _records(engine: sa.Engine) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(provision_records).order_by("record_id")))


def test_provision_answers_records_and_logs_each_request(node_engine: sa.Engine) -> None:
    clock = FixedClock(NOW)
    good, bad = parse_lines(_lines(node_engine))
    assert [(b.line, b.field) for b in bad] == [(123, "resident_code"), (124, "line")]

    onkyu = provide_batch(node_engine, "soumu-onkyu", ONKYU, "恩給の支給", good, clock=clock)
    answers = [a.as_json() for a in onkyu.answers]
    assert all(a["outcome"] == "provided" for a in answers[:122])
    assert all("my_number" not in a["identity"] for a in answers[:122])  # not its to have
    assert all("resident_code" not in a["identity"] for a in answers[:122])
    assert answers[120]["identity"]["address"] == "東京都稲城市東長沼２１１１番地"  # as of 2019
    assert answers[1]["identity"]["address"] == "東京都稲城市平尾１丁目"  # now
    assert answers[121]["identity"]["family_name"] == "髙橋"  # kana and IVS aware
    assert answers[-1] == {"line": 125, "outcome": "not_found"}

    nenkin = provide_batch(node_engine, "nenkin", NENKIN, "年金給付", good[:1], clock=clock)
    assert nenkin.answers[0].as_json()["identity"]["my_number"] == _person(0).my_number

    # not registered for the task, and items the task does not allow: refused, with reasons
    other = provide_batch(node_engine, "nenkin", ONKYU, "年金給付", good[:2], clock=clock)
    assert {a.reason for a in other.answers} == {"agency nenkin is not registered for " + ONKYU}
    asked, _ = parse_lines([f'{{"resident_code": "{_person(0).resident_code}", '
                            '"items": ["name", "my_number"]}'])  # fmt: skip
    too_much = provide_batch(node_engine, "soumu-onkyu", ONKYU, "恩給", asked, clock=clock)
    assert too_much.answers[0].reason == "items not allowed for the task: my_number"

    rows = _records(node_engine)
    assert len(rows) == len(good) + 1 + 2 + 1  # exactly one per lookup
    refused = [r for r in rows if r.outcome == "refused"]
    assert len(refused) == 3 and all(r.resident_code is None and r.items == "" for r in refused)
    shown = [r for r in rows if r.agency_id == "nenkin" and r.outcome == "provided"]
    assert [r.items.split(",").count("my_number") for r in shown] == [1]
    with node_engine.connect() as conn:
        entries = conn.execute(
            sa.select(oplog.c.actor_id, oplog.c.outcome, oplog.c.detail, oplog.c.purpose)
            .where(oplog.c.action == "provide_identity_info")
            .order_by(oplog.c.seq)
        ).all()
    assert [(e.actor_id, e.outcome) for e in entries] == [
        ("agency:soumu-onkyu", "ok"),
        ("agency:nenkin", "ok"),
        ("agency:nenkin", "rejected"),
        ("agency:soumu-onkyu", "ok"),
    ]
    assert "provided 122, not_found 1, refused 0" in entries[0].detail
    assert entries[0].purpose == "恩給の支給"


def test_provision_refuses_a_non_agency_and_a_bad_purpose(node_engine: sa.Engine) -> None:
    clock = FixedClock(NOW)
    good, _ = parse_lines([f'{{"resident_code": "{_person(0).resident_code}"}}'])
    uow = SqlProvideUnitOfWork(node_engine, clock=clock)
    with pytest.raises(PermissionDeniedError):
        provide(uow, OPERATOR, ONKYU, "見たいだけ", good)
    with pytest.raises(RuleViolation) as bad:
        provide_batch(node_engine, "soumu-onkyu", ONKYU, "\x00", good, clock=clock)
    assert bad.value.field == "purpose"
    assert _records(node_engine) == []
    with node_engine.connect() as conn:
        outcomes = conn.execute(
            sa.select(oplog.c.outcome).where(oplog.c.action == "provide_identity_info")
        ).scalars()
        assert sorted(outcomes) == ["denied", "rejected"]


class _BrokenLog:
    def append(self, entry: object) -> None:
        raise OSError("the oplog cannot be written")


class _UnloggedUnitOfWork(SqlProvideUnitOfWork):
    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.oplog = _BrokenLog()  # type: ignore[assignment]


def test_no_answer_leaves_without_its_oplog_entry(node_engine: sa.Engine) -> None:
    good, _ = parse_lines([f'{{"resident_code": "{_person(0).resident_code}"}}'])
    uow = _UnloggedUnitOfWork(node_engine, clock=FixedClock(NOW))
    with pytest.raises(OSError, match="oplog cannot be written"):
        provide(uow, agency_actor("soumu-onkyu"), ONKYU, "恩給", good)
    assert _records(node_engine) == []  # the records rolled back with the answer


def _abroad(n: int, **changes: object) -> FuhyoIdentityInfoBody:
    person = _person(n)
    values = person.model_dump(exclude={"my_number", "former_surname", "former_surname_kana",
                                        "alias_name", "alias_name_kana"})  # fmt: skip
    values.update(status="removed", change_reason="emigration", changed_on=date(2024, 4, 1),
                  moved_abroad=True, abroad_country="フランス共和国")  # fmt: skip
    values.update(changes)
    return FuhyoIdentityInfoBody.model_validate(values)


PASSPORT, ABROAD_TASK = "別表第五 の 二", "別表第五 の 九十九"


def test_a_person_abroad_is_provided_from_the_fuhyo_only_as_the_article_allows(
    node_engine: sa.Engine,
) -> None:
    """住基法30条の44の6. Person 200 left for France in 2024: the identity index holds her
    removed, the 附票連携 abroad. A task the register lets use the 附票 (旅券, 別表第五) finds
    her by the four items, without the 住民票コード even where the task allows it (omitted,
    with the reason); by code only identity_info's removed entry answers; a task without the
    flag (年金, 別表第一) is told not_found, and the node records and logs a refusal."""
    clock = FixedClock(NOW)
    gone = _person(200, change_reason="emigration", status="removed", changed_on=date(2024, 4, 1))
    with node_engine.begin() as conn:
        apply_identity(conn, _person(200), message_id="m200", now=NOW)
        apply_identity(conn, gone, message_id="m200b", now=NOW)
        home = _abroad(200, status="active", change_reason="birth", changed_on=date(1980, 1, 5),
                       moved_abroad=False, abroad_country=None)  # fmt: skip
        apply_fuhyo_identity(conn, home, message_id="f200", now=NOW)
        apply_fuhyo_identity(conn, _abroad(200), message_id="f200b", now=NOW)
    every = frozenset(Item) - {Item.MY_NUMBER}
    task = PermittedTask("第五", "九十九", "試験の事務（国外転出者）", every, False,
                         frozenset({"tokyo"}), date(2020, 1, 1), fuhyo=True)  # fmt: skip
    services.load_tasks(
        SqlProvideUnitOfWork(node_engine, clock=clock), OPERATOR, LoadTasks((task,))
    )
    code = gone.resident_code
    four = '{"name_kana": "ヤマダタロウ", "birth_date": "1980-01-05", "name": "山田太郎200"'
    good, bad = parse_lines([
        f'{{"resident_code": "{code}"}}',
        four + "}",
        four + ', "items": ["name", "resident_code"]}',
        four + ', "as_of": "2020-01-01"}',
    ])  # fmt: skip
    assert bad == []

    passport = provide_batch(node_engine, "tokyo", PASSPORT, "旅券の発給", good[:2], clock=clock)
    by_code, by_items = (a.as_json() for a in passport.answers)
    assert by_code["source"] == "identity_info" and by_code["identity"]["status"] == "removed"
    assert by_items["source"] == "fuhyo_identity_info"
    assert by_items["identity"]["abroad_country"] == "フランス共和国"
    assert "omitted" not in by_items  # the passport task allows no 住民票コード to omit

    wide = provide_batch(node_engine, "tokyo", ABROAD_TASK, "試験", good, clock=clock)
    _, all_items, asked, then = (a.as_json() for a in wide.answers)
    for got in (all_items, asked):
        assert got["source"] == "fuhyo_identity_info"
        assert "resident_code" not in got["identity"] and "resident_code" not in got["items"]
        assert got["omitted"] == ["resident_code"] and "30条の44の6" in got["omitted_reason"]
    assert asked["items"] == ["name"]
    # as of 2020 she lived in 稲城市: identity_info answers, the 住民票コード with it
    assert then["source"] == "identity_info" and then["identity"]["resident_code"] == code

    nenkin = provide_batch(node_engine, "nenkin", NENKIN, "年金給付", good[:2], clock=clock)
    by_code, by_items = (a.as_json() for a in nenkin.answers)
    assert by_code["source"] == "identity_info"  # her removed entry, as identity_info holds it
    assert by_items == {"line": 2, "outcome": "not_found"}  # as if she were in neither
    assert nenkin.counts()["not_found"] == 1 and nenkin.recorded_counts()["refused"] == 1

    rows = [r for r in _records(node_engine) if r.agency_id in ("tokyo", "nenkin")]
    fuhyo = [r for r in rows if r.source == "fuhyo_identity_info"]
    assert len(fuhyo) == 3 and all("resident_code" not in r.items.split(",") for r in fuhyo)
    assert all(r.resident_code == code for r in fuhyo)  # the node's record keeps whom
    (withheld,) = [r for r in rows if r.outcome == "refused"]
    assert (withheld.agency_id, withheld.lookup, withheld.resident_code, withheld.items) == (
        "nenkin", "basic_items", None, "")  # fmt: skip
    assert withheld.reason is not None and "30条の44の6" in withheld.reason
    with node_engine.connect() as conn:
        (entry,) = conn.execute(
            sa.select(oplog.c.outcome, oplog.c.detail).where(
                (oplog.c.actor_id == "agency:nenkin") & (oplog.c.detail.contains("30条の44の6"))
            )
        ).all()
        shown = provisions_of(conn, "national", code)
    assert entry.outcome == "ok" and "not_found 0, refused 1" in entry.detail
    # the resident's 提供状況 shows the items as provided (from the 附票: no 住民票コード), and
    # not the refusal, which provided nothing
    assert sorted(p.items for p in shown) == sorted(
        r.items for r in _records(node_engine) if r.resident_code == code)  # fmt: skip
    with_code = [p for p in shown if "resident_code" in p.items.split(",")]
    assert len(with_code) == 3  # identity_info's: wide by code and as of 2020, nenkin by code


def test_the_four_items_as_of_a_day_find_a_renamed_person(node_engine: sa.Engine) -> None:
    """Person 201 read タナカ until 2022, ヤマダ since: asked by タナカ as of 2021 she is
    found (the history's reading), as of today she is not."""
    renamed = _person(201, change_reason="name_change", changed_on=date(2022, 1, 1))
    with node_engine.begin() as conn:
        apply_identity(conn, _person(201, family_name="田中", family_name_kana="タナカ"),
                       message_id="m201", now=NOW)  # fmt: skip
        apply_identity(conn, renamed, message_id="m201b", now=NOW)
    lines = [
        '{"name_kana": "たなか たろう", "birth_date": "1980-01-06", "as_of": "2021-06-01"}',
        '{"name_kana": "たなか たろう", "birth_date": "1980-01-06", "as_of": "2023-06-01"}',
        '{"name_kana": "たなか たろう", "birth_date": "1980-01-06", "as_of": "2027-01-01"}',
    ]
    good, _ = parse_lines(lines)
    result = provide_batch(node_engine, "soumu-onkyu", ONKYU, "恩給", good, clock=FixedClock(NOW))
    then, later, future = (a.as_json() for a in result.answers)
    assert then["outcome"] == "provided" and then["identity"]["family_name"] == "田中"
    assert later == {"line": 2, "outcome": "not_found"}
    assert future["reason"] == "as_of is after the day of the request"
