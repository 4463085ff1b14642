"""Every table is classified, and only identity_info may leave the municipality."""

from __future__ import annotations

from datetime import date

from juki.network.messages import IdentityInfoBody
from juki.registry.identity_info import IDENTITY_FIELDS, identity_info_of
from juki.registry.model import ChangeReason, RecordChange, Relationship, ResidentRecord, Sex
from juki.registry.tables import resident_records
from juki.storage.metadata import TABLE_CLASSES, table_class
from support.schema import all_tables


def test_every_table_is_classified() -> None:
    tables = all_tables().tables.values()
    assert tables
    for table in tables:
        assert table_class(table) in TABLE_CLASSES, table.name


def test_identity_fields_are_record_columns() -> None:
    assert set(IDENTITY_FIELDS) <= set(resident_records.c.keys())


def test_identity_info_carries_no_other_record_column() -> None:
    record = ResidentRecord(
        record_id="r1",
        lg_code="132250",
        resident_code="24727059608",
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=date(1980, 1, 1),
        sex=Sex.MALE,
        household_id="h1",
        relationship=Relationship.HOUSEHOLDER,
        resident_since=date(2020, 1, 1),
        address="東京都稲城市東長沼1番地",
        address_since=date(2020, 1, 1),
        honseki="東京都稲城市東長沼2111番地",
        koseki_head="山田　太郎",
        former_surname="佐藤",
        former_surname_kana="サトウ",
        nationality="日本",
        previous_address="神奈川県藤沢市鵠沼海岸1丁目2番3号",
    )
    info = identity_info_of(
        record, RecordChange(ChangeReason.MOVE_IN, date(2025, 1, 1), date(2025, 1, 1))
    )
    payload = info.model_dump(mode="json")
    assert set(payload) == set(IdentityInfoBody.model_fields)
    record_columns = set(resident_records.c.keys())
    leaked = (set(payload) & record_columns) - set(IDENTITY_FIELDS) - {"lg_code"}
    assert leaked == set()
    # honseki, household, foreign-resident and welfare items never appear
    for private in (
        "honseki",
        "koseki_head",
        "household_id",
        "relationship",
        "nationality",
        "residence_card_number",
        "previous_address",
    ):
        assert private not in payload
    # the 旧氏 does, as part of 氏名 (identity_info v2, 令第30条の13)
    assert (payload["former_surname"], payload["former_surname_kana"]) == ("佐藤", "サトウ")
