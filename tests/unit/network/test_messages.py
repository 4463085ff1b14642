"""No message can carry a registry item beyond identity_info (seed 001 第8)."""

from __future__ import annotations

from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from juki.network.messages import (
    CURRENT_VERSION,
    SCHEMAS,
    IdentityInfoBody,
    IdentityInfoChanged,
    MoveInNotice,
    SchemaError,
    body_of,
    parse_body,
)
from juki.network.wide_area_messages import (
    CERTIFICATE_CONTENT_RESPONSE,
    WIDE_AREA_LINE_KEYS,
    CertificateContentResponse,
)
from juki.registry.identity_info import IDENTITY_FIELDS
from juki.registry.tables import resident_records

# Routing and change information that is not a record item.
ROUTING = {
    "lg_code",
    "change_reason",
    "changed_on",
    "from_lg_code",
    "to_lg_code",
    "snapshot_id",
    "part",
    "parts",
    "entries",
    "identity",
    "first_body",
    "last_body",
    "destination_address",
    "planned_on",
    "new_address",
    "moved_on",
    "notified_on",  # the date the move-in was notified: change information of 転出確定
}
# 附票記載事項通知 (住民基本台帳法 第19条) carries 本籍 and 筆頭者 to the 本籍 municipality.
# With it goes whether the person is under a 支援措置 (要領 第5-10), so the 本籍 municipality
# refuses 附票の写し to third parties, and from version 3 the measure's period (its first and last
# day), so the 本籍 municipality knows when it lapses.
FUHYO_ONLY = {
    "honseki",
    "koseki_head",
    "address_since",
    "support_measure",
    "support_starts_on",
    "support_ends_on",
}
# 転入通知 (第9条第1項) names the person by the four items, the last of them the address they left.
MOVE_IN_ONLY = {"previous_address"}
# 転出証明書情報 (法第24条の2) says what the paper 転出証明書 says, a foreign resident's 通称履歴
# among it (令第30条の27), so the new municipality's record keeps the whole history.
MOVE_OUT_INFO_ONLY = {"alias_history"}
# 広域交付 (第12条の4): the answer carries one applicant's certificate content. Its field names are
# the content's own (`version` is the content format's, not the record's); what the content may
# say is bounded by its line keys, checked below and against the content rules in
# tests/unit/certificates/test_cert_wide_area.py.
CERTIFICATE_CONTENT_ONLY = {"version"}


def _fields(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        for arg in (info.annotation, *get_args(info.annotation)):
            inner = get_args(arg) if get_origin(arg) is list else (arg,)
            for candidate in inner:
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    names |= _fields(candidate)
    return names


@pytest.mark.parametrize(("key", "schema"), sorted(SCHEMAS.items(), key=lambda kv: kv[0]))
def test_no_message_carries_another_record_item(
    key: tuple[str, int], schema: type[BaseModel]
) -> None:
    columns = set(resident_records.c.keys())
    carried = _fields(schema) & columns
    allowed = set(IDENTITY_FIELDS) | ROUTING | (FUHYO_ONLY if key[0] == "fuhyo_notice" else set())
    allowed |= MOVE_IN_ONLY if key[0] == "move_in_notice" else set()
    allowed |= MOVE_OUT_INFO_ONLY if key[0] == "move_out_certificate_info" else set()
    if key[0] == CERTIFICATE_CONTENT_RESPONSE:
        allowed |= CERTIFICATE_CONTENT_ONLY
    assert carried <= allowed, f"{key[0]} carries {sorted(carried - allowed)}"


def test_only_the_wide_area_answer_carries_certificate_content() -> None:
    for (name, _version), schema in SCHEMAS.items():
        carries = "persons" in _fields(schema) or "lines" in _fields(schema)
        assert carries == (name == CERTIFICATE_CONTENT_RESPONSE), name


def test_wide_area_line_keys_exclude_honseki_and_removal_items() -> None:
    assert not WIDE_AREA_LINE_KEYS & {"honseki", "koseki_head", "removal_reason", "removed_on"}
    # every key is a printed item of the record or its header, not an unrelated column
    columns = set(resident_records.c.keys())
    unrelated = (
        columns
        - set(IDENTITY_FIELDS)
        - {
            "relationship",
            "resident_since",
            "address_since",
            "notified_on",
            "previous_address",
            "former_surname",
            "former_surname_kana",
            "alias_name",
            "alias_history",
            "nationality",
            "foreign_category",
            "residence_status",
            "period_of_stay",
            "stay_expiry",
            "residence_card_number",
        }
    )
    assert not WIDE_AREA_LINE_KEYS & unrelated


def wide_area_answer(**content: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "residence",
        "title": "住民票の写し",
        "record_lg_code": "132250",
        "record_municipality": "東京都稲城市",
        "as_of": "2025-04-01T10:00:00+09:00",
        "scope": "本人",
        "header": [{"key": "address", "label": "住所", "value": "東京都稲城市東長沼1番地"}],
        "persons": [
            {
                "name": "山田　太郎",
                "lines": [
                    {"key": "name", "label": "氏名", "value": "山田　太郎"},
                    {"key": "birth_date", "label": "生年月日", "value": "昭和55年5月5日"},
                ],
            }
        ],
        "certification": "この写しは、住民票の原本と相違ないことを証明する。",
        "items": [],
        "channel": "wide_area",
        "removed": False,
        "seal_sha256": None,
        "version": 1,
    }
    body.update(content)
    return {
        "request_id": "01890000-0000-7000-8000-000000000001",
        "resident_code": "24727059608",
        "from_lg_code": "132250",
        "to_lg_code": "142051",
        "outcome": "answered",
        "content": body,
    }


def test_a_wide_area_answer_parses() -> None:
    answer = parse_body(CERTIFICATE_CONTENT_RESPONSE, 1, wide_area_answer())
    assert isinstance(answer, CertificateContentResponse)


@pytest.mark.parametrize(
    "change",
    [
        {
            "persons": [
                {"name": "山田", "lines": [{"key": "honseki", "label": "本籍", "value": "x"}]}
            ]
        },
        {"header": [{"key": "koseki_head", "label": "筆頭者", "value": "山田　一郎"}]},
        {
            "persons": [
                {"name": "山田", "lines": [{"key": "removed_on", "label": "消除日", "value": "x"}]}
            ]
        },
        {
            "persons": [
                {"name": "山田", "lines": [{"key": "household_id", "label": "世帯", "value": "x"}]}
            ]
        },
        {"removed": True},
        {"channel": "counter"},
        {"kind": "seal"},
        {"items": ["honseki"]},
        {"seal_sha256": "0" * 64},
        {"record_lg_code": "142051"},  # not the answering municipality's record
        {"persons": []},
        {"extra": "field"},
    ],
)
def test_a_wide_area_answer_cannot_carry_anything_else(change: dict[str, Any]) -> None:
    with pytest.raises(SchemaError) as err:
        parse_body(CERTIFICATE_CONTENT_RESPONSE, 1, wide_area_answer(**change))
    assert err.value.reason == "schema"


def test_a_refusal_carries_a_rule_and_no_content() -> None:
    refusal = {
        **wide_area_answer(),
        "outcome": "refused",
        "content": None,
        "rule": "support_measure",
        "message_en": "under support measures",
        "message_ja": "支援措置の対象者です",
    }
    parse_body(CERTIFICATE_CONTENT_RESPONSE, 1, refusal)
    with pytest.raises(SchemaError):
        parse_body(
            CERTIFICATE_CONTENT_RESPONSE, 1, {**refusal, "content": wide_area_answer()["content"]}
        )
    with pytest.raises(SchemaError):
        parse_body(CERTIFICATE_CONTENT_RESPONSE, 1, {**wide_area_answer(), "content": None})


def test_unknown_fields_are_refused() -> None:
    good: dict[str, Any] = body_of(
        MoveInNotice(
            resident_code="24727059608",
            family_name="山田",
            given_name="太郎",
            birth_date="1980-05-05",  # type: ignore[arg-type]
            sex="male",
            previous_address="東京都稲城市東長沼1番地",
            new_address="神奈川県藤沢市辻堂1番地",
            moved_on="2025-04-01",  # type: ignore[arg-type]
            notified_on="2025-04-01",  # type: ignore[arg-type]
            from_lg_code="132250",
            to_lg_code="142051",
        )
    )
    parse_body("move_in_notice", 2, good)
    with pytest.raises(SchemaError) as err:
        parse_body("move_in_notice", 2, {**good, "honseki": "東京都稲城市1番地"})
    assert err.value.reason == "schema"
    with pytest.raises(SchemaError) as err:
        parse_body("move_in_notice", 3, good)
    assert err.value.reason == "unknown_type"


IDENTITY_V1: dict[str, Any] = {
    "resident_code": "24727059608",
    "my_number": None,
    "family_name": "山田",
    "given_name": "花子",
    "family_name_kana": "ヤマダ",
    "given_name_kana": "ハナコ",
    "birth_date": "1980-05-05",
    "sex": "female",
    "address": "東京都稲城市東長沼1番地",
    "status": "active",
    "lg_code": "132250",
    "change_reason": "move_in",
    "changed_on": "2025-04-01",
}


def test_identity_info_v2_carries_the_former_surname_and_the_alias_as_part_of_the_name() -> None:
    """本人確認情報's 氏名 includes 旧氏 (令30条の13) and 通称 (令30条の26) where recorded."""
    v2 = IDENTITY_V1 | {"former_surname": "鈴木", "former_surname_kana": "スズキ"}
    parsed = parse_body("identity_info_changed", 2, {"identity": v2})
    assert isinstance(parsed, IdentityInfoChanged)
    assert (parsed.identity.former_surname, parsed.identity.alias_name) == ("鈴木", None)
    assert CURRENT_VERSION["identity_info_changed"] == 2


def test_an_old_identity_message_still_passes_and_reads_as_the_current_version() -> None:
    for name, body in [
        ("identity_info_changed", {"identity": IDENTITY_V1}),
        (
            "identity_snapshot",
            {
                "lg_code": "132250",
                "snapshot_id": "s",
                "part": 1,
                "parts": 1,
                "entries": [IDENTITY_V1],
            },
        ),
    ]:
        parsed = parse_body(name, 1, body)
        assert type(parsed) is SCHEMAS[(name, 2)]
    with pytest.raises(SchemaError, match="former_surname"):  # not a version-1 field
        parse_body(
            "identity_info_changed", 1, {"identity": IDENTITY_V1 | {"former_surname": "鈴木"}}
        )


def test_identity_body_rejects_bad_codes() -> None:
    with pytest.raises(ValueError, match="resident_code"):
        IdentityInfoBody.model_validate({"resident_code": "123"})


def test_an_allotment_is_a_pool_of_distinct_codes_and_a_range_still_parses() -> None:
    """Version 2 carries random codes (ADR 0006); version 1's range is still read."""
    from juki.network.messages import (
        RESIDENT_CODE_ALLOTMENT,
        ResidentCodeAllotment,
        ResidentCodeAllotmentV1,
    )

    pool = parse_body(RESIDENT_CODE_ALLOTMENT, 2, {"lg_code": "132250", "codes": ["80234567197"]})
    assert isinstance(pool, ResidentCodeAllotment)
    legacy = parse_body(
        RESIDENT_CODE_ALLOTMENT, 1, {"lg_code": "132250", "first_body": 1, "last_body": 9}
    )
    assert isinstance(legacy, ResidentCodeAllotmentV1)
    for bad in ([], ["80234567197", "80234567197"], ["8023456719"]):
        with pytest.raises(SchemaError):
            parse_body(RESIDENT_CODE_ALLOTMENT, 2, {"lg_code": "132250", "codes": bad})


def test_a_code_change_carries_identity_info_and_the_former_code_only() -> None:
    from juki.network.messages import RESIDENT_CODE_CHANGED, ResidentCodeChanged

    assert set(ResidentCodeChanged.model_fields) == {"former_resident_code", "identity"}
    identity = {
        "resident_code": "80234567197",
        "my_number": None,
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "birth_date": "1980-01-01",
        "sex": "male",
        "address": "東京都稲城市東長沼1番地",
        "status": "active",
        "lg_code": "132250",
        "change_reason": "resident_code_change",
        "changed_on": "2025-04-01",
    }
    with pytest.raises(SchemaError):  # the same code is no change
        parse_body(
            RESIDENT_CODE_CHANGED, 1, {"former_resident_code": "80234567197", "identity": identity}
        )
    with pytest.raises(SchemaError):  # nothing else of the record fits
        parse_body(
            RESIDENT_CODE_CHANGED,
            1,
            {"former_resident_code": "24727059608", "identity": identity, "honseki": "x"},
        )


MOVE_OUT_INFO_V2: dict[str, Any] = {
    "identity": IDENTITY_V1,
    "destination_address": "神奈川県藤沢市鵠沼1番地",
    "planned_on": "2025-04-10",
    "from_lg_code": "132250",
    "to_lg_code": "142051",
}
ALIAS_ENTRY = {
    "alias_name": "金山",
    "action": "entered",
    "on": "2020-01-10",
    "municipality": "東京都稲城市",
}
FUHYO_V2: dict[str, Any] = {
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
    "address_since": "2025-04-01",
    "status": "active",
    "change_reason": "support_measure",
    "changed_on": "2025-04-01",
    "from_lg_code": "132292",
    "moved_abroad": False,
    "support_measure": True,
}


def test_move_out_information_v3_carries_the_alias_history_and_older_versions_still_pass() -> None:
    """転出証明書情報 v3 (通称履歴, 令30条の27); v1 and v2 read as v3 with no history, and an
    older version carrying one is refused."""
    current = parse_body(
        "move_out_certificate_info", 3, MOVE_OUT_INFO_V2 | {"alias_history": [ALIAS_ENTRY]}
    )
    assert body_of(current)["alias_history"] == [ALIAS_ENTRY]
    for version in (1, 2):
        old = parse_body("move_out_certificate_info", version, MOVE_OUT_INFO_V2)
        assert type(old) is SCHEMAS[("move_out_certificate_info", 3)]
        assert body_of(old)["alias_history"] == []
        with pytest.raises(SchemaError, match="alias_history"):
            parse_body(
                "move_out_certificate_info", version, MOVE_OUT_INFO_V2 | {"alias_history": []}
            )
    with pytest.raises(SchemaError, match="action"):
        parse_body(
            "move_out_certificate_info",
            3,
            MOVE_OUT_INFO_V2 | {"alias_history": [ALIAS_ENTRY | {"action": "renamed"}]},
        )


def test_fuhyo_notice_v3_carries_the_support_measures_period_and_v2_still_passes() -> None:
    period = {"support_starts_on": "2025-04-01", "support_ends_on": "2026-03-31"}
    current = parse_body("fuhyo_notice", 3, FUHYO_V2 | period)
    assert (body_of(current)["support_starts_on"], body_of(current)["support_ends_on"]) == (
        "2025-04-01",
        "2026-03-31",
    )
    old = parse_body("fuhyo_notice", 2, FUHYO_V2)
    assert type(old) is SCHEMAS[("fuhyo_notice", CURRENT_VERSION["fuhyo_notice"])]
    assert body_of(old)["support_measure"] is True and body_of(old)["support_ends_on"] is None
    with pytest.raises(SchemaError, match="support_starts_on"):  # not a version-2 field
        parse_body("fuhyo_notice", 2, FUHYO_V2 | period)
    for broken in (
        {"support_starts_on": "2025-04-01"},  # half a period
        {"support_starts_on": "2026-04-01", "support_ends_on": "2025-04-01"},  # ends first
    ):
        with pytest.raises(SchemaError, match="period"):
            parse_body("fuhyo_notice", 3, FUHYO_V2 | broken)
    with pytest.raises(SchemaError, match="flag"):
        parse_body("fuhyo_notice", 3, FUHYO_V2 | period | {"support_measure": False})


def test_a_move_out_withdrawal_names_the_move_and_nothing_more() -> None:
    body = {
        "resident_code": "24727059608",
        "planned_on": "2025-04-10",
        "withdrawn_on": "2025-04-03",
        "reason": "move_out_withdrawn",
        "from_lg_code": "132250",
        "to_lg_code": "142051",
    }
    assert body_of(parse_body("move_out_withdrawn", 1, body)) == body
    with pytest.raises(SchemaError, match="reason"):
        parse_body("move_out_withdrawn", 1, body | {"reason": "moved_anyway"})
    with pytest.raises(SchemaError):
        parse_body("move_out_withdrawn", 1, body | {"family_name": "山田"})
