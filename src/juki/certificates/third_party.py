"""第三者請求 (住民基本台帳法 第12条の3): who asked for someone else's certificate, why, and on
what identification — as plain values and the rules they must meet before anything is issued.

A third party is anyone who is neither the person nor a member of their household (第12条).
第1項 admits, on a stated purpose, a person who needs the record to exercise their own rights
or fulfil their own duties (一号), to submit it to a national or local authority (二号), or
who has another legitimate reason (三号); 第2項 admits a 特定事務受任者 (弁護士, 司法書士,
土地家屋調査士, 税理士, 社会保険労務士, 弁理士, 海事代理士, 行政書士) for a client's matter. The
request is made by 申出 stating 申出者の氏名及び住所 (a 法人: its name, office and the person in
charge), 利用の目的, and, for 第2項, the 受任者's qualification and the client (第4項); the
person at the counter proves who they are (第12条の3第5項 準用 第12条第3項: 本人確認書類).

These values are kept with the certificate they obtained (`third_party_requests`), so the
register shows who obtained whose certificate for what, and a 本人通知 names the requester
(`juki.certificates.self_notice`). No I/O here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from juki.certificates.model import CertificateKind, CertificateRequest, Requester
from juki.core.errors import DomainRuleError, ValidationError
from juki.core.text import validate_name

MAX_PURPOSE: Final = 200
MAX_NAME: Final = 80
MAX_ADDRESS: Final = 160
MAX_DOCUMENT_NUMBER: Final = 40
# The kinds a third party may obtain: 第12条の3 is about 住民票の写し and 記載事項証明書 (and,
# by 第15条の4第3項, the 除票's); 第20条第3項・第4項 admit the same requesters, on the same
# grounds, to a 戸籍の附票の写し. A seal certificate goes to the 登録証's holder; a 転出証明書
# to the movers.
THIRD_PARTY_KINDS: Final = frozenset(
    {CertificateKind.RESIDENCE, CertificateKind.RECORD_ITEMS, CertificateKind.FUHYO}
)


class RequestBasis(StrEnum):
    """The paragraph and item a third party's request stands on."""

    OWN_RIGHTS = "own_rights"  # 第1項第1号: 自己の権利行使・義務履行
    SUBMISSION = "submission"  # 第1項第2号: 国又は地方公共団体の機関への提出
    OTHER_LEGITIMATE = "other_legitimate"  # 第1項第3号: その他正当な理由
    ENTRUSTED = "entrusted"  # 第2項: 特定事務受任者 (弁護士、司法書士等)

    @property
    def label_ja(self) -> str:
        return _BASIS_JA[self]

    @property
    def article(self) -> str:
        return _BASIS_ARTICLE[self]

    def article_for(self, kind: CertificateKind) -> str:
        """The paragraph for this kind: a 戸籍の附票の写し stands on 第20条 (第3項各号・第4項)."""
        return _FUHYO_ARTICLE[self] if kind is CertificateKind.FUHYO else _BASIS_ARTICLE[self]


_BASIS_JA: Final = {
    RequestBasis.OWN_RIGHTS: "自己の権利行使・義務履行のため",
    RequestBasis.SUBMISSION: "国・地方公共団体の機関への提出のため",
    RequestBasis.OTHER_LEGITIMATE: "その他正当な理由",
    RequestBasis.ENTRUSTED: "特定事務受任者（受任事件・事務のため）",
}
_BASIS_ARTICLE: Final = {
    RequestBasis.OWN_RIGHTS: "法12条の3第1項第1号",
    RequestBasis.SUBMISSION: "法12条の3第1項第2号",
    RequestBasis.OTHER_LEGITIMATE: "法12条の3第1項第3号",
    RequestBasis.ENTRUSTED: "法12条の3第2項",
}

_FUHYO_ARTICLE: Final = {
    RequestBasis.OWN_RIGHTS: "法20条3項1号",
    RequestBasis.SUBMISSION: "法20条3項2号",
    RequestBasis.OTHER_LEGITIMATE: "法20条3項3号",
    RequestBasis.ENTRUSTED: "法20条4項",
}


class Qualification(StrEnum):
    """特定事務受任者 (第12条の3第2項各号) — the only ones who may request under 第2項."""

    LAWYER = "lawyer"  # 弁護士
    JUDICIAL_SCRIVENER = "judicial_scrivener"  # 司法書士
    LAND_SURVEYOR = "land_surveyor"  # 土地家屋調査士
    TAX_ACCOUNTANT = "tax_accountant"  # 税理士
    LABOR_CONSULTANT = "labor_consultant"  # 社会保険労務士
    PATENT_ATTORNEY = "patent_attorney"  # 弁理士
    MARITIME_AGENT = "maritime_agent"  # 海事代理士
    ADMINISTRATIVE_SCRIVENER = "administrative_scrivener"  # 行政書士

    @property
    def label_ja(self) -> str:
        return _QUALIFICATION_JA[self]


_QUALIFICATION_JA: Final = {
    Qualification.LAWYER: "弁護士",
    Qualification.JUDICIAL_SCRIVENER: "司法書士",
    Qualification.LAND_SURVEYOR: "土地家屋調査士",
    Qualification.TAX_ACCOUNTANT: "税理士",
    Qualification.LABOR_CONSULTANT: "社会保険労務士",
    Qualification.PATENT_ATTORNEY: "弁理士",
    Qualification.MARITIME_AGENT: "海事代理士",
    Qualification.ADMINISTRATIVE_SCRIVENER: "行政書士",
}


class IdDocument(StrEnum):
    """本人確認書類 as the counter saw it (規則 / 省令: 写しの交付の際の本人確認)."""

    MY_NUMBER_CARD = "my_number_card"  # 個人番号カード
    DRIVER_LICENCE = "driver_licence"  # 運転免許証
    PASSPORT = "passport"  # 旅券
    RESIDENCE_CARD = "residence_card"  # 在留カード・特別永住者証明書
    PROFESSIONAL_ID = "professional_id"  # 資格者の身分証明書 (弁護士等の職員証・会員証)
    OTHER_PHOTO_ID = "other_photo_id"  # その他官公署発行の写真付き証明書

    @property
    def label_ja(self) -> str:
        return _DOCUMENT_JA[self]


_DOCUMENT_JA: Final = {
    IdDocument.MY_NUMBER_CARD: "個人番号カード",
    IdDocument.DRIVER_LICENCE: "運転免許証",
    IdDocument.PASSPORT: "旅券",
    IdDocument.RESIDENCE_CARD: "在留カード・特別永住者証明書",
    IdDocument.PROFESSIONAL_ID: "資格者の身分証明書",
    IdDocument.OTHER_PHOTO_ID: "その他の写真付き証明書",
}


@dataclass(frozen=True, slots=True)
class ThirdPartyRequest:
    """The 申出 of a third party, as written on the form and checked at the counter.

    `requester_name`/`requester_address` are the person's, or for a 法人 its name and the
    address of its office, with `person_in_charge` the one who came; for 第2項, `qualification`
    and `registration_number` are the 受任者's and `client_name` the 依頼者. The document shown
    is recorded as seen (kind and number), never checked against any other register.
    """

    basis: RequestBasis
    purpose: str
    requester_name: str
    requester_address: str
    id_document: IdDocument | None
    id_document_number: str
    corporation: bool = False
    person_in_charge: str = ""
    qualification: Qualification | None = None
    registration_number: str = ""
    client_name: str = ""

    @property
    def notice_name(self) -> str:
        """The name a 本人通知 gives: the 受任者 (第2項) or the requester (第1項, a 法人 by its
        name) — never the client, whose name the municipality does not disclose."""
        if self.basis is RequestBasis.ENTRUSTED and self.qualification is not None:
            return f"{self.qualification.label_ja}　{self.requester_name}"
        return self.requester_name


def _text(field: str, value: str, label_ja: str, max_len: int) -> str:
    """A required free text, with the field and a Japanese message naming the item."""
    if not value.strip():
        raise ValidationError(
            field, "required", f"{field} is required", f"{label_ja}を入力してください"
        )
    try:
        return validate_name(field, value, max_len=max_len)
    except ValidationError as exc:
        # validate_name names the item by its own label ("住所" for addresses, else "入力値").
        default = "住所" if field.endswith("address") else "入力値"
        message = exc.message_ja
        if message.startswith(default):
            message = label_ja + message[len(default) :]
        raise ValidationError(field, exc.rule, exc.message_en, message) from exc


def _optional(field: str, value: str, label_ja: str, max_len: int) -> str:
    return _text(field, value, label_ja, max_len) if value.strip() else ""


def checked(request: ThirdPartyRequest) -> ThirdPartyRequest:
    """The 申出 with its texts trimmed, or the first rule it breaks, naming the field.

    Refused without a purpose (第12条の3第4項第3号: 利用の目的) and without identification
    (第12条の3第5項: 本人確認); a 法人 names the person in charge; a 第2項 request names the
    受任者's qualification and registration number and the client.
    """
    purpose = _text("third_party.purpose", request.purpose, "利用目的", MAX_PURPOSE)
    if len(purpose) < 4:
        raise ValidationError(
            "third_party.purpose",
            "too_vague",
            "state the purpose concretely (what the certificate will be used for)",
            "利用目的を具体的に記入してください（何のために使うか）",
        )
    if request.id_document is None:
        raise ValidationError(
            "third_party.id_document",
            "required",
            "the identification document shown at the counter is required",
            "本人確認書類の種類を選択してください（本人確認ができない請求は受け付けられません）",
        )
    number = _text(
        "third_party.id_document_number",
        request.id_document_number,
        "本人確認書類の番号",
        MAX_DOCUMENT_NUMBER,
    )
    name_label = "法人の名称" if request.corporation else "請求者の氏名"
    address_label = "法人の事務所の所在地" if request.corporation else "請求者の住所"
    name = _text("third_party.requester_name", request.requester_name, name_label, MAX_NAME)
    address = _text(
        "third_party.requester_address", request.requester_address, address_label, MAX_ADDRESS
    )
    in_charge = (
        _text("third_party.person_in_charge", request.person_in_charge, "担当者の氏名", MAX_NAME)
        if request.corporation
        else _optional("third_party.person_in_charge", request.person_in_charge, "担当者", MAX_NAME)
    )
    registration, client = _entrusted(request)
    return ThirdPartyRequest(
        basis=request.basis,
        purpose=purpose,
        requester_name=name,
        requester_address=address,
        id_document=request.id_document,
        id_document_number=number,
        corporation=request.corporation,
        person_in_charge=in_charge,
        qualification=request.qualification,
        registration_number=registration,
        client_name=client,
    )


def _entrusted(request: ThirdPartyRequest) -> tuple[str, str]:
    """第2項's own items: the qualification, the registration number and the client."""
    if request.basis is not RequestBasis.ENTRUSTED:
        if request.qualification is not None:
            raise ValidationError(
                "third_party.qualification",
                "not_entrusted",
                "a qualification is given only for a request under paragraph 2",
                "資格は特定事務受任者（第2項）の請求のときだけ選択してください",
            )
        return "", ""
    if request.qualification is None:
        raise ValidationError(
            "third_party.qualification",
            "required",
            "a request under paragraph 2 names the requester's qualification",
            "特定事務受任者の資格（弁護士、司法書士等）を選択してください",
        )
    registration = _text(
        "third_party.registration_number",
        request.registration_number,
        "資格の登録番号",
        MAX_DOCUMENT_NUMBER,
    )
    client = _text("third_party.client_name", request.client_name, "依頼者の氏名", MAX_NAME)
    return registration, client


def check_third_party(request: CertificateRequest) -> CertificateRequest:
    """The request with its 申出 checked: a third party's certificate needs one (and only a
    third party's has one); a third party obtains only a 写し or a 記載事項証明書."""
    details = request.third_party
    if request.requester is not Requester.THIRD_PARTY:
        if details is not None:
            raise ValidationError(
                "requester",
                "not_third_party",
                "the requester's details are given only for a third-party request",
                "請求者の記入は第三者請求のときだけ行います（請求者の区分を確認してください）",
            )
        return request
    if request.kind not in THIRD_PARTY_KINDS:
        raise DomainRuleError(
            "kind",
            "third_party_kind",
            "a third party may obtain only a residence, a record-items or a 附票 certificate",
            f"第三者請求では{request.kind.label_ja}は交付できません",
        )
    if details is None:
        raise ValidationError(
            "third_party",
            "required",
            "a third-party request records the requester, the purpose and the document shown",
            "第三者請求には請求者・利用目的・本人確認書類の記入が必要です",
        )
    return dataclasses.replace(request, third_party=checked(details))
