"""Message schemas: the only things that can cross the network, versioned.

They are built from identity_info fields (seed 001 第8: the network carries no personal information
beyond 本人確認情報) plus routing and change information. The one statutory exception is the
附票記載事項通知 (住民基本台帳法 第19条), which carries 本籍 and 筆頭者 to the 本籍 municipality;
`tests/unit/network/test_messages.py` proves no other registry item fits in any message.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final, Literal

from pydantic import Field, ValidationError, model_validator

from juki.network.card_messages import (
    CARD_CERTIFICATE_REQUEST,
    CARD_CERTIFICATE_RESPONSE,
    CardCertificateRequest,
    CardCertificateResponse,
)
from juki.network.fuhyo_link_messages import (
    FUHYO_IDENTITY_INFO_CHANGED,
    FUHYO_IDENTITY_SNAPSHOT,
    FuhyoIdentityInfoChanged,
    FuhyoIdentitySnapshot,
)
from juki.network.kiosk_messages import (
    KIOSK_ANSWER,
    KIOSK_KEY_REQUEST,
    KIOSK_KEY_RESPONSE,
    KIOSK_OFFER,
    KIOSK_OFFER_REQUEST,
    KIOSK_REQUEST,
    KIOSK_VOID,
    KioskKeyRequest,
    KioskKeyResponse,
    KioskOfferAnswer,
    KioskOfferRequest,
    KioskRelayAnswer,
    KioskRelayRequest,
    KioskVoid,
)
from juki.network.message_base import AddressStr as AddressStr
from juki.network.message_base import LgCodeStr as LgCodeStr
from juki.network.message_base import MessageBody as MessageBody
from juki.network.message_base import MyNumberStr as MyNumberStr
from juki.network.message_base import NameStr as NameStr
from juki.network.message_base import ResidentCodeStr as ResidentCodeStr
from juki.network.wide_area_messages import (
    CERTIFICATE_CONTENT_REQUEST,
    CERTIFICATE_CONTENT_RESPONSE,
    CertificateContentRequest,
    CertificateContentResponse,
)


class IdentityInfoBodyV1(MessageBody):
    """本人確認情報 as version 1 carried it: 氏名 without 旧氏 and 通称."""

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


class IdentityInfoBody(IdentityInfoBodyV1):
    """本人確認情報 (法第30条の6: 氏名, 出生の年月日, 男女の別, 住所, 住民票コード, 個人番号)
    and its change information (変更情報). 氏名 includes the 旧氏 where recorded (令第30条の13)
    and a foreign resident's 通称 (令第30条の26), each with its reading: version 2."""

    former_surname: NameStr | None = None  # 旧氏
    former_surname_kana: NameStr | None = None
    alias_name: NameStr | None = None  # 通称
    alias_name_kana: NameStr | None = None


class IdentityInfoChangedV1(MessageBody):
    identity: IdentityInfoBodyV1


class IdentityInfoChanged(MessageBody):
    identity: IdentityInfoBody


class IdentitySnapshotV1(MessageBody):
    lg_code: LgCodeStr
    snapshot_id: Annotated[str, Field(max_length=36)]
    part: Annotated[int, Field(ge=1)]
    parts: Annotated[int, Field(ge=1)]
    entries: Annotated[list[IdentityInfoBodyV1], Field(max_length=500)]


class IdentitySnapshot(MessageBody):
    """A municipality's whole identity_info set, in parts, to repair a level that diverged."""

    lg_code: LgCodeStr
    snapshot_id: Annotated[str, Field(max_length=36)]
    part: Annotated[int, Field(ge=1)]
    parts: Annotated[int, Field(ge=1)]
    entries: Annotated[list[IdentityInfoBody], Field(max_length=500)]


class MoveOutCertificateInfoV1(MessageBody):
    identity: IdentityInfoBodyV1
    destination_address: AddressStr
    planned_on: date
    from_lg_code: LgCodeStr
    to_lg_code: LgCodeStr


class MoveOutCertificateInfoV2(MessageBody):
    """転出証明書情報 as version 2 sent it (identity_info v2, no 通称履歴)."""

    identity: IdentityInfoBody
    destination_address: AddressStr
    planned_on: date
    from_lg_code: LgCodeStr
    to_lg_code: LgCodeStr


class AliasEntryBody(MessageBody):
    """One line of a foreign resident's 通称履歴 (令第30条の27): the 通称, entered or deleted,
    on which day, by which municipality."""

    alias_name: NameStr
    action: Literal["entered", "deleted"]
    on: date
    municipality: Annotated[str, Field(min_length=1, max_length=200)]


MAX_ALIAS_HISTORY: Final = 50


class MoveOutCertificateInfo(MoveOutCertificateInfoV2):
    """転出証明書情報: sent ahead to the destination for the card-based move (転入届の特例).
    Version 3 carries a foreign resident's 通称履歴, as the paper 転出証明書 does, so the new
    municipality's record keeps the whole history (令第30条の27)."""

    alias_history: Annotated[
        list[AliasEntryBody], Field(default_factory=list, max_length=MAX_ALIAS_HISTORY)
    ]


class MoveInNoticeV1(MessageBody):
    """転入通知 as version 1 sent it (no four items): still taken from a node not yet upgraded."""

    resident_code: ResidentCodeStr
    new_address: AddressStr
    moved_on: date
    notified_on: date
    from_lg_code: LgCodeStr
    to_lg_code: LgCodeStr


class MoveInNotice(MessageBody):
    """転入通知 (法第9条第1項): the new municipality tells the old one where the person
    arrived, with the four items (氏名, 出生の年月日, 男女の別, 転出前の住所) as the move-in
    recorded them, so the old municipality confirms only the person its record names."""

    resident_code: ResidentCodeStr
    family_name: NameStr
    given_name: NameStr
    birth_date: date
    sex: Literal["male", "female"]
    previous_address: AddressStr
    new_address: AddressStr
    moved_on: date
    notified_on: date
    from_lg_code: LgCodeStr
    to_lg_code: LgCodeStr


class FuhyoNoticeV1(MessageBody):
    """附票記載事項通知 as version 1 sent it (no 国外転出者である旨)."""

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


class FuhyoNoticeV2(FuhyoNoticeV1):
    """附票記載事項通知 as version 2 sent it: the 支援措置 as a flag only."""

    moved_abroad: bool = False  # 国外転出者である旨
    # 支援措置 (DV・ストーカー等の被害者): the 本籍 municipality refuses 附票の写し to third parties
    support_measure: bool = False


class FuhyoNoticeV3(FuhyoNoticeV2):
    """附票記載事項通知 (法第19条): from the municipality where the person now lives (the new one
    after a move: 法第19条第1項) to the 本籍 municipality, which keeps the address history (附票).
    A 国外転出 is notified by the last municipality, saying so (国外転出者である旨, 法第17条).

    Version 3 carries the 支援措置's period (its first day and its last, 要領 第5-10) when one is
    in force on the change's date, so the 本籍 municipality computes on any day whether it
    still applies (`juki.registry.store.journal.fuhyo_support_on`) without waiting for the
    next notice; `support_measure` stays the flag as of the change's date."""

    support_starts_on: date | None = None
    support_ends_on: date | None = None

    @model_validator(mode="after")
    def _period(self) -> FuhyoNoticeV3:
        start, end = self.support_starts_on, self.support_ends_on
        if (start is None) != (end is None):
            raise ValueError("a support measure's period has a first and a last day")
        if start is not None and end is not None:
            if start > end:
                raise ValueError("a support measure's period ends on or after its first day")
            if not self.support_measure:
                raise ValueError("a support measure's period goes with the flag")
        return self


class FuhyoNotice(FuhyoNoticeV3):
    """附票記載事項通知, version 4: a 国外転出 names the country the person moved to
    (`abroad_country`), which the 本籍 municipality keeps and passes on in the 附票本人確認情報
    (附票連携, `juki.network.fuhyo_link_messages`)."""

    abroad_country: AddressStr | None = None

    @model_validator(mode="after")
    def _country(self) -> FuhyoNotice:
        if self.abroad_country is not None and not self.moved_abroad:
            raise ValueError("a country goes only with 国外転出 (moved_abroad)")
        return self


class MyNumberRequest(MessageBody):
    resident_code: ResidentCodeStr
    lg_code: LgCodeStr


class MyNumberAssigned(MessageBody):
    resident_code: ResidentCodeStr
    my_number: MyNumberStr
    lg_code: LgCodeStr


class ResidentCodeAllotmentV1(MessageBody):
    """Version 1: a range of resident-code bodies (sequential codes, before ADR 0006); still
    honoured from a national node not yet upgraded."""

    lg_code: LgCodeStr
    first_body: Annotated[int, Field(ge=0, le=9_999_999_999)]
    last_body: Annotated[int, Field(ge=0, le=9_999_999_999)]


MAX_POOL_CODES: Final = 5000  # ≈ 70 KB of JSON, well under the envelope limit


class ResidentCodeAllotment(MessageBody):
    """A batch of random unused resident codes for one municipality's pool, from the national
    node (施行規則第1条: a code reveals neither the municipality nor the order of assignment;
    ADR 0006). Version 2."""

    lg_code: LgCodeStr
    codes: Annotated[list[ResidentCodeStr], Field(min_length=1, max_length=MAX_POOL_CODES)]

    @model_validator(mode="after")
    def _distinct(self) -> ResidentCodeAllotment:
        if len(set(self.codes)) != len(self.codes):
            raise ValueError("the codes of an allotment are distinct")
        return self


class ResidentCodeChanged(MessageBody):
    """住民票コードの変更 (法第30条の4): the municipality holding the resident gave them a new code
    at their request; every level retires the former code and keeps the identity_info under the
    new one. Only identity_info and the former code: nothing else of the record."""

    former_resident_code: ResidentCodeStr
    identity: IdentityInfoBody

    @model_validator(mode="after")
    def _changed(self) -> ResidentCodeChanged:
        if self.former_resident_code == self.identity.resident_code:
            raise ValueError("the new resident code differs from the former one")
        return self


class LinkSkip(MessageBody):
    """The sender gave up on the message at this sequence number (it is in the sender's
    dead-letter list): the receiver records the number as skipped so the link goes on.
    Carries no personal data, only which message was given up and why."""

    skipped_message_id: Annotated[str, Field(min_length=36, max_length=36)]
    skipped_message_type: Annotated[str, Field(min_length=1, max_length=64)]
    refusal: Annotated[str, Field(min_length=1, max_length=64)]


class OplogCheckpoint(MessageBody):
    """A node's signed checkpoint of its own operation-log chain head (`juki.nodes.checkpoints`):
    sent to its parent, which checks the signature, countersigns and keeps it. Numbers and
    hashes only: nothing of the log's content."""

    node_id: Annotated[str, Field(pattern=r"^([0-9]{6}|national)$")]
    seq: Annotated[int, Field(ge=0, le=2**63 - 1)]
    entry_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    signed_at: Annotated[str, Field(min_length=1, max_length=40)]
    signature: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/=]{1,200}$")]


IDENTITY_INFO_CHANGED: Final = "identity_info_changed"
IDENTITY_SNAPSHOT: Final = "identity_snapshot"
MOVE_OUT_CERTIFICATE_INFO: Final = "move_out_certificate_info"
MOVE_IN_NOTICE: Final = "move_in_notice"
FUHYO_NOTICE: Final = "fuhyo_notice"
MY_NUMBER_REQUEST: Final = "my_number_request"
MY_NUMBER_ASSIGNED: Final = "my_number_assigned"
RESIDENT_CODE_ALLOTMENT: Final = "resident_code_allotment"
RESIDENT_CODE_CHANGED: Final = "resident_code_changed"
LINK_SKIP: Final = "link_skip"
OPLOG_CHECKPOINT: Final = "oplog_checkpoint"

# (message type, schema version) → schema
SCHEMAS: Final[dict[tuple[str, int], type[MessageBody]]] = {
    (IDENTITY_INFO_CHANGED, 1): IdentityInfoChangedV1,
    (IDENTITY_INFO_CHANGED, 2): IdentityInfoChanged,
    (IDENTITY_SNAPSHOT, 1): IdentitySnapshotV1,
    (IDENTITY_SNAPSHOT, 2): IdentitySnapshot,
    (MOVE_OUT_CERTIFICATE_INFO, 1): MoveOutCertificateInfoV1,
    (MOVE_OUT_CERTIFICATE_INFO, 2): MoveOutCertificateInfoV2,
    (MOVE_OUT_CERTIFICATE_INFO, 3): MoveOutCertificateInfo,  # + 通称履歴
    (MOVE_IN_NOTICE, 1): MoveInNoticeV1,
    (MOVE_IN_NOTICE, 2): MoveInNotice,
    (FUHYO_NOTICE, 1): FuhyoNoticeV1,
    (FUHYO_NOTICE, 2): FuhyoNoticeV2,
    (FUHYO_NOTICE, 3): FuhyoNoticeV3,  # + the 支援措置's period
    (FUHYO_NOTICE, 4): FuhyoNotice,  # + the country of a 国外転出
    (MY_NUMBER_REQUEST, 1): MyNumberRequest,
    (MY_NUMBER_ASSIGNED, 1): MyNumberAssigned,
    (RESIDENT_CODE_ALLOTMENT, 1): ResidentCodeAllotmentV1,
    (RESIDENT_CODE_ALLOTMENT, 2): ResidentCodeAllotment,
    (RESIDENT_CODE_CHANGED, 1): ResidentCodeChanged,
    (LINK_SKIP, 1): LinkSkip,
    (OPLOG_CHECKPOINT, 1): OplogCheckpoint,
}
CURRENT_VERSION: Final = dict(SCHEMAS.keys())


class SchemaError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# Old versions whose every field the current version holds: checked against their own schema
# (so a v1 message cannot carry v2's fields), then read as the current one, so handlers see one
# type. A version that lacks what the current one needs (the four items of a v1 move-in notice)
# is not here: its handler takes it as it is.
UPGRADED: Final[dict[tuple[str, int], type[MessageBody]]] = {
    (IDENTITY_INFO_CHANGED, 1): IdentityInfoChanged,
    (IDENTITY_SNAPSHOT, 1): IdentitySnapshot,
    (MOVE_OUT_CERTIFICATE_INFO, 1): MoveOutCertificateInfo,
    (MOVE_OUT_CERTIFICATE_INFO, 2): MoveOutCertificateInfo,
    (FUHYO_NOTICE, 1): FuhyoNotice,
    (FUHYO_NOTICE, 2): FuhyoNotice,
    (FUHYO_NOTICE, 3): FuhyoNotice,
}


def parse_body(message_type: str, version: int, body: dict[str, Any]) -> MessageBody:
    schema = SCHEMAS.get((message_type, version))
    if schema is None:
        raise SchemaError("unknown_type", f"{message_type} v{version} is not a known message")
    try:
        message = schema.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SchemaError("schema", f"{message_type}.{where}: {first['msg']}") from exc
    current = UPGRADED.get((message_type, version))
    return current.model_validate(message.model_dump()) if current else message


def body_of(message: MessageBody) -> dict[str, Any]:
    return message.model_dump(mode="json")


def type_of(message: MessageBody) -> str:
    for (name, _version), schema in SCHEMAS.items():
        if isinstance(message, schema):
            return name
    raise KeyError(type(message).__name__)


# -- 転出取消 of a card-based move (転入届の特例) -----------------------------------------------
#
# The origin municipality sent the 転出証明書情報 ahead (`move_out_certificate_info`); when the
# 転出届 is withdrawn before its date (転出取消, 法第24条の届出の取下げ) or the move-out is
# cancelled by authority (異動取消), it tells the destination, which withdraws what it holds so
# no 特例転入 is recorded on it. Carries the resident code and the dates, nothing more.

MOVE_OUT_WITHDRAWN: Final = "move_out_withdrawn"


class MoveOutWithdrawn(MessageBody):
    """The 転出証明書情報 sent for this move-out is withdrawn: the 転出届 was withdrawn
    (`move_out_withdrawn`) or the move-out cancelled by authority (`change_cancelled`)."""

    resident_code: ResidentCodeStr
    planned_on: date  # the planned date of the move-out withdrawn
    withdrawn_on: date
    reason: Literal["move_out_withdrawn", "change_cancelled"]
    from_lg_code: LgCodeStr  # the municipality that recorded the move-out
    to_lg_code: LgCodeStr  # the destination it recorded, which holds the information


SCHEMAS[(MOVE_OUT_WITHDRAWN, 1)] = MoveOutWithdrawn
CURRENT_VERSION[MOVE_OUT_WITHDRAWN] = 1


SCHEMAS[(CERTIFICATE_CONTENT_REQUEST, 1)] = CertificateContentRequest
SCHEMAS[(CERTIFICATE_CONTENT_RESPONSE, 1)] = CertificateContentResponse
CURRENT_VERSION[CERTIFICATE_CONTENT_REQUEST] = 1
CURRENT_VERSION[CERTIFICATE_CONTENT_RESPONSE] = 1


SCHEMAS[(CARD_CERTIFICATE_REQUEST, 1)] = CardCertificateRequest
SCHEMAS[(CARD_CERTIFICATE_RESPONSE, 1)] = CardCertificateResponse
CURRENT_VERSION[CARD_CERTIFICATE_REQUEST] = 1
CURRENT_VERSION[CARD_CERTIFICATE_RESPONSE] = 1


SCHEMAS[(KIOSK_KEY_REQUEST, 1)] = KioskKeyRequest
SCHEMAS[(KIOSK_KEY_RESPONSE, 1)] = KioskKeyResponse
SCHEMAS[(KIOSK_REQUEST, 1)] = KioskRelayRequest
SCHEMAS[(KIOSK_ANSWER, 1)] = KioskRelayAnswer
SCHEMAS[(KIOSK_VOID, 1)] = KioskVoid
SCHEMAS[(KIOSK_OFFER_REQUEST, 1)] = KioskOfferRequest
SCHEMAS[(KIOSK_OFFER, 1)] = KioskOfferAnswer
for _kiosk_type in (
    KIOSK_KEY_REQUEST,
    KIOSK_KEY_RESPONSE,
    KIOSK_REQUEST,
    KIOSK_ANSWER,
    KIOSK_VOID,
    KIOSK_OFFER_REQUEST,
    KIOSK_OFFER,
):
    CURRENT_VERSION[_kiosk_type] = 1


SCHEMAS[(FUHYO_IDENTITY_INFO_CHANGED, 1)] = FuhyoIdentityInfoChanged
SCHEMAS[(FUHYO_IDENTITY_SNAPSHOT, 1)] = FuhyoIdentitySnapshot
CURRENT_VERSION[FUHYO_IDENTITY_INFO_CHANGED] = 1
CURRENT_VERSION[FUHYO_IDENTITY_SNAPSHOT] = 1
# The resident portal's queries carry identity_info as defined above; their module registers
# them in SCHEMAS (imported last, so either module may be imported first).
from juki.network import disclosure_messages as _disclosure_messages  # noqa: E402, F401
from juki.network import identity_runs as _identity_runs  # noqa: E402, F401
