"""附票連携's messages (住基法 第30条の41以下): the 附票本人確認情報 and nothing of the
附票 beyond it (no 本籍, no 筆頭者, no 支援措置); a country only with 国外転出; a snapshot
only of its own municipality; and the 附票記載事項通知 v4 that carries the country up to the
本籍 municipality."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.network.fuhyo_link_messages import FuhyoIdentityInfoBody
from juki.network.messages import CURRENT_VERSION, SCHEMAS, SchemaError, body_of, parse_body

INFO: dict[str, Any] = {
    "resident_code": "24727059608",
    "family_name": "山田",
    "given_name": "花子",
    "family_name_kana": "ヤマダ",
    "given_name_kana": "ハナコ",
    "birth_date": "1980-05-05",
    "sex": "female",
    "address": "東京都西東京市田無町1番地",
    "moved_abroad": True,
    "abroad_country": "アメリカ合衆国",
    "status": "removed",
    "lg_code": "132250",
    "change_reason": "emigration",
    "changed_on": "2025-04-01",
}
NOTICE_V3: dict[str, Any] = {
    "resident_code": "24727059608",
    "family_name": "山田",
    "given_name": "花子",
    "family_name_kana": "ヤマダ",
    "given_name_kana": "ハナコ",
    "birth_date": "1980-05-05",
    "sex": "female",
    "honseki": "東京都稲城市東長沼2111番地",
    "koseki_head": "山田　太郎",
    "address": "東京都西東京市田無町1番地",
    "address_since": "2020-04-01",
    "status": "removed",
    "change_reason": "emigration",
    "changed_on": "2025-04-01",
    "from_lg_code": "132292",
    "moved_abroad": True,
}


def test_the_fuhyo_identity_info_carries_the_four_items_the_code_and_the_country() -> None:
    message = parse_body("fuhyo_identity_info_changed", 1, {"fuhyo_identity": INFO})
    assert body_of(message)["fuhyo_identity"] == INFO
    assert CURRENT_VERSION["fuhyo_identity_info_changed"] == 1


@pytest.mark.parametrize("extra", ["honseki", "koseki_head", "support_measure", "my_number"])
def test_nothing_else_of_the_fuhyo_or_the_record_fits(extra: str) -> None:
    with pytest.raises(SchemaError, match=extra):
        parse_body("fuhyo_identity_info_changed", 1, {"fuhyo_identity": INFO | {extra: "x"}})
    assert extra not in FuhyoIdentityInfoBody.model_fields


def test_a_country_goes_only_with_a_move_abroad() -> None:
    with pytest.raises(SchemaError, match="moved_abroad"):
        parse_body(
            "fuhyo_identity_info_changed",
            1,
            {"fuhyo_identity": INFO | {"moved_abroad": False, "status": "active"}},
        )
    with pytest.raises(SchemaError, match="moved_abroad"):
        parse_body("fuhyo_notice", 4, NOTICE_V3 | {"moved_abroad": False, "abroad_country": "仏"})


def test_a_snapshot_holds_only_its_own_municipalitys_fuhyo() -> None:
    own = {"lg_code": "132250", "snapshot_id": "s", "part": 1, "parts": 1, "entries": [INFO]}
    assert len(parse_body("fuhyo_identity_snapshot", 1, own).entries) == 1  # type: ignore[attr-defined]
    with pytest.raises(SchemaError, match="snapshot's municipality"):
        parse_body("fuhyo_identity_snapshot", 1, own | {"lg_code": "132292"})
    with pytest.raises(SchemaError, match="part"):
        parse_body("fuhyo_identity_snapshot", 1, own | {"part": 2})


def test_the_fuhyo_notice_v4_names_the_country_and_v3_still_passes() -> None:
    current = parse_body("fuhyo_notice", 4, NOTICE_V3 | {"abroad_country": "アメリカ合衆国"})
    assert body_of(current)["abroad_country"] == "アメリカ合衆国"
    old = parse_body("fuhyo_notice", 3, NOTICE_V3)
    assert type(old) is SCHEMAS[("fuhyo_notice", 4)]
    assert body_of(old)["abroad_country"] is None
    with pytest.raises(SchemaError, match="abroad_country"):  # not a version-3 field
        parse_body("fuhyo_notice", 3, NOTICE_V3 | {"abroad_country": "アメリカ合衆国"})


@given(
    field=st.sampled_from(sorted(INFO)),
    value=st.one_of(st.text(max_size=500), st.integers(), st.none(), st.booleans()),
)
def test_any_bad_field_is_a_schema_error_naming_it(field: str, value: object) -> None:
    body = {"fuhyo_identity": INFO | {field: value}}
    where = ""
    try:
        parse_body("fuhyo_identity_info_changed", 1, body)
    except SchemaError as exc:
        where = exc.reason + " " + exc.detail
    assert where == "" or where.startswith("schema fuhyo_identity_info_changed.fuhyo_identity")
