"""Every table is classified, and only identity_info may leave the municipality."""

from __future__ import annotations

import dataclasses
from datetime import date

from juki.registry.identity_info import IDENTITY_FIELDS, IdentityInfo
from juki.registry.model import ChangeReason, RecordStatus, Sex
from juki.storage.tables import TABLE_CLASSES, metadata, resident_records


def test_every_table_is_classified() -> None:
    assert set(TABLE_CLASSES) == set(metadata.tables)
    assert set(TABLE_CLASSES.values()) <= {
        "config",
        "personal",
        "identity_info",
        "audit",
        "security",
        "network",
        "fuhyo",
    }


def test_identity_fields_are_record_columns() -> None:
    assert set(IDENTITY_FIELDS) <= set(resident_records.c.keys())


def test_identity_info_payload_carries_no_other_record_column() -> None:
    info = IdentityInfo(
        resident_code="24727059608",
        my_number=None,
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=date(1980, 1, 1),
        sex=Sex.MALE,
        address="東京都稲城市東長沼1番地",
        status=RecordStatus.ACTIVE,
        lg_code="132250",
        change_reason=ChangeReason.MOVE_IN,
        changed_on=date(2025, 1, 1),
    )
    payload = info.to_payload()
    assert set(payload) == {f.name for f in dataclasses.fields(IdentityInfo)}
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
        "former_surname",
        "previous_address",
    ):
        assert private not in payload
