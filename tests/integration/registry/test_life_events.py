"""Life events through the real services and storage, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from juki.core.clock import JST, FixedClock
from juki.core.errors import (
    DomainRuleError,
    JukiError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from juki.core.identifiers import MyNumber, ResidentCode
from juki.registry import services as svc
from juki.registry import tables as registry_tables
from juki.registry.commands import (
    AbolishSeal,
    AssignMyNumber,
    ChangeHouseholder,
    ChangeName,
    ConfirmMoveOut,
    CorrectByAuthority,
    EnterByAuthority,
    ForeignItems,
    JoinHousehold,
    MergeHouseholds,
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordBirth,
    RecordDeath,
    RecordMoveIn,
    RecordMoveOut,
    RecordRelocation,
    RegisterSeal,
    RemoveByAuthority,
    SplitHousehold,
)
from juki.registry.identity_info import IDENTITY_FIELDS
from juki.registry.model import (
    ChangeReason,
    ForeignResidentCategory,
    HouseholdStatus,
    Municipality,
    RecordStatus,
    Relationship,
    ResidentRecord,
    Sex,
    fold,
)
from juki.registry.ports import SearchQuery
from juki.registry.seal import SealStatus
from juki.registry.store.municipality import add_allotment, save_municipality
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security import tables as security_tables
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade

TODAY = date(2025, 4, 1)
CLERK = Actor("clerk-1", Role.COUNTER_CLERK, "T01")
SUPERVISOR = Actor("super-1", Role.REGISTRY_SUPERVISOR, "T02")
PREFIX = "東京都稲城市"


class Env:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.clock = FixedClock(datetime(2025, 4, 1, 10, 0, tzinfo=JST))

    def uow(self) -> SqlRegistryUnitOfWork:
        return SqlRegistryUnitOfWork(self.engine, clock=self.clock)

    def count(self, table: sa.Table, where: Any = None) -> int:
        stmt = sa.select(sa.func.count()).select_from(table)
        if where is not None:
            stmt = stmt.where(where)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def counts(self) -> dict[str, int]:
        return {
            t.name: self.count(t)
            for t in (
                registry_tables.resident_records,
                registry_tables.record_changes,
                registry_tables.households,
                registry_tables.outbox,
                registry_tables.seal_registrations,
            )
        }

    def outbox_types(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(registry_tables.outbox.c.message_type).order_by(
                        registry_tables.outbox.c.outbox_id
                    )
                ).scalars()
            )

    def outbox_payloads(self, message_type: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(registry_tables.outbox.c.payload)
                .where(registry_tables.outbox.c.message_type == message_type)
                .order_by(registry_tables.outbox.c.outbox_id)
            ).scalars()
            return [json.loads(r) for r in rows]

    def get(self, record_id: str) -> ResidentRecord:
        return svc.get_record(self.uow(), CLERK, record_id)

    def history(self, record_id: str) -> list[Any]:
        return list(svc.record_history(self.uow(), CLERK, record_id))


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        save_municipality(conn, Municipality("132250", "東京都", "稲城市"))
        add_allotment(conn, 1322500000, 1322599999, "test")
    yield Env(engine)
    engine.dispose()


def person(
    family: str = "山田",
    given: str = "太郎",
    family_kana: str = "ヤマダ",
    given_kana: str = "タロウ",
    birth: date = date(1980, 5, 5),
    sex: Sex = Sex.MALE,
    **extra: Any,
) -> PersonalItems:
    return PersonalItems(
        family_name=family,
        given_name=given,
        family_name_kana=family_kana,
        given_name_kana=given_kana,
        birth_date=birth,
        sex=sex,
        honseki=extra.pop("honseki", "東京都稲城市東長沼2111番地"),
        koseki_head=extra.pop("koseki_head", "山田　太郎"),
        **extra,
    )


def move_in(
    env: Env,
    p: PersonalItems | None = None,
    *,
    placement: JoinHousehold | NewHousehold | None = None,
    address: str = f"{PREFIX}東長沼1丁目1番1号",
    code_body: str = "2472705960",
    number_body: str = "12345678901",
) -> ResidentRecord:
    return svc.record_move_in(
        env.uow(),
        CLERK,
        RecordMoveIn(
            person=p or person(),
            origin=MoveInOrigin.CERTIFICATE,
            address=address,
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="神奈川県藤沢市鵠沼海岸1丁目2番3号",
            placement=placement or NewHousehold(),
            resident_code=ResidentCode.complete(code_body).value,
            my_number=MyNumber.complete(number_body).value,
            move_out_certificate_number="142051-0001",
            previous_lg_code="142051",
        ),
    )


def family(env: Env) -> tuple[ResidentRecord, ResidentRecord, ResidentRecord]:
    """A householder, his wife (moved in with him) and their newborn child."""
    head = move_in(env)
    wife = svc.record_move_in(
        env.uow(),
        CLERK,
        RecordMoveIn(
            person=person("山田", "花子", "ヤマダ", "ハナコ", date(1982, 7, 7), Sex.FEMALE),
            origin=MoveInOrigin.CERTIFICATE,
            move_out_certificate_number="142051-0002",
            address=head.address,
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="神奈川県藤沢市鵠沼海岸1丁目2番3号",
            placement=JoinHousehold(head.household_id, Relationship.WIFE),
            resident_code=ResidentCode.complete("2484601622").value,
            my_number=MyNumber.complete("45497236486").value,
            previous_lg_code="142051",
        ),
    )
    child = svc.record_birth(
        env.uow(),
        CLERK,
        RecordBirth(
            person=person("山田", "一郎", "ヤマダ", "イチロウ", date(2025, 3, 28), Sex.MALE),
            household_id=head.household_id,
            relationship=Relationship.CHILD,
            notified_on=date(2025, 3, 31),
        ),
    )
    return head, wife, child


def png(size: int = 64) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def assert_projection_is_fold(env: Env) -> None:
    with env.engine.connect() as conn:
        ids = conn.execute(sa.select(registry_tables.resident_records.c.record_id)).scalars().all()
    for rid in ids:
        assert fold(c.change for c in env.history(rid)) == env.get(rid)


# -- move-in and birth ---------------------------------------------------------------------


def test_move_in_creates_record_history_outbox_and_oplog(env: Env) -> None:
    record = move_in(env)
    assert record.is_active and record.relationship is Relationship.HOUSEHOLDER
    assert record.resident_since == date(2025, 3, 20)
    history = env.history(record.record_id)
    assert [h.change.reason for h in history] == [ChangeReason.MOVE_IN]
    assert history[0].actor_id == "clerk-1"
    assert env.outbox_types() == ["identity_info_changed", "fuhyo_notice", "move_in_notice"]
    assert env.count(security_tables.oplog, security_tables.oplog.c.outcome == "ok") >= 1


def test_birth_allots_a_valid_resident_code_and_awaits_my_number(env: Env) -> None:
    _, _, child = family(env)
    assert ResidentCode.parse(child.resident_code).value == child.resident_code
    assert child.resident_code.startswith("1322500000")
    assert child.my_number is None
    assert child.relationship is Relationship.CHILD
    assert env.outbox_types().count("identity_info_changed") == 3


def test_birth_in_the_future_is_refused_and_changes_nothing(env: Env) -> None:
    head = move_in(env)
    before = env.counts()
    with pytest.raises(ValidationError) as err:
        svc.record_birth(
            env.uow(),
            CLERK,
            RecordBirth(
                person=person(given="次郎", given_kana="ジロウ", birth=TODAY + timedelta(days=1)),
                household_id=head.household_id,
                relationship=Relationship.CHILD,
                notified_on=TODAY,
            ),
        )
    assert err.value.field == "birth_date" or err.value.field == "effective_on"
    assert err.value.rule == "future_date"
    assert env.counts() == before
    assert env.count(security_tables.oplog, security_tables.oplog.c.outcome == "rejected") == 1


def test_child_born_before_householder_is_refused(env: Env) -> None:
    head = move_in(env)
    with pytest.raises(DomainRuleError) as err:
        svc.record_birth(
            env.uow(),
            CLERK,
            RecordBirth(
                person=person(given="次郎", given_kana="ジロウ", birth=date(1970, 1, 1)),
                household_id=head.household_id,
                relationship=Relationship.CHILD,
                notified_on=TODAY,
            ),
        )
    assert err.value.rule == "younger_than_householder"


def test_second_spouse_is_refused(env: Env) -> None:
    head, _, _ = family(env)
    with pytest.raises(DomainRuleError) as err:
        move_in(
            env,
            person("佐藤", "美咲", "サトウ", "ミサキ", date(1985, 1, 1), Sex.FEMALE),
            placement=JoinHousehold(head.household_id, Relationship.WIFE),
            code_body="2520801764",
            number_body="22222222222",
        )
    assert err.value.rule == "one_spouse"


def test_move_in_address_outside_the_municipality_is_refused(env: Env) -> None:
    with pytest.raises(DomainRuleError) as err:
        move_in(env, address="東京都府中市宮西町1丁目1番地")
    assert (err.value.field, err.value.rule) == ("address", "outside_municipality")
    assert env.counts()["resident_records"] == 0


def test_move_in_with_certificate_needs_the_resident_code(env: Env) -> None:
    with pytest.raises(ValidationError) as err:
        svc.record_move_in(
            env.uow(),
            CLERK,
            RecordMoveIn(
                person=person(),
                origin=MoveInOrigin.CERTIFICATE,
                address=f"{PREFIX}東長沼1丁目1番1号",
                moved_on=date(2025, 3, 20),
                notified_on=date(2025, 3, 25),
                previous_address="神奈川県藤沢市鵠沼海岸1丁目2番3号",
                placement=NewHousehold(),
                previous_lg_code="142051",
                move_out_certificate_number="X",
            ),
        )
    assert (err.value.field, err.value.rule) == ("resident_code", "required")


def test_same_resident_code_cannot_be_active_twice(env: Env) -> None:
    move_in(env)
    with pytest.raises(DomainRuleError) as err:
        move_in(env)
    assert err.value.rule == "already_resident"


def test_bad_check_digit_names_the_field(env: Env) -> None:
    with pytest.raises(ValidationError) as err:
        svc.record_move_in(
            env.uow(),
            CLERK,
            dataclasses.replace(
                RecordMoveIn(
                    person=person(),
                    origin=MoveInOrigin.ABROAD,
                    address=f"{PREFIX}東長沼1丁目1番1号",
                    moved_on=date(2025, 3, 20),
                    notified_on=date(2025, 3, 25),
                    previous_address="アメリカ合衆国",
                    placement=NewHousehold(),
                ),
                resident_code="24727059609",
            ),
        )
    assert (err.value.field, err.value.rule) == ("resident_code", "check_digit")


def test_foreign_resident_from_abroad(env: Env) -> None:
    record = svc.record_move_in(
        env.uow(),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                family_name="NGUYEN",
                given_name="VAN AN",
                family_name_kana="グエン",
                given_name_kana="ヴァン　アン",
                birth_date=date(1998, 2, 3),
                sex=Sex.MALE,
                foreign=ForeignItems(
                    nationality="ベトナム",
                    category=ForeignResidentCategory.MID_LONG_TERM,
                    residence_status="技術・人文知識・国際業務",
                    period_of_stay="3年",
                    stay_expiry=date(2028, 3, 1),
                    residence_card_number="ab12345678cd",
                ),
            ),
            origin=MoveInOrigin.ABROAD,
            address=f"{PREFIX}若葉台2丁目3番4号",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 21),
            previous_address="ベトナム社会主義共和国",
            placement=NewHousehold(),
        ),
    )
    assert record.is_foreign and record.residence_card_number == "AB12345678CD"
    assert env.history(record.record_id)[0].change.reason is ChangeReason.IMMIGRATION
    with pytest.raises(ValidationError) as err:
        svc.record_move_in(
            env.uow(),
            CLERK,
            RecordMoveIn(
                person=PersonalItems(
                    "LEE",
                    "MIN",
                    "リー",
                    "ミン",
                    date(1990, 1, 1),
                    Sex.FEMALE,
                    foreign=ForeignItems(
                        "韓国", ForeignResidentCategory.MID_LONG_TERM, residence_card_number="123"
                    ),
                ),
                origin=MoveInOrigin.ABROAD,
                address=f"{PREFIX}若葉台2丁目3番5号",
                moved_on=date(2025, 3, 20),
                notified_on=date(2025, 3, 21),
                previous_address="大韓民国",
                placement=NewHousehold(),
            ),
        )
    assert (err.value.field, err.value.rule) == ("residence_card_number", "format")


def test_name_with_ivs_survives_storage(env: Env) -> None:
    name = "葛\U000e0102西"
    record = move_in(env, person(family=name, family_kana="カサイ"))
    assert env.get(record.record_id).family_name == name
    assert env.get(record.record_id).family_name != "葛西"


# -- death, move-out, confirmation ---------------------------------------------------------


def test_death_of_householder_needs_a_new_householder(env: Env) -> None:
    head, wife, child = family(env)
    with pytest.raises(ValidationError) as err:
        svc.record_death(env.uow(), CLERK, RecordDeath(head.record_id, TODAY, TODAY))
    assert (err.value.field, err.value.rule) == ("new_householder_id", "required")
    dead = svc.record_death(
        env.uow(),
        CLERK,
        RecordDeath(
            head.record_id,
            TODAY,
            TODAY,
            new_householder_id=wife.record_id,
            relationships={child.record_id: Relationship.CHILD},
        ),
    )
    assert dead.status is RecordStatus.REMOVED and dead.removal_reason is ChangeReason.DEATH
    assert env.get(wife.record_id).relationship is Relationship.HOUSEHOLDER
    with pytest.raises(DomainRuleError) as err2:
        svc.change_name(
            env.uow(),
            CLERK,
            ChangeName(head.record_id, "鈴木", "太郎", "スズキ", "タロウ", TODAY, TODAY),
        )
    assert err2.value.rule == "removed_record"
    assert_projection_is_fold(env)


def test_death_before_birth_is_refused(env: Env) -> None:
    head = move_in(env)
    with pytest.raises(ValidationError) as err:
        svc.record_death(env.uow(), CLERK, RecordDeath(head.record_id, date(1970, 1, 1), TODAY))
    assert err.value.rule == "before_birth_date"


def test_last_member_leaving_dissolves_the_household(env: Env) -> None:
    head = move_in(env)
    svc.record_death(env.uow(), CLERK, RecordDeath(head.record_id, TODAY, TODAY))
    household, members = svc.household_view(env.uow(), CLERK, head.household_id)
    assert household.status is HouseholdStatus.DISSOLVED and not members


def test_move_out_then_confirmation_keeps_the_planned_values(env: Env) -> None:
    head, wife, child = family(env)
    moved = svc.record_move_out(
        env.uow(),
        CLERK,
        RecordMoveOut(
            record_ids=(head.record_id, wife.record_id, child.record_id),
            destination_address="神奈川県藤沢市鵠沼石上1丁目1番1号",
            planned_on=date(2025, 4, 10),
            notified_on=TODAY,
        ),
    )
    assert {r.status for r in moved} == {RecordStatus.REMOVED}
    confirm = ConfirmMoveOut(
        head.resident_code, "神奈川県藤沢市鵠沼石上1丁目1番2号", date(2025, 3, 31), TODAY
    )
    system = Actor.system("cs")
    svc.confirm_move_out(env.uow(), system, confirm)
    latest = svc.confirm_move_out(
        env.uow(), system, dataclasses.replace(confirm, confirmed_on=TODAY)
    )
    assert latest.move_out_planned_address == "神奈川県藤沢市鵠沼石上1丁目1番1号"
    assert latest.move_out_confirmed_address == "神奈川県藤沢市鵠沼石上1丁目1番2号"
    assert latest.move_out_confirmed_on == TODAY
    reasons = [h.change.reason for h in env.history(head.record_id)]
    assert reasons[-3:] == [
        ChangeReason.MOVE_OUT_PLANNED,
        ChangeReason.MOVE_OUT_CONFIRMED,
        ChangeReason.MOVE_OUT_CONFIRMED,
    ]
    assert_projection_is_fold(env)


def test_move_out_inside_the_municipality_is_a_relocation(env: Env) -> None:
    head = move_in(env)
    with pytest.raises(DomainRuleError) as err:
        svc.record_move_out(
            env.uow(),
            CLERK,
            RecordMoveOut((head.record_id,), f"{PREFIX}若葉台1丁目1番1号", TODAY, TODAY),
        )
    assert err.value.rule == "inside_municipality"


def test_confirmation_for_unknown_person_is_not_found(env: Env) -> None:
    with pytest.raises(NotFoundError):
        svc.confirm_move_out(
            env.uow(),
            Actor.system("cs"),
            ConfirmMoveOut(ResidentCode.complete("9999999999").value, "大阪府", TODAY, TODAY),
        )


# -- relocation and household changes ------------------------------------------------------


def test_whole_household_relocation_moves_everyone(env: Env) -> None:
    head, wife, child = family(env)
    new = f"{PREFIX}百村5番地"
    out = svc.record_relocation(
        env.uow(),
        CLERK,
        RecordRelocation((head.record_id, wife.record_id, child.record_id), new, TODAY, TODAY),
    )
    assert {r.address for r in out} == {new}
    household, _ = svc.household_view(env.uow(), CLERK, head.household_id)
    assert household.address == new


def test_partial_relocation_starts_a_new_household(env: Env) -> None:
    head, wife, child = family(env)
    new = f"{PREFIX}百村6番地"
    out = svc.record_relocation(
        env.uow(),
        CLERK,
        RecordRelocation(
            (wife.record_id, child.record_id),
            new,
            TODAY,
            TODAY,
            new_householder_id=wife.record_id,
            relationships={child.record_id: Relationship.CHILD},
        ),
    )
    assert {r.household_id for r in out} != {head.household_id}
    assert env.get(head.record_id).relationship is Relationship.HOUSEHOLDER
    _, members = svc.household_view(env.uow(), CLERK, head.household_id)
    assert [m.record_id for m in members] == [head.record_id]


def test_split_merge_and_change_of_householder(env: Env) -> None:
    head, wife, child = family(env)
    split = svc.split_household(
        env.uow(),
        CLERK,
        SplitHousehold(
            (wife.record_id, child.record_id),
            wife.record_id,
            {child.record_id: Relationship.CHILD},
            TODAY,
            TODAY,
        ),
    )
    new_household = split[0].household_id
    assert new_household != head.household_id
    merged = svc.merge_households(
        env.uow(),
        CLERK,
        MergeHouseholds(
            new_household,
            head.household_id,
            {wife.record_id: Relationship.WIFE, child.record_id: Relationship.CHILD},
            TODAY,
            TODAY,
        ),
    )
    assert {r.household_id for r in merged} == {head.household_id}
    household, _ = svc.household_view(env.uow(), CLERK, new_household)
    assert household.status is HouseholdStatus.DISSOLVED
    changed = svc.change_householder(
        env.uow(),
        CLERK,
        ChangeHouseholder(
            head.household_id,
            wife.record_id,
            {head.record_id: Relationship.HUSBAND, child.record_id: Relationship.CHILD},
            TODAY,
            TODAY,
        ),
    )
    roles = {r.record_id: r.relationship for r in changed}
    assert roles[wife.record_id] is Relationship.HOUSEHOLDER
    assert roles[head.record_id] is Relationship.HUSBAND
    assert_projection_is_fold(env)


def test_change_of_householder_needs_every_relationship(env: Env) -> None:
    head, wife, _child = family(env)
    with pytest.raises(ValidationError) as err:
        svc.change_householder(
            env.uow(),
            CLERK,
            ChangeHouseholder(
                head.household_id,
                wife.record_id,
                {head.record_id: Relationship.HUSBAND},
                TODAY,
                TODAY,
            ),
        )
    assert (err.value.field, err.value.rule) == ("relationships", "required")


def test_relationship_must_match_sex(env: Env) -> None:
    head = move_in(env)
    with pytest.raises(DomainRuleError) as err:
        move_in(
            env,
            person("山田", "次郎", "ヤマダ", "ジロウ", date(1950, 1, 1), Sex.MALE),
            placement=JoinHousehold(head.household_id, Relationship.MOTHER),
            code_body="2520801764",
            number_body="22222222222",
        )
    assert err.value.rule == "sex_mismatch"


# -- names, search, authority --------------------------------------------------------------


def test_name_change_is_found_by_the_new_reading(env: Env) -> None:
    _, wife, _ = family(env)
    svc.change_name(
        env.uow(),
        CLERK,
        ChangeName(
            wife.record_id,
            "田中",
            "花子",
            "タナカ",
            "ハナコ",
            TODAY,
            TODAY,
            former_surname="山田",
            former_surname_kana="ヤマダ",
        ),
    )
    hits = svc.search_records(env.uow(), CLERK, SearchQuery(name_kana="たなか はなこ"))
    assert [h.record_id for h in hits] == [wife.record_id]
    assert hits[0].former_surname == "山田"
    half_width = svc.search_records(env.uow(), CLERK, SearchQuery(name_kana="ﾀﾅｶ"))
    assert [h.record_id for h in half_width] == [wife.record_id]


def test_search_needs_a_criterion(env: Env) -> None:
    with pytest.raises(ValidationError) as err:
        svc.search_records(env.uow(), CLERK, SearchQuery())
    assert err.value.rule == "required"


def test_clerk_cannot_act_by_authority_and_the_refusal_is_logged(env: Env) -> None:
    head = move_in(env)
    before = env.counts()
    with pytest.raises(PermissionDeniedError):
        svc.correct_by_authority(
            env.uow(),
            CLERK,
            CorrectByAuthority(head.record_id, {"given_name": "太朗"}, TODAY, "誤記"),
        )
    assert env.counts() == before
    assert env.count(security_tables.oplog, security_tables.oplog.c.outcome == "denied") == 1


def test_correction_by_authority_keeps_history(env: Env) -> None:
    head = move_in(env)
    fixed = svc.correct_by_authority(
        env.uow(),
        SUPERVISOR,
        CorrectByAuthority(
            head.record_id, {"given_name": "太朗", "nhi_insured_since": "2025-03-20"}, TODAY, "誤記"
        ),
    )
    assert fixed.given_name == "太朗" and fixed.nhi_insured_since == date(2025, 3, 20)
    history = env.history(head.record_id)
    assert history[0].change.fields["given_name"] == "太郎"
    assert history[-1].change.note == "誤記"
    with pytest.raises(ValidationError) as err:
        svc.correct_by_authority(
            env.uow(),
            SUPERVISOR,
            CorrectByAuthority(head.record_id, {"resident_code": "24727059608"}, TODAY, "x"),
        )
    assert (err.value.field, err.value.rule) == ("fields.resident_code", "not_correctable")
    assert_projection_is_fold(env)


def test_entry_and_removal_by_authority(env: Env) -> None:
    entered = svc.enter_by_authority(
        env.uow(),
        SUPERVISOR,
        EnterByAuthority(
            person(), f"{PREFIX}矢野口1番地", date(2024, 1, 1), NewHousehold(), "実態調査"
        ),
    )
    assert env.history(entered.record_id)[0].change.reason is ChangeReason.ENTRY_BY_AUTHORITY
    removed = svc.remove_by_authority(
        env.uow(), SUPERVISOR, RemoveByAuthority(entered.record_id, TODAY, "居住実態なし")
    )
    assert removed.removal_reason is ChangeReason.REMOVAL_BY_AUTHORITY
    hits = svc.search_records(
        env.uow(), CLERK, SearchQuery(name_kana="ヤマダ", include_removed=True)
    )
    assert [h.record_id for h in hits] == [entered.record_id]


def test_my_number_assignment_once(env: Env) -> None:
    _, _, child = family(env)
    number = MyNumber.complete("98765432101").value
    done = svc.assign_my_number(
        env.uow(), Actor.system("cs"), AssignMyNumber(child.record_id, number)
    )
    assert done.my_number == number
    with pytest.raises(DomainRuleError) as err:
        svc.assign_my_number(
            env.uow(),
            Actor.system("cs"),
            AssignMyNumber(child.record_id, MyNumber.complete("11111111111").value),
        )
    assert err.value.rule == "already_assigned"
    with pytest.raises(PermissionDeniedError):
        svc.assign_my_number(env.uow(), CLERK, AssignMyNumber(child.record_id, number))


# -- seals -----------------------------------------------------------------------------------


def test_seal_register_abolish_and_rules(env: Env) -> None:
    head, _, child = family(env)
    seal = svc.register_seal(env.uow(), CLERK, RegisterSeal(head.record_id, png(), TODAY))
    assert seal.is_live and len(seal.registration_number) == 8
    with pytest.raises(DomainRuleError) as err:
        svc.register_seal(env.uow(), CLERK, RegisterSeal(head.record_id, png(80), TODAY))
    assert err.value.rule == "one_seal"
    with pytest.raises(DomainRuleError) as err:
        svc.register_seal(env.uow(), CLERK, RegisterSeal(child.record_id, png(), TODAY))
    assert err.value.rule == "seal_min_age"
    with pytest.raises(ValidationError) as verr:
        svc.register_seal(env.uow(), CLERK, RegisterSeal(head.record_id, b"GIF89a....", TODAY))
    assert (verr.value.field, verr.value.rule) == ("image_png", "png")
    gone = svc.abolish_seal(env.uow(), CLERK, AbolishSeal(seal.registration_number, TODAY, "紛失"))
    assert gone.status is SealStatus.ABOLISHED
    with pytest.raises(DomainRuleError):
        svc.abolish_seal(env.uow(), CLERK, AbolishSeal(seal.registration_number, TODAY, "x"))
    again = svc.register_seal(env.uow(), CLERK, RegisterSeal(head.record_id, png(80), TODAY))
    assert again.registration_number != seal.registration_number


def test_death_abolishes_the_live_seal(env: Env) -> None:
    head = move_in(env)
    svc.register_seal(env.uow(), CLERK, RegisterSeal(head.record_id, png(), TODAY))
    svc.record_death(env.uow(), CLERK, RecordDeath(head.record_id, TODAY, TODAY))
    assert svc.live_seal(env.uow(), CLERK, head.record_id) is None


# -- the oplog seam ----------------------------------------------------------------------------


class _BrokenOpLog:
    def append(self, entry: object) -> None:
        raise JukiError("oplog disk full")


class _UowWithBrokenLog(SqlRegistryUnitOfWork):
    def __enter__(self) -> _UowWithBrokenLog:
        super().__enter__()
        self.oplog = _BrokenOpLog()  # type: ignore[assignment]
        return self


def test_a_failed_oplog_write_rolls_the_change_back(env: Env) -> None:
    move_in_cmd = RecordMoveIn(
        person=person(),
        origin=MoveInOrigin.ABROAD,
        address=f"{PREFIX}東長沼1丁目1番1号",
        moved_on=date(2025, 3, 20),
        notified_on=date(2025, 3, 25),
        previous_address="アメリカ合衆国",
        placement=NewHousehold(),
    )
    with pytest.raises(JukiError, match="oplog disk full"):
        svc.record_move_in(_UowWithBrokenLog(env.engine, clock=env.clock), CLERK, move_in_cmd)
    assert env.counts() == dict.fromkeys(env.counts(), 0)


def test_outbox_carries_identity_info_only(env: Env) -> None:
    """The registry's outbox is its whole interface to the CS: identity_info and notices."""
    family(env)
    identity = set(IDENTITY_FIELDS) | {"lg_code", "change_reason", "changed_on"}
    allowed = {
        "identity_info_changed": {"identity"},
        "move_in_notice": {
            "resident_code",
            "new_address",
            "moved_on",
            "notified_on",
            "from_lg_code",
            "to_lg_code",
        },
        # 附票記載事項通知 (法第19条) is the one notice that carries 本籍 and 筆頭者.
        "fuhyo_notice": (identity - {"my_number", "lg_code"})
        | {"honseki", "koseki_head", "address_since", "from_lg_code"},
    }
    types = set(env.outbox_types())
    assert types == set(allowed)
    for message_type, keys in allowed.items():
        for payload in env.outbox_payloads(message_type):
            assert set(payload) == keys
    for payload in env.outbox_payloads("identity_info_changed"):
        assert set(payload["identity"]) == identity


def test_card_move_out_sends_the_certificate_info_ahead(env: Env) -> None:
    head = move_in(env)
    svc.record_move_out(
        env.uow(),
        CLERK,
        RecordMoveOut(
            (head.record_id,),
            "神奈川県藤沢市鵠沼石上1丁目1番1号",
            date(2025, 4, 5),
            TODAY,
            destination_lg_code="142051",
            card=True,
        ),
    )
    (info,) = env.outbox_payloads("move_out_certificate_info")
    assert info["to_lg_code"] == "142051"
    assert info["from_lg_code"] == "132250"
    assert info["identity"]["resident_code"] == head.resident_code
    assert set(info) == {
        "identity",
        "destination_address",
        "planned_on",
        "from_lg_code",
        "to_lg_code",
    }


def test_card_move_out_needs_a_destination_municipality(env: Env) -> None:
    head = move_in(env)
    with pytest.raises(ValidationError) as err:
        svc.record_move_out(
            env.uow(),
            CLERK,
            RecordMoveOut((head.record_id,), "神奈川県藤沢市鵠沼1番地", TODAY, TODAY, card=True),
        )
    assert (err.value.field, err.value.rule) == ("destination_lg_code", "required")


def _card_move_in(env: Env, p: PersonalItems, number: str) -> ResidentRecord:
    return svc.record_move_in(
        env.uow(),
        CLERK,
        RecordMoveIn(
            person=p,
            origin=MoveInOrigin.CARD,
            address=f"{PREFIX}平尾1丁目1番1号",
            moved_on=date(2025, 3, 30),
            notified_on=TODAY,
            previous_address="神奈川県藤沢市鵠沼海岸1丁目2番3号",
            placement=NewHousehold(),
            resident_code="24727059608",
            my_number=number,
            previous_lg_code="142051",
        ),
    )


def test_card_move_in_needs_the_move_out_info_and_uses_it_once(env: Env) -> None:
    number = MyNumber.complete("12345678901").value
    p = person()
    with pytest.raises(DomainRuleError) as err:
        _card_move_in(env, p, number)
    assert err.value.rule == "move_out_info_missing"
    body = {"identity": {"birth_date": p.birth_date.isoformat(), "my_number": number}}
    with env.engine.begin() as conn:
        conn.execute(
            registry_tables.move_out_infos.insert().values(
                resident_code="24727059608",
                from_lg_code="142051",
                body=json.dumps(body),
                received_at="2025-03-29T10:00:00+09:00",
            )
        )
    with pytest.raises(DomainRuleError) as err:
        _card_move_in(env, p, MyNumber.complete("99999999999").value)
    assert err.value.rule == "move_out_info_mismatch"
    record = _card_move_in(env, p, number)
    assert record.is_active
    with env.engine.connect() as conn:
        used = conn.execute(sa.select(registry_tables.move_out_infos.c.used_at)).scalar_one()
    assert used is not None
