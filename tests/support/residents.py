"""The people and the municipality the registry's scenario tests share: 稲城市, its clerks, a
householder who moves in, his family, a seal impression.

Written once here so that the unit tests on the fake and the integration tests on SQL tell the
same stories with the same data.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from PIL import Image

from juki.core.identifiers import MyNumber, ResidentCode
from juki.registry import services as svc
from juki.registry.commands import (
    JoinHousehold,
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordBirth,
    RecordMoveIn,
)
from juki.registry.model import Municipality, RecordedChange, Relationship, ResidentRecord, Sex
from juki.security.actors import Actor
from juki.security.permissions import Role
from support.backends import Backend

TODAY = date(2025, 4, 1)
CLERK = Actor("clerk-1", Role.COUNTER_CLERK, "T01")
SUPERVISOR = Actor("super-1", Role.REGISTRY_SUPERVISOR, "T02")
CS = Actor.system("cs")
INAGI = Municipality("132250", "東京都", "稲城市")
PREFIX = INAGI.address_prefix
HOME = f"{PREFIX}東長沼1丁目1番1号"
FUJISAWA = "142051"  # where the family moved in from
FUJISAWA_ADDRESS = "神奈川県藤沢市鵠沼海岸1丁目2番3号"
# The resident-code bodies 稲城市 was allotted (the first code drawn is 1322500000 + check).
ALLOTMENT = (1322500000, 1322599999)


def seed(backend: Backend) -> Backend:
    """What `juki seed` gives a registry before any resident: its municipality and codes."""
    backend.save_municipality(INAGI)
    backend.add_allotment(*ALLOTMENT, "test")
    return backend


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


def move_in_command(
    p: PersonalItems | None = None,
    *,
    placement: JoinHousehold | NewHousehold | None = None,
    address: str = HOME,
    code_body: str = "2472705960",
    number_body: str = "12345678901",
    certificate: str = "142051-0001",
) -> RecordMoveIn:
    """転入 with a 転出証明書 from 藤沢市, on 2025-03-20, notified on 2025-03-25."""
    return RecordMoveIn(
        person=p or person(),
        origin=MoveInOrigin.CERTIFICATE,
        address=address,
        moved_on=date(2025, 3, 20),
        notified_on=date(2025, 3, 25),
        previous_address=FUJISAWA_ADDRESS,
        placement=placement or NewHousehold(),
        resident_code=ResidentCode.complete(code_body).value,
        my_number=MyNumber.complete(number_body).value,
        move_out_certificate_number=certificate,
        previous_lg_code=FUJISAWA,
    )


def move_in(backend: Backend, p: PersonalItems | None = None, **kwargs: Any) -> ResidentRecord:
    return svc.record_move_in(backend.uow(), CLERK, move_in_command(p, **kwargs))


def family(backend: Backend) -> tuple[ResidentRecord, ResidentRecord, ResidentRecord]:
    """A householder, his wife (moved in with him) and their newborn child."""
    head = move_in(backend)
    wife = move_in(
        backend,
        person("山田", "花子", "ヤマダ", "ハナコ", date(1982, 7, 7), Sex.FEMALE),
        placement=JoinHousehold(head.household_id, Relationship.WIFE),
        address=head.address,
        code_body="2484601622",
        number_body="45497236486",
        certificate="142051-0002",
    )
    child = svc.record_birth(
        backend.uow(),
        CLERK,
        RecordBirth(
            person=person("山田", "一郎", "ヤマダ", "イチロウ", date(2025, 3, 28), Sex.MALE),
            household_id=head.household_id,
            relationship=Relationship.CHILD,
            notified_on=date(2025, 3, 31),
        ),
    )
    return head, wife, child


def get(backend: Backend, record_id: str) -> ResidentRecord:
    return svc.get_record(backend.uow(), CLERK, record_id)


def history(backend: Backend, record_id: str) -> list[RecordedChange]:
    return list(svc.record_history(backend.uow(), CLERK, record_id))


def png(size: int = 64) -> bytes:
    """A seal impression (印影) of `size` pixels square."""
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()
