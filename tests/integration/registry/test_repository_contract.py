"""The registry's storage contract, run on the fake unit of work and on SQL (SQLite, PostgreSQL).

The services' unit tests run on `support.fakes`; these cases keep the fake honest: every one
runs on the fake and on the real SQL unit of work, so the fake cannot come to answer what the
database would not (ADR 0001, ADR 0004).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.errors import ConcurrentChangeError, DomainRuleError, NotFoundError
from juki.core.identifiers import ResidentCode
from juki.core.ports import OpLogEntry
from juki.network.messages import body_of
from juki.registry import services as svc
from juki.registry.commands import (
    ConfirmMoveOut,
    MoveInOrigin,
    NewHousehold,
    RecordBirth,
    RecordMoveIn,
    RecordMoveOut,
    RecordRelocation,
    RegisterSeal,
)
from juki.registry.events import (
    RegistryEvent,
    identity_info_changed,
    move_in_notice,
    move_out_certificate_info,
)
from juki.registry.model import (
    ChangeReason,
    ForeignResidentCategory,
    Household,
    HouseholdStatus,
    Municipality,
    RecordChange,
    RecordStatus,
    Relationship,
    ResidentRecord,
    Sex,
    initial_fields,
)
from juki.registry.ports import SearchQuery
from juki.registry.seal import SealRegistration, SealStatus
from juki.security.chain import GENESIS, entry_fields, link
from support.backends import NOW, Backend, FakeBackend, sql_backend
from support.fakedb import TABLES
from support.residents import CLERK, CS, HOME, INAGI, TODAY, family, move_in, person, png, seed

POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)
HH = str(uuid.UUID(int=900))  # the household most cases put people in


def _open(request: pytest.FixtureRequest, kind: str) -> Iterator[Backend]:
    if kind == "fake":
        yield FakeBackend()
        return
    url = request.getfixturevalue("migrated_pg_url" if kind == "postgres" else "sqlite_url")
    with sql_backend(url) as backend:
        yield backend


@pytest.fixture(params=["fake", "sqlite", POSTGRES])
def empty(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """A registry as the migrations leave it: no municipality, no allotment, no one."""
    yield from _open(request, request.param)


@pytest.fixture
def backend(empty: Backend) -> Backend:
    return seed(empty)


@pytest.fixture(params=["fake", POSTGRES])
def racing(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Where a transaction can commit while another is open. SQLite's writers are serialised
    (BEGIN IMMEDIATE: the second cannot begin), so its side of the race is the serial one in
    `test_lost_update.py`."""
    for backend in _open(request, request.param):
        yield seed(backend)


def rid(n: int) -> str:
    return str(uuid.UUID(int=1000 + n))


def resident(n: int, **fields: Any) -> ResidentRecord:
    values: dict[str, Any] = {
        "record_id": rid(n),
        "lg_code": INAGI.lg_code,
        "resident_code": ResidentCode.complete(f"{2000000000 + n:010d}").value,
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "birth_date": date(1980, 5, 5),
        "sex": Sex.MALE,
        "household_id": HH,
        "relationship": Relationship.HOUSEHOLDER,
        "resident_since": date(2020, 1, 1),
        "address": HOME,
        "address_since": date(2020, 1, 1),
    }
    return ResidentRecord(**(values | fields))


def household(household_id: str = HH, **fields: Any) -> Household:
    values: dict[str, Any] = {"lg_code": INAGI.lg_code, "address": HOME}
    return Household(household_id, formed_on=date(2020, 1, 1), **(values | fields))


def first_change(record: ResidentRecord) -> RecordChange:
    return RecordChange(
        ChangeReason.MOVE_IN, record.resident_since, TODAY, initial_fields(record), "転入"
    )


def add(backend: Backend, *records: ResidentRecord, households: tuple[str, ...] = (HH,)) -> None:
    with backend.uow() as uow:
        for household_id in households:
            uow.registry.add_household(household(household_id))
        for record in records:
            uow.registry.add_record(record, first_change(record), "clerk-1")
        uow.commit()


def ids(records: Any) -> list[str]:
    return [r.record_id for r in records]


def everything(backend: Backend) -> dict[str, list[dict[str, Any]]]:
    return {table: backend.rows(table) for table in TABLES}


# -- the municipality, records, households ------------------------------------------------


def test_municipality_is_not_found_until_saved_and_stays_one(empty: Backend) -> None:
    with empty.uow() as uow, pytest.raises(NotFoundError) as err:
        _ = uow.municipality
    assert err.value.what == "municipality"
    empty.save_municipality(INAGI)
    empty.save_municipality(INAGI)
    with pytest.raises(DomainRuleError) as rule:
        empty.save_municipality(Municipality("131016", "東京都", "千代田区"))
    assert rule.value.rule == "already_initialised"
    with empty.uow() as uow:
        assert uow.municipality == INAGI


def test_a_record_reads_back_as_written_with_its_history(backend: Backend) -> None:
    record = resident(
        1,
        family_name="葛\U000e0102西",
        my_number="123456789018",
        former_surname="鈴木",
        former_surname_kana="スズキ",
        honseki="東京都稲城市東長沼2111番地",
        koseki_head="葛西　太郎",
        notified_on=date(2020, 1, 5),
        previous_address="神奈川県藤沢市鵠沼海岸1丁目2番3号",
        electoral_registered=True,
        nhi_insured_since=date(2020, 1, 1),
        national_pension_category="1",
        is_foreign=True,
        nationality="ベトナム",
        foreign_category=ForeignResidentCategory.MID_LONG_TERM,
        stay_expiry=date(2028, 3, 1),
        residence_card_number="AB12345678CD",
        alias_name="グエン",
        support_measure=True,
    )
    change = first_change(record)
    with backend.uow() as uow:
        uow.registry.add_household(household())
        uow.registry.add_record(record, change, "clerk-1")
        assert uow.registry.get(record.record_id) == record  # its own writes, uncommitted
        uow.commit()
    with backend.uow() as uow:
        assert uow.registry.get(record.record_id) == record
        assert uow.registry.get_household(HH) == household()
        (recorded,) = uow.registry.history(record.record_id)
    assert (recorded.record_id, recorded.seq, recorded.actor_id) == (record.record_id, 1, "clerk-1")
    assert recorded.change == change
    assert recorded.recorded_at == NOW.isoformat()
    assert [r["version"] for r in backend.rows("resident_records")] == [1]


def test_unknown_records_households_and_seals_are_not_found(backend: Backend) -> None:
    with backend.uow() as uow:
        for read, what in (
            (lambda: uow.registry.get(rid(9)), "resident_record"),
            (lambda: uow.registry.get_household(HH), "household"),
            (lambda: uow.seals.get("00000009"), "seal_registration"),
        ):
            with pytest.raises(NotFoundError) as err:
                read()
            assert err.value.what == what
        assert uow.registry.history(rid(9)) == []
        assert uow.registry.members(HH) == []
        assert uow.seals.live_for(rid(9)) is None


def test_a_household_is_saved_whole(backend: Backend) -> None:
    add(backend)
    dissolved = household(status=HouseholdStatus.DISSOLVED, dissolved_on=TODAY, address="X")
    with backend.uow() as uow:
        uow.registry.save_household(dissolved)
        uow.registry.save_household(household(str(uuid.UUID(int=901))))  # none: no row, no error
        uow.commit()
    with backend.uow() as uow:
        assert uow.registry.get_household(HH) == dissolved
    assert len(backend.rows("households")) == 1


def test_a_record_needs_its_household(backend: Backend) -> None:
    """The foreign key holds on both; the store reports any refused insert as a concurrent
    change of the resident code (what it means in practice)."""
    with backend.uow() as uow, pytest.raises(ConcurrentChangeError):
        uow.registry.add_record(resident(1), first_change(resident(1)), "clerk-1")


def test_members_are_active_householder_first_then_by_birth_date_then_id(
    backend: Backend,
) -> None:
    child = {"relationship": Relationship.CHILD, "birth_date": date(2010, 1, 1)}
    add(
        backend,
        resident(5, **child),
        resident(3, relationship=Relationship.WIFE, birth_date=date(1982, 7, 7), sex=Sex.FEMALE),
        resident(4, **child),
        resident(1, birth_date=date(1990, 1, 1), my_number="123456789018"),
        resident(2, status=RecordStatus.REMOVED),
        resident(6, resident_code=resident(1).resident_code, status=RecordStatus.REMOVED),
        resident(
            7,
            resident_code=resident(2).resident_code,
            household_id=str(uuid.UUID(int=901)),
            relationship=Relationship.CHILD,
            birth_date=date(1930, 1, 1),
            my_number="123456789018",
        ),
        households=(HH, str(uuid.UUID(int=901))),
    )
    with backend.uow() as uow:
        assert ids(uow.registry.members(HH)) == [rid(1), rid(3), rid(4), rid(5)]
        assert ids(uow.registry.find_by_resident_code(resident(1).resident_code)) == [
            rid(6),
            rid(1),
        ]
        by_code = uow.registry.find_by_resident_code(resident(2).resident_code)
        assert ids(by_code) == [rid(2), rid(7)]  # the removed householder first
        assert ids(uow.registry.find_by_my_number("123456789018")) == [rid(1), rid(7)]


# -- search and statistics ------------------------------------------------------------------


def _people(backend: Backend) -> None:
    add(
        backend,
        resident(1, birth_date=date(1980, 5, 5)),
        resident(2, birth_date=date(1970, 1, 1)),
        resident(3, given_name="花子", given_name_kana="ハナコ", sex=Sex.FEMALE),
        resident(4, family_name="山口", family_name_kana="ヤマグチ"),
        resident(5, family_name="キャノン", given_name="A", family_name_kana="キャノン"),
        resident(6, family_name="A_B", given_name="C", family_name_kana="エー"),
        resident(7, family_name="AXB", given_name="C", family_name_kana="エー"),
        resident(8, given_name="次郎", given_name_kana="ジロウ", status=RecordStatus.REMOVED),
    )


def _search(backend: Backend, **query: Any) -> list[str]:
    with backend.uow() as uow:
        return ids(uow.registry.search(SearchQuery(**query)))


def test_search_by_reading_ignores_script_width_small_kana_and_spaces(backend: Backend) -> None:
    _people(backend)
    everyone_yama = [rid(4), rid(8), rid(2), rid(1), rid(3)]
    assert _search(backend, name_kana="ヤマ", include_removed=True) == everyone_yama
    assert _search(backend, name_kana="やま") == [rid(4), rid(2), rid(1), rid(3)]
    assert _search(backend, name_kana="ﾔﾏﾀﾞ ﾀ") == [rid(2), rid(1)]
    assert _search(backend, name_kana="ヤマダ　タロウ", birth_date=date(1980, 5, 5)) == [rid(1)]
    assert _search(backend, name_kana="きやのん") == [rid(5)]
    assert _search(backend, name_kana="%") == []


def test_search_finds_a_pending_mover_until_the_planned_date(backend: Backend) -> None:
    """ADR 0005: a filed 転出 is a 住民票 until its date, and the counter still finds it."""
    head = move_in(backend)
    svc.record_move_out(
        backend.uow(),
        CLERK,
        RecordMoveOut((head.record_id,), "神奈川県藤沢市鵠沼1番地", date(2025, 4, 3), TODAY),
    )
    with backend.uow() as uow:
        (found,) = uow.registry.search(SearchQuery(name_kana="ヤマダ"))
    assert (found.record_id, found.status, found.removed_on) == (
        head.record_id,
        RecordStatus.ACTIVE,
        None,
    )
    assert found.move_out_planned_on == date(2025, 4, 3)
    backend.clock.advance(date(2025, 4, 3) - TODAY)
    assert _search(backend, name_kana="ヤマダ") == []
    assert _search(backend, name_kana="ヤマダ", include_removed=True) == [head.record_id]


def test_search_by_name_drops_spaces_and_takes_wildcards_literally(backend: Backend) -> None:
    _people(backend)
    assert _search(backend, name="山田 太") == [rid(2), rid(1)]
    assert _search(backend, name="山田\u3000花") == [rid(3)]
    assert _search(backend, name="A_") == [rid(6)]
    assert _search(backend, name="山%") == []
    code = resident(3).resident_code
    assert _search(backend, resident_code=code) == [rid(3)]
    assert _search(backend, resident_code=resident(8).resident_code) == []
    assert _search(backend, resident_code=resident(8).resident_code, include_removed=True) == [
        rid(8)
    ]


def test_search_limit_is_clamped_to_at_least_one(backend: Backend) -> None:
    _people(backend)
    assert _search(backend, name_kana="ヤマ", limit=0) == [rid(4)]
    assert _search(backend, name_kana="ヤマ", limit=-3) == [rid(4)]
    assert _search(backend, name_kana="ヤマ", limit=2) == [rid(4), rid(2)]


def test_search_returns_at_most_500(backend: Backend) -> None:
    add(backend, *(resident(n) for n in range(501)))
    assert len(_search(backend, name_kana="ヤマダ", limit=10_000)) == 500


def test_search_by_name_ignores_ascii_case_alike_on_every_backend(backend: Backend) -> None:
    """A clerk types "nguyen" for NGUYEN. Only an ASCII query folds case: SQLite's lower()
    folds ASCII alone, so anything wider would find different people on the two databases."""
    add(
        backend,
        resident(1, family_name="NGUYEN", given_name="AN"),
        resident(2, family_name="Ｎｇｕｙｅｎ", given_name="Ｂｉｎｈ"),
    )
    assert _search(backend, name="NGUYEN") == [rid(1)]
    assert _search(backend, name="nguyen an") == [rid(1)]
    assert _search(backend, name="Ｎｇｕｙｅｎ") == [rid(2)]
    assert _search(backend, name="ｎｇｕｙｅｎ") == []


def test_stats_count_residents_households_and_removed_records(backend: Backend) -> None:
    add(
        backend,
        resident(1, my_number="123456789018"),
        resident(2, relationship=Relationship.WIFE, sex=Sex.FEMALE, is_foreign=True),
        resident(3, status=RecordStatus.REMOVED),
        households=(HH, str(uuid.UUID(int=901))),
    )
    with backend.uow() as uow:
        uow.registry.save_household(
            household(str(uuid.UUID(int=901)), status=HouseholdStatus.DISSOLVED)
        )
        uow.commit()
    with backend.uow() as uow:
        assert uow.registry.stats() == {
            "residents": 2,
            "households": 1,
            "foreign_residents": 1,
            "removed_records": 1,
            "male": 1,
            "female": 1,
            "without_my_number": 1,
        }


# -- resident codes and versions ------------------------------------------------------------


def _draw(backend: Backend) -> str:
    with backend.uow() as uow:
        code = uow.registry.allot_resident_code()
        uow.commit()
    return code


def test_codes_come_from_old_ranges_until_the_first_pool_then_from_it_at_random(
    empty: Backend,
) -> None:
    """ADR 0006: a range national allotted before 0014 is used in order until the first pool
    arrives; then only random members of the pool, until it is used up."""
    empty.save_municipality(INAGI)
    empty.add_allotment(5, 7, "national via 130001")
    with empty.uow() as uow:
        uow.registry.allot_resident_code()  # rolled back: drawn again below
    assert _draw(empty) == ResidentCode.complete("0000000005").value
    pool = [ResidentCode.complete(f"{n * 98_765_431 % 10**10:010d}").value for n in range(1, 9)]
    empty.add_pool(pool)
    drawn = [_draw(empty) for _ in pool]
    assert sorted(drawn) == sorted(pool) and drawn != sorted(pool)
    with empty.uow() as uow, pytest.raises(DomainRuleError) as err:
        uow.registry.allot_resident_code()  # the range still has 6 and 7: never used again
    assert (err.value.field, err.value.rule) == ("resident_code", "allotment_exhausted")
    assert empty.rows("code_pool") == []


def test_a_standalone_registry_draws_codes_no_record_holds_nor_retired(empty: Backend) -> None:
    empty.save_municipality(INAGI)
    add(empty, resident(1))
    with empty.uow() as uow:
        uow.registry.get(rid(1))
        uow.registry.retire_resident_code(resident(1).resident_code, "24727059608", rid(1))
        uow.commit()
    drawn = {_draw(empty) for _ in range(20)}
    assert len(drawn) == 20
    assert resident(1).resident_code not in drawn
    for code in drawn:
        assert ResidentCode.parse(code).value == code
    assert [r["successor"] for r in empty.rows("retired_codes")] == ["24727059608"]


def test_a_change_applies_to_the_version_its_transaction_read(backend: Backend) -> None:
    add(backend, resident(1), resident(2, relationship=Relationship.CHILD))
    renamed = dataclasses.replace(resident(1), given_name="太朗")
    change = RecordChange(ChangeReason.NAME_CHANGE, TODAY, TODAY, {"given_name": "太朗"})
    with backend.uow() as uow:
        with pytest.raises(RuntimeError):
            uow.registry.append_change(renamed, change, "clerk-1")  # not read first
        uow.registry.members(HH)  # any read remembers the version
        assert uow.registry.append_change(renamed, change, "clerk-1") == 2
        assert uow.registry.append_change(renamed, change, "clerk-1") == 3
        uow.commit()
    with backend.uow() as uow:
        assert [h.seq for h in uow.registry.history(rid(1))] == [1, 2, 3]
        assert uow.registry.get(rid(1)) == renamed
    assert [r["version"] for r in backend.rows("resident_records")] == [3, 1]


def test_a_change_computed_from_a_stale_read_is_refused(racing: Backend) -> None:
    """A reads; B changes the record and commits; A sees B's row when it reads again (READ
    COMMITTED) but its change still applies to the version it first read, and is refused."""
    add(racing, resident(1))
    by_b = dataclasses.replace(resident(1), my_number="123456789018")
    by_a = dataclasses.replace(resident(1), given_name="太朗")
    with racing.uow() as a:
        a.registry.get(rid(1))
        with racing.uow() as b:
            b.registry.get(rid(1))
            b.registry.append_change(
                by_b, RecordChange(ChangeReason.MY_NUMBER_ASSIGNED, TODAY, TODAY), "cs"
            )
            b.commit()
        assert a.registry.get(rid(1)) == by_b
        with pytest.raises(ConcurrentChangeError):
            a.registry.append_change(
                by_a, RecordChange(ChangeReason.NAME_CHANGE, TODAY, TODAY), "clerk-1"
            )
    with racing.uow() as uow:
        assert uow.registry.get(rid(1)) == by_b
        assert [h.actor_id for h in uow.registry.history(rid(1))] == ["clerk-1", "cs"]


def test_one_active_record_per_resident_code(backend: Backend) -> None:
    add(backend, resident(1))
    twin = resident(2, resident_code=resident(1).resident_code)
    with backend.uow() as uow, pytest.raises(ConcurrentChangeError):
        uow.registry.add_record(twin, first_change(twin), "clerk-1")
    removed = dataclasses.replace(twin, status=RecordStatus.REMOVED)
    add(backend, removed, households=())
    with backend.uow() as uow:
        assert ids(uow.registry.find_by_resident_code(twin.resident_code)) == [rid(1), rid(2)]


# -- transactions ---------------------------------------------------------------------------


def test_leaving_without_commit_discards_everything(backend: Backend) -> None:
    record = resident(1)
    add(backend, record)
    info_change = RecordChange(ChangeReason.MOVE_OUT_PLANNED, TODAY, TODAY)
    info = move_out_certificate_info(
        record, info_change, destination_address=HOME, to_lg_code=INAGI.lg_code
    )
    backend.keep_move_out_info(info, NOW.isoformat())
    before = everything(backend)

    def write_everything(uow: Any) -> None:
        """One of every write a service makes."""
        uow.registry.add_household(household(str(uuid.UUID(int=901))))
        uow.registry.add_record(resident(2), first_change(resident(2)), "clerk-1")
        uow.registry.get(rid(1))
        renamed = dataclasses.replace(record, given_name="太朗")
        uow.registry.append_change(
            renamed, RecordChange(ChangeReason.NAME_CHANGE, TODAY, TODAY), "x"
        )
        uow.registry.save_household(household(status=HouseholdStatus.DISSOLVED))
        uow.registry.allot_resident_code()
        number = uow.seals.next_number()
        uow.seals.add(SealRegistration(number, rid(1), png(), "0" * 64, TODAY))
        uow.outbox.put(identity_info_changed(renamed, info_change), record.resident_code)
        assert uow.move_out_infos.take(record.resident_code, INAGI.lg_code) is not None
        uow.oplog.append(OpLogEntry(NOW, "clerk-1", "counter_clerk", "T01", "x", "y", "ok"))

    with backend.uow() as uow:
        write_everything(uow)
    assert everything(backend) == before

    def fail() -> None:
        with backend.uow() as uow:
            write_everything(uow)
            raise KeyError("the action failed")

    with pytest.raises(KeyError):
        fail()
    assert everything(backend) == before
    with backend.uow() as uow:
        write_everything(uow)
        uow.rollback()
        uow.oplog.append(OpLogEntry(NOW, "clerk-1", "counter_clerk", "T01", "x", "y", "rejected"))
        with pytest.raises(sa.exc.InvalidRequestError):
            uow.commit()  # the block's transaction has ended; the append above is dropped
    assert everything(backend) == before


def test_a_unit_of_work_is_one_transaction_at_a_time(backend: Backend) -> None:
    uow = backend.uow()
    with pytest.raises(RuntimeError):
        uow.commit()
    with uow:
        with pytest.raises(RuntimeError), uow:
            pass
        uow.registry.add_household(household())
        uow.commit()
        uow.registry.add_household(household(str(uuid.UUID(int=901))))  # after commit: dropped
        with pytest.raises(sa.exc.InvalidRequestError):
            uow.commit()
    with uow:  # the same unit of work, a new transaction
        assert uow.registry.get_household(HH) == household()
    assert [h["household_id"] for h in backend.rows("households")] == [HH]


# -- seals, outbox, move-out information, oplog ---------------------------------------------


def test_seal_numbers_are_gap_free_and_one_seal_lives_per_person(backend: Backend) -> None:
    add(backend, resident(1))
    with backend.uow() as uow:
        assert uow.seals.next_number() == "00000001"  # rolled back: not used up
    seal = SealRegistration("00000001", rid(1), png(), "a" * 64, TODAY)
    with backend.uow() as uow:
        assert uow.seals.next_number() == seal.registration_number
        uow.seals.add(seal)
        uow.commit()
    with backend.uow() as uow:
        assert uow.seals.live_for(rid(1)) == seal == uow.seals.get("00000001")
        second = dataclasses.replace(seal, registration_number=uow.seals.next_number())
        assert second.registration_number == "00000002"
        with pytest.raises(ConcurrentChangeError):  # 409: a registration raced this one
            uow.seals.add(second)
    abolished = dataclasses.replace(
        seal, status=SealStatus.ABOLISHED, abolished_on=TODAY, abolish_reason="紛失"
    )
    with backend.uow() as uow:
        uow.seals.save(abolished)
        uow.seals.add(second)
        uow.commit()
    with backend.uow() as uow:
        assert uow.seals.get("00000001") == abolished
        assert uow.seals.live_for(rid(1)) == second
        with pytest.raises(sa.exc.IntegrityError):  # a seal belongs to a record
            uow.seals.add(SealRegistration("00000099", rid(9), png(), "b" * 64, TODAY))


def test_outbox_rows_are_typed_message_bodies_kept_with_their_transaction(
    backend: Backend,
) -> None:
    record = resident(1)
    change = first_change(record)
    events: list[RegistryEvent] = [
        identity_info_changed(record, change),
        move_in_notice(
            dataclasses.replace(record, previous_address="神奈川県藤沢市辻堂1番地"),
            moved_on=TODAY,
            notified_on=TODAY,
            from_lg_code="142051",
        ),
    ]
    with backend.uow() as uow:
        for event in events:
            uow.outbox.put(event, record.resident_code)
        assert backend.rows("outbox") == []  # not before the commit
        uow.commit()
    rows = backend.rows("outbox")
    assert [(r["message_type"], r["schema_version"], r["key"]) for r in rows] == [
        ("identity_info_changed", 2, record.resident_code),
        ("move_in_notice", 2, record.resident_code),
    ]
    assert [r["payload"] for r in rows] == [
        json.dumps(body_of(e), ensure_ascii=False, sort_keys=True) for e in events
    ]
    assert {(r["created_at"], r["delivered_at"]) for r in rows} == {(NOW.isoformat(), None)}
    assert len({r["message_id"] for r in rows}) == 2


def test_move_out_information_is_taken_once_and_replaced_by_a_later_one(
    backend: Backend,
) -> None:
    record = resident(1, my_number="123456789018")
    change = RecordChange(ChangeReason.MOVE_OUT_PLANNED, TODAY, TODAY)
    info = move_out_certificate_info(record, change, destination_address=HOME, to_lg_code="132250")
    backend.keep_move_out_info(info, "2025-03-29T10:00:00+09:00")
    code = record.resident_code
    with backend.uow() as uow:
        assert uow.move_out_infos.take(code, "142051") is None
        assert uow.move_out_infos.take(code, INAGI.lg_code) == json.loads(info.model_dump_json())
        uow.commit()
    with backend.uow() as uow:
        assert uow.move_out_infos.take(code, INAGI.lg_code) is None
    assert [r["used_at"] for r in backend.rows("move_out_infos")] == [NOW.isoformat()]
    later = info.model_copy(update={"destination_address": "東京都稲城市百村5番地"})
    backend.keep_move_out_info(later, "2025-03-30T10:00:00+09:00")
    with backend.uow() as uow:
        taken = uow.move_out_infos.take(code, INAGI.lg_code)
    assert taken is not None and taken["destination_address"] == "東京都稲城市百村5番地"


def test_withdrawn_move_out_information_is_not_taken_and_says_when(backend: Backend) -> None:
    """転出取消 at the origin (`move_out_withdrawn`): what the CS holds is kept, marked withdrawn;
    a later information from the same municipality (a new 転出届) replaces it."""
    record = resident(1, my_number="123456789018")
    change = RecordChange(ChangeReason.MOVE_OUT_PLANNED, TODAY, TODAY)
    info = move_out_certificate_info(record, change, destination_address=HOME, to_lg_code="132250")
    backend.keep_move_out_info(info, "2025-03-29T10:00:00+09:00")
    code = record.resident_code
    backend.withdraw_move_out_info(code, INAGI.lg_code, date(2025, 3, 30))
    with backend.uow() as uow:
        assert uow.move_out_infos.take(code, INAGI.lg_code) is None
        assert uow.move_out_infos.withdrawn_on(code, INAGI.lg_code) == date(2025, 3, 30)
        assert uow.move_out_infos.withdrawn_on(code, "142051") is None
    assert [r["withdrawn_on"] for r in backend.rows("move_out_infos")] == [date(2025, 3, 30)]
    backend.keep_move_out_info(info, "2025-03-31T10:00:00+09:00")
    with backend.uow() as uow:
        assert uow.move_out_infos.withdrawn_on(code, INAGI.lg_code) is None
        assert uow.move_out_infos.take(code, INAGI.lg_code) is not None


def test_oplog_entries_are_rows_of_their_transaction(backend: Backend) -> None:
    entry = OpLogEntry(NOW, "clerk-1", "counter_clerk", "T01", "record_birth", "h:1", "ok", "d")
    with backend.uow() as uow:
        uow.oplog.append(dataclasses.replace(entry, outcome="denied"))
    with backend.uow() as uow:
        uow.oplog.append(entry)
        uow.commit()
    (row,) = backend.rows("oplog")
    assert {k: v for k, v in row.items() if k != "entry_id"} == {
        "at": NOW.isoformat(),
        "actor_id": "clerk-1",
        "role": "counter_clerk",
        "terminal_id": "T01",
        "action": "record_birth",
        "target": "h:1",
        "outcome": "ok",
        "detail": "d",
        "purpose": "",
        "my_number_shown": False,
        # the first entry of the chain (the refused transaction's entry was rolled back)
        "seq": 1,
        "prev_hash": GENESIS,
        "entry_hash": link(entry_fields(entry), 1, GENESIS)["entry_hash"],
    }


# -- the same scenario, the same rows -------------------------------------------------------


def _scenario(backend: Backend) -> None:
    """Every kind of life event the services write, refusals included."""
    head, wife, child = family(backend)
    svc.register_seal(backend.uow(), CLERK, RegisterSeal(head.record_id, png(), TODAY))
    svc.record_relocation(
        backend.uow(),
        CLERK,
        RecordRelocation(
            (head.record_id, wife.record_id, child.record_id), f"{HOME}5", TODAY, TODAY
        ),
    )
    with pytest.raises(DomainRuleError):
        svc.record_birth(
            backend.uow(),
            CLERK,
            RecordBirth(
                person(birth=date(1970, 1, 1)), head.household_id, Relationship.CHILD, TODAY
            ),
        )
    svc.record_move_out(
        backend.uow(),
        CLERK,
        RecordMoveOut(
            (head.record_id, wife.record_id, child.record_id),
            "神奈川県藤沢市鵠沼石上1丁目1番1号",
            date(2025, 4, 5),
            TODAY,
            destination_lg_code="142051",
            card=False,
        ),
    )
    confirm = ConfirmMoveOut(head.resident_code, "神奈川県藤沢市鵠沼石上1丁目1番2号", TODAY, TODAY)
    svc.confirm_move_out(backend.uow(), CS, confirm)
    again = move_in(backend, address=f"{HOME}7")
    svc.record_move_in(
        backend.uow(),
        CLERK,
        RecordMoveIn(
            person=person("佐藤", "花", "サトウ", "ハナ", date(1999, 9, 9), Sex.FEMALE),
            origin=MoveInOrigin.ABROAD,
            address=f"{HOME}8",
            moved_on=TODAY,
            notified_on=TODAY,
            previous_address="アメリカ合衆国",
            placement=NewHousehold(),
        ),
    )
    assert again.is_active


@pytest.mark.parametrize("kind", ["sqlite", POSTGRES])
def test_a_scenario_leaves_the_same_rows_on_sql_as_on_the_fake(
    kind: str, request: pytest.FixtureRequest
) -> None:
    fake = seed(FakeBackend())
    _scenario(fake)
    for sql in _open(request, kind):
        _scenario(seed(sql))
        for table, spec in TABLES.items():
            drop = {spec.autoincrement}

            def kept(rows: list[dict[str, Any]], drop: set[str | None] = drop) -> list[Any]:
                return [{k: v for k, v in r.items() if k not in drop} for r in rows]

            assert kept(sql.rows(table)) == kept(fake.rows(table)), table
