"""A certificate as plain values: what was asked for, what was read, and what is printed.

These types carry no rule (the rules that fill them are in `content`) and do no I/O, so the
counter, the CLI, the wide-area messages, the renderer and the verifier all speak of a
certificate in the same terms. `CertificateContent` is exactly what gets printed about the
people on it; `Issuance` is the issuing municipality's side (numbers, date, signatory).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Literal

from juki.registry.model import Municipality, ResidentRecord
from juki.registry.seal import SealRegistration

if TYPE_CHECKING:
    from juki.certificates.third_party import ThirdPartyRequest

CONTENT_VERSION: Final = 1
ALL_MEMBERS: Final = "all"


class CertificateKind(StrEnum):
    RESIDENCE = "residence"  # 住民票の写し
    RECORD_ITEMS = "record_items"  # 住民票記載事項証明書
    SEAL = "seal"  # 印鑑登録証明書
    MOVE_OUT = "move_out"  # 転出証明書 (令23条): its own rules, juki.certificates.move_out
    FUHYO = "fuhyo"  # 戸籍の附票の写し (法20条): from the 附票 entries, juki.certificates.fuhyo

    @property
    def label_ja(self) -> str:
        return _KIND_JA[self]


_KIND_JA: Final = {
    CertificateKind.RESIDENCE: "住民票の写し",
    CertificateKind.RECORD_ITEMS: "住民票記載事項証明書",
    CertificateKind.SEAL: "印鑑登録証明書",
    CertificateKind.MOVE_OUT: "転出証明書",
    CertificateKind.FUHYO: "戸籍の附票の写し",
}


class OptionalItem(StrEnum):
    """Items a certificate shows only when the applicant asks for them.

    A 住民票の写し always shows 氏名, 生年月日, 性別, 住所 and the dates of the record, and leaves
    off the first group below unless asked (法第12条第5項). A 記載事項証明書 shows the name and
    exactly the items asked for (法第12条第1項), any of them. 旧氏 is no longer optional: once
    recorded (令第30条の13) it is on every certificate, not being among the items a 写し may
    leave off (法第12条第5項); asking for it changes nothing.
    """

    HOUSEHOLDER = "householder"  # 世帯主の氏名及び続柄
    HONSEKI = "honseki"  # 本籍及び筆頭者
    RESIDENT_CODE = "resident_code"  # 住民票コード
    MY_NUMBER = "my_number"  # 個人番号
    FORMER_SURNAME = "former_surname"  # 旧氏: always shown when recorded
    FOREIGN_ITEMS = "foreign_items"  # 国籍・地域, 第30条の45に規定する区分, 在留資格 …
    ALIAS_HISTORY = "alias_history"  # 通称の記載及び削除に関する事項 (令第30条の27)
    # Items a 記載事項証明書 may certify one by one (a 写し always shows them).
    NAME_KANA = "name_kana"  # 氏名の振り仮名 (Japanese nationals only)
    BIRTH_DATE = "birth_date"  # 出生の年月日
    SEX = "sex"  # 男女の別
    ADDRESS = "address"  # 住所
    RESIDENT_SINCE = "resident_since"  # 住民（外国人住民）となった年月日
    ADDRESS_SINCE = "address_since"  # 住所を定めた年月日
    NOTIFIED_ON = "notified_on"  # 届出の年月日
    PREVIOUS_ADDRESS = "previous_address"  # 従前の住所

    @property
    def label_ja(self) -> str:
        return _ITEM_JA[self]


_ITEM_JA: Final = {
    OptionalItem.HOUSEHOLDER: "世帯主・続柄",
    OptionalItem.HONSEKI: "本籍・筆頭者",
    OptionalItem.RESIDENT_CODE: "住民票コード",
    OptionalItem.MY_NUMBER: "個人番号",
    OptionalItem.FORMER_SURNAME: "旧氏",
    OptionalItem.FOREIGN_ITEMS: "国籍・在留資格等（外国人住民）",
    OptionalItem.ALIAS_HISTORY: "通称の記載及び削除に関する事項",
    OptionalItem.NAME_KANA: "氏名の振り仮名",
    OptionalItem.BIRTH_DATE: "生年月日",
    OptionalItem.SEX: "性別",
    OptionalItem.ADDRESS: "住所",
    OptionalItem.RESIDENT_SINCE: "住民となった年月日",
    OptionalItem.ADDRESS_SINCE: "住所を定めた年月日",
    OptionalItem.NOTIFIED_ON: "届出の年月日",
    OptionalItem.PREVIOUS_ADDRESS: "従前の住所",
}
# What a 記載事項証明書 certifies when the applicant names no item: the four basic items.
BASIC_ITEMS: Final = frozenset(
    {OptionalItem.BIRTH_DATE, OptionalItem.SEX, OptionalItem.ADDRESS, OptionalItem.NAME_KANA}
)
# The items a 写し always shows, so they are asked for only on a 記載事項証明書.
RECORD_ITEMS_ONLY: Final = frozenset(
    {
        OptionalItem.NAME_KANA,
        OptionalItem.BIRTH_DATE,
        OptionalItem.SEX,
        OptionalItem.ADDRESS,
        OptionalItem.RESIDENT_SINCE,
        OptionalItem.ADDRESS_SINCE,
        OptionalItem.NOTIFIED_ON,
        OptionalItem.PREVIOUS_ADDRESS,
    }
)


class Requester(StrEnum):
    # 本人又は同一世帯の者 (第12条); for a 戸籍の附票の写し the 本人等 of 第20条第1項: the person
    # on the 附票 (or removed from it), their spouse, lineal ascendants and descendants
    SELF = "self"
    THIRD_PARTY = "third_party"  # 第三者 (第12条の3; 附票: 第20条第3項・第4項)

    @property
    def label_ja(self) -> str:
        return {"self": "本人・同一世帯員", "third_party": "第三者"}[self.value]


class Channel(StrEnum):
    COUNTER = "counter"  # 窓口
    WIDE_AREA = "wide_area"  # 広域交付 (第12条の4)
    KIOSK = "kiosk"  # コンビニ交付: the card holder at a store's machine (juki.certificates.kiosk)

    @property
    def label_ja(self) -> str:
        return {"counter": "窓口", "wide_area": "広域交付", "kiosk": "コンビニ交付"}[self.value]


@dataclass(frozen=True, slots=True)
class SupportOverride:
    """A supervisor's recorded decision to issue despite 支援措置 (e.g. the person's own
    request, identity checked in person)."""

    approved_by: str
    reason: str


Members = tuple[str, ...] | Literal["all"]


@dataclass(frozen=True, slots=True)
class CertificateRequest:
    """What the applicant asked for. `members=()` means the subject alone."""

    kind: CertificateKind
    resident_code: str
    members: Members = ()
    items: frozenset[OptionalItem] = frozenset()
    copies: int = 1
    requester: Requester = Requester.SELF
    channel: Channel = Channel.COUNTER
    removed: bool = False  # 除票の写し
    support_override: SupportOverride | None = None
    # 第三者請求 (第12条の3): the requester, the purpose and the document shown; required when
    # `requester` is THIRD_PARTY and given only then (juki.certificates.third_party).
    third_party: ThirdPartyRequest | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one transaction read for a request; the content is built from this alone."""

    municipality: Municipality
    subject: ResidentRecord
    household_members: tuple[ResidentRecord, ...]  # active members, householder first
    seal: SealRegistration | None
    read_at: datetime


@dataclass(frozen=True, slots=True)
class Line:
    """One printed item: a stable key (for machines and tests), its label and its text."""

    key: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class PersonEntry:
    name: str
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class CertificateContent:
    """The record side of a certificate: exactly what is printed about the people on it."""

    kind: CertificateKind
    title: str
    record_lg_code: str
    record_municipality: str
    as_of: str
    scope: str
    header: tuple[Line, ...]
    persons: tuple[PersonEntry, ...]
    certification: str
    items: tuple[str, ...]
    channel: Channel
    removed: bool
    seal_sha256: str | None = None
    version: int = CONTENT_VERSION

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.persons)


@dataclass(frozen=True, slots=True)
class Issuance:
    """The issuing side: who certifies, when, where, and the number of every copy."""

    certificate_id: str
    lg_code: str
    municipality: str
    signatory: str
    issued_at: str
    issued_on: str
    terminal_id: str
    issue_numbers: tuple[str, ...]
    verify_base_url: str

    @property
    def issued_date(self) -> date:
        return date.fromisoformat(self.issued_on)


def all_lines(content: CertificateContent) -> Iterable[Line]:
    """Every printed line of the content, header first (each must be drawable in the font)."""
    yield from content.header
    for person in content.persons:
        yield from person.lines


def carries_my_number(content: CertificateContent) -> bool:
    """Whether the certificate prints a 個人番号 (asked for, or a 転出証明書's): whoever previews,
    issues or reads it is shown the number, and the oplog entry says so."""
    return any(line.key == "my_number" for line in all_lines(content))


@dataclass(frozen=True, slots=True)
class CertificateStatus:
    """What the issuing registry says about a certificate; nothing a holder does not have."""

    certificate_id: str
    status: str  # "valid" | "void"
    kind: CertificateKind
    issuer_lg_code: str
    issuer_name: str
    issued_at: str
    issue_numbers: tuple[str, ...]
    spoiled_issue_numbers: tuple[str, ...]
    names: tuple[str, ...]
    voided_at: str | None
    pdf_sha256: str | None

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["kind_ja"] = self.kind.label_ja
        return out
