"""Message schemas: the only things that can cross the network, versioned.

They are built from identity_info fields (seed 001 第8: the network carries no personal information
beyond 本人確認情報) plus routing and change information. The one statutory exception is the
附票記載事項通知 (住民基本台帳法 第19条), which carries 本籍 and 筆頭者 to the 本籍 municipality;
`tests/unit/network/test_messages.py` proves no other registry item fits in any message.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

LgCodeStr = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
ResidentCodeStr = Annotated[str, Field(pattern=r"^[0-9]{11}$")]
MyNumberStr = Annotated[str, Field(pattern=r"^[0-9]{12}$")]
NameStr = Annotated[str, Field(min_length=1, max_length=200)]
AddressStr = Annotated[str, Field(min_length=1, max_length=400)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdentityInfoBody(_Body):
    """本人確認情報 and its change information (変更情報)."""

    resident_code: ResidentCodeStr
    my_number: MyNumberStr | None
    family_name: NameStr
    given_name: NameStr
    family_name_kana: NameStr
    given_name_kana: NameStr
    birth_date: date
    sex: Literal["male", "female"]
    address: AddressStr
    status: Literal["active", "removed"]
    lg_code: LgCodeStr
    change_reason: Annotated[str, Field(max_length=32)]
    changed_on: date


class IdentityInfoChanged(_Body):
    identity: IdentityInfoBody


class IdentitySnapshot(_Body):
    """A municipality's whole identity_info set, in parts, to repair a level that diverged."""

    lg_code: LgCodeStr
    snapshot_id: Annotated[str, Field(max_length=36)]
    part: Annotated[int, Field(ge=1)]
    parts: Annotated[int, Field(ge=1)]
    entries: Annotated[list[IdentityInfoBody], Field(max_length=500)]


class MoveOutCertificateInfo(_Body):
    """転出証明書情報: sent ahead to the destination for the card-based move (転入届の特例)."""

    identity: IdentityInfoBody
    destination_address: AddressStr
    planned_on: date
    from_lg_code: LgCodeStr
    to_lg_code: LgCodeStr


class MoveInNotice(_Body):
    """転入通知: the new municipality tells the old one where the person arrived."""

    resident_code: ResidentCodeStr
    new_address: AddressStr
    moved_on: date
    notified_on: date
    from_lg_code: LgCodeStr
    to_lg_code: LgCodeStr


class FuhyoNotice(_Body):
    """附票記載事項通知: to the 本籍 municipality, which keeps the address history (附票)."""

    resident_code: ResidentCodeStr
    family_name: NameStr
    given_name: NameStr
    family_name_kana: NameStr
    given_name_kana: NameStr
    birth_date: date
    sex: Literal["male", "female"]
    honseki: AddressStr
    koseki_head: NameStr
    address: AddressStr
    address_since: date
    status: Literal["active", "removed"]
    change_reason: Annotated[str, Field(max_length=32)]
    changed_on: date
    from_lg_code: LgCodeStr


class MyNumberRequest(_Body):
    resident_code: ResidentCodeStr
    lg_code: LgCodeStr


class MyNumberAssigned(_Body):
    resident_code: ResidentCodeStr
    my_number: MyNumberStr
    lg_code: LgCodeStr


class ResidentCodeAllotment(_Body):
    """A range of resident-code bodies for one municipality, from the national node."""

    lg_code: LgCodeStr
    first_body: Annotated[int, Field(ge=0, le=9_999_999_999)]
    last_body: Annotated[int, Field(ge=0, le=9_999_999_999)]


class LinkSkip(_Body):
    """The sender gave up on the message at this sequence number (it is in the sender's
    dead-letter list): the receiver records the number as skipped so the link goes on.
    Carries no personal data, only which message was given up and why."""

    skipped_message_id: Annotated[str, Field(min_length=36, max_length=36)]
    skipped_message_type: Annotated[str, Field(min_length=1, max_length=64)]
    refusal: Annotated[str, Field(min_length=1, max_length=64)]


IDENTITY_INFO_CHANGED: Final = "identity_info_changed"
IDENTITY_SNAPSHOT: Final = "identity_snapshot"
MOVE_OUT_CERTIFICATE_INFO: Final = "move_out_certificate_info"
MOVE_IN_NOTICE: Final = "move_in_notice"
FUHYO_NOTICE: Final = "fuhyo_notice"
MY_NUMBER_REQUEST: Final = "my_number_request"
MY_NUMBER_ASSIGNED: Final = "my_number_assigned"
RESIDENT_CODE_ALLOTMENT: Final = "resident_code_allotment"
LINK_SKIP: Final = "link_skip"

# (message type, schema version) → schema
SCHEMAS: Final[dict[tuple[str, int], type[_Body]]] = {
    (IDENTITY_INFO_CHANGED, 1): IdentityInfoChanged,
    (IDENTITY_SNAPSHOT, 1): IdentitySnapshot,
    (MOVE_OUT_CERTIFICATE_INFO, 1): MoveOutCertificateInfo,
    (MOVE_IN_NOTICE, 1): MoveInNotice,
    (FUHYO_NOTICE, 1): FuhyoNotice,
    (MY_NUMBER_REQUEST, 1): MyNumberRequest,
    (MY_NUMBER_ASSIGNED, 1): MyNumberAssigned,
    (RESIDENT_CODE_ALLOTMENT, 1): ResidentCodeAllotment,
    (LINK_SKIP, 1): LinkSkip,
}
CURRENT_VERSION: Final = dict(SCHEMAS.keys())


class SchemaError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_body(message_type: str, version: int, body: dict[str, Any]) -> _Body:
    schema = SCHEMAS.get((message_type, version))
    if schema is None:
        raise SchemaError("unknown_type", f"{message_type} v{version} is not a known message")
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SchemaError("schema", f"{message_type}.{where}: {first['msg']}") from exc


def body_of(message: _Body) -> dict[str, Any]:
    return message.model_dump(mode="json")


def type_of(message: _Body) -> str:
    for (name, _version), schema in SCHEMAS.items():
        if isinstance(message, schema):
            return name
    raise KeyError(type(message).__name__)
