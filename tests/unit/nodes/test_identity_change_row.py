"""A history row's values line up with identity_changes' columns, whatever their order."""

from __future__ import annotations

from datetime import date

from juki.core.text import normalize_kana
from juki.network.messages import IdentityInfoBody
from juki.nodes.identity_load import CHANGE_COLUMNS, change_row


def test_each_value_is_under_its_own_column() -> None:
    info = IdentityInfoBody(
        resident_code="00000000070",
        my_number=None,
        family_name="齋藤",
        given_name="葛󠄂子",
        family_name_kana="サイトウ",
        given_name_kana="カツコ",
        birth_date=date(1970, 1, 1),
        sex="female",
        address="東京都稲城市東長沼1番地",
        status="active",
        lg_code="132250",
        change_reason="relocation",
        changed_on=date(2025, 4, 1),
    )
    row = change_row(info, "m-1", "2025-04-01T10:00:00+09:00")
    values = dict(zip(CHANGE_COLUMNS, row, strict=True))  # one value per column
    assert values == {
        "lg_code": "132250",
        "resident_code": info.resident_code,
        "message_id": "m-1",
        "body": info.model_dump_json(),
        "received_at": "2025-04-01T10:00:00+09:00",
        "name_kana_key": normalize_kana("サイトウカツコ"),
        "birth_date": date(1970, 1, 1),
    }
