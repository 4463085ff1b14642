"""No message can carry a registry item beyond identity_info (seed 001 第8)."""

from __future__ import annotations

from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from juki.network.messages import (
    SCHEMAS,
    IdentityInfoBody,
    MoveInNotice,
    SchemaError,
    body_of,
    parse_body,
)
from juki.registry.identity_info import IDENTITY_FIELDS
from juki.storage.tables import resident_records

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
FUHYO_ONLY = {"honseki", "koseki_head", "address_since"}


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
    assert carried <= allowed, f"{key[0]} carries {sorted(carried - allowed)}"


def test_unknown_fields_are_refused() -> None:
    good: dict[str, Any] = body_of(
        MoveInNotice(
            resident_code="24727059608",
            new_address="神奈川県藤沢市辻堂1番地",
            moved_on="2025-04-01",
            notified_on="2025-04-01",  # type: ignore[arg-type]
            from_lg_code="132250",
            to_lg_code="142051",
        )
    )
    parse_body("move_in_notice", 1, good)
    with pytest.raises(SchemaError) as err:
        parse_body("move_in_notice", 1, {**good, "honseki": "東京都稲城市1番地"})
    assert err.value.reason == "schema"
    with pytest.raises(SchemaError) as err:
        parse_body("move_in_notice", 2, good)
    assert err.value.reason == "unknown_type"


def test_identity_body_rejects_bad_codes() -> None:
    with pytest.raises(ValueError, match="resident_code"):
        IdentityInfoBody.model_validate({"resident_code": "123"})
