"""The reads provision uses on the 附票本人確認情報 (附票連携): any input is an answer or a
ValidationError naming its field, never anything else; and a copy keeps the 附票's latest change
when a notice of an earlier one arrives after it (on an in-memory SQLite, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from juki.core.clock import JST
from juki.core.errors import ValidationError
from juki.network.fuhyo_link_messages import FuhyoIdentityInfoBody
from juki.nodes.fuhyo_link import apply_fuhyo_identity
from juki.nodes.fuhyo_lookup import fuhyo_identity_by_basic_items, fuhyo_identity_by_code
from juki.nodes.tables import fuhyo_identity_changes, fuhyo_identity_copies

CODE = "24727059608"
NOW = datetime(2025, 4, 1, 9, 0, tzinfo=JST)


def info(**changes: object) -> FuhyoIdentityInfoBody:
    base: dict[str, object] = {
        "resident_code": CODE,
        "family_name": "山田",
        "given_name": "花子",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "birth_date": date(1980, 5, 5),
        "sex": "female",
        "address": "東京都西東京市田無町1番地",
        "status": "active",
        "lg_code": "132250",
        "change_reason": "move_in",
        "changed_on": date(2025, 3, 1),
    }
    return FuhyoIdentityInfoBody.model_validate(base | changes)


@pytest.fixture(scope="module")
def engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine("sqlite://")
    fuhyo_identity_copies.create(engine)
    fuhyo_identity_changes.create(engine)
    with engine.begin() as conn:
        apply_fuhyo_identity(conn, info(), message_id="m1", now=NOW)
        later = info(
            address="東京都稲城市東長沼1番地",
            change_reason="relocation",
            changed_on=date(2025, 3, 20),
        )
        apply_fuhyo_identity(conn, later, message_id="m2", now=NOW)
        earlier = info(
            address="東京都西東京市田無町9番地",
            change_reason="correction",
            changed_on=date(2025, 3, 10),
        )
        apply_fuhyo_identity(conn, earlier, message_id="m3", now=NOW)
    yield engine
    engine.dispose()


def test_a_late_notice_of_an_earlier_change_goes_into_the_history_only(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        (now,) = fuhyo_identity_by_code(conn, CODE)
        (mid,) = fuhyo_identity_by_code(conn, CODE, on=date(2025, 3, 15))
        (first,) = fuhyo_identity_by_code(conn, CODE, on=date(2025, 3, 9))
        assert fuhyo_identity_by_code(conn, CODE, lg_codes=["132292"]) == []
    assert now["address"] == "東京都稲城市東長沼1番地"
    assert mid["address"] == "東京都西東京市田無町9番地"
    assert first["address"] == "東京都西東京市田無町1番地"


@settings(max_examples=60, deadline=None)
@given(code=st.text(max_size=20))
def test_any_resident_code_is_an_answer_or_refused_naming_the_field(
    engine: sa.Engine, code: str
) -> None:
    with engine.connect() as conn:
        refused, found = None, []
        try:
            found = fuhyo_identity_by_code(conn, code)
        except ValidationError as exc:
            refused = exc.field
    assert refused in (None, "resident_code")
    assert all(f["resident_code"] == code for f in found)


@settings(max_examples=60, deadline=None)
@given(
    name_kana=st.text(max_size=30),
    sex=st.one_of(st.none(), st.text(max_size=8)),
    address=st.one_of(st.none(), st.text(max_size=30)),
    on=st.one_of(st.none(), st.dates()),
)
def test_any_four_items_are_an_answer_or_refused_naming_the_field(
    engine: sa.Engine, name_kana: str, sex: str | None, address: str | None, on: date | None
) -> None:
    with engine.connect() as conn:
        refused, found = None, []
        try:
            found = fuhyo_identity_by_basic_items(
                conn,
                name_kana=name_kana,
                birth_date=date(1980, 5, 5),
                sex=sex,
                address_prefix=address,
                on=on,
            )
        except ValidationError as exc:
            refused = exc.field
    assert refused in (None, "name_kana", "sex")
    assert all(f["birth_date"] == "1980-05-05" for f in found)
