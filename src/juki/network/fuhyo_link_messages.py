"""附票連携 (fuhyo_link): the 本籍 municipality sends the 附票本人確認情報 of its 附票 up to its
prefecture and to national (住民基本台帳法 第30条の41以下), so that a person who moved abroad stays
reachable for their card and for provision.

附票本人確認情報 (fuhyo_identity_info) is 氏名 (with its reading), 出生の年月日,
男女の別, 住所 — or, for a 国外転出者, that they moved abroad (国外転出者である旨) with
the country — and 住民票コード, with the change information (reason and date). Never the
本籍 or the 筆頭者: those stay at the 本籍 municipality. `lg_code` is the municipality that
keeps the 附票 (the sender), not where the person lives.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from juki.network.message_base import (
    AddressStr,
    LgCodeStr,
    MessageBody,
    NameStr,
    ResidentCodeStr,
)

FUHYO_IDENTITY_INFO_CHANGED: Final = "fuhyo_identity_info_changed"
FUHYO_IDENTITY_SNAPSHOT: Final = "fuhyo_identity_snapshot"


class FuhyoIdentityInfoBody(MessageBody):
    """附票本人確認情報 of one person on one municipality's 附票, as of one change."""

    resident_code: ResidentCodeStr
    family_name: NameStr
    given_name: NameStr
    family_name_kana: NameStr
    given_name_kana: NameStr
    birth_date: date
    sex: Literal["male", "female"]
    address: AddressStr  # the address in Japan the 附票 last records
    moved_abroad: bool = False  # 国外転出者である旨 (法第30条の41: the 住所 reads so)
    abroad_country: AddressStr | None = None  # the country they moved to, when known
    status: Literal["active", "removed"]
    lg_code: LgCodeStr  # the 本籍 municipality, which keeps the 附票
    change_reason: Annotated[str, Field(max_length=32)]
    changed_on: date

    @model_validator(mode="after")
    def _abroad(self) -> FuhyoIdentityInfoBody:
        if self.abroad_country is not None and not self.moved_abroad:
            raise ValueError("a country goes only with 国外転出 (moved_abroad)")
        return self


class FuhyoIdentityInfoChanged(MessageBody):
    """One change of a person's 附票本人確認情報, in the order the 附票 recorded it."""

    fuhyo_identity: FuhyoIdentityInfoBody


class FuhyoIdentitySnapshot(MessageBody):
    """Repair: a municipality's whole 附票本人確認情報 set, in parts (the last part drops what
    the municipality's 附票 no longer holds)."""

    lg_code: LgCodeStr
    snapshot_id: Annotated[str, Field(max_length=36)]
    part: Annotated[int, Field(ge=1)]
    parts: Annotated[int, Field(ge=1)]
    entries: Annotated[list[FuhyoIdentityInfoBody], Field(max_length=500)]

    @model_validator(mode="after")
    def _own(self) -> FuhyoIdentitySnapshot:
        if any(e.lg_code != self.lg_code for e in self.entries):
            raise ValueError("every entry of a snapshot is of the snapshot's municipality")
        if self.part > self.parts:
            raise ValueError("part is at most parts")
        return self
