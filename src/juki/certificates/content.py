"""What a certificate says: which members and which items, as pure rules over one snapshot.

住民基本台帳法 第12条 and the 住民票の写し等の交付に関する事務処理要領 decide the
items: by default a 住民票の写し leaves off 世帯主・続柄, 本籍・筆頭者, 住民票コード and
個人番号 (and a foreign resident's 国籍・在留 items and 通称履歴) and shows them only when the
applicant asks; a 記載事項証明書 shows the name and the items asked for; 旧氏 (with its reading,
except on a seal certificate) is on every certificate once recorded, unasked, and a foreign
resident's 通称 is part of the name; a foreign resident's name has no printed reading and their
record has 外国人住民となった年月日 (法第30条の45); a removed record (除票) is only ever shown
on a 除票 request; a wide-area copy (広域交付, 第12条の4) never carries 本籍・筆頭者; a third
party (第12条の3) never gets 住民票コード or 個人番号; and a person under DV support
measures (支援措置) is never shown unless an authorised override is recorded.

The result, a `juki.certificates.model.CertificateContent`, is exactly what gets printed —
nothing else of the record is in it — and `juki.certificates.document` gives it the one JSON
spelling its digest covers, that the PDF embeds and the database keeps, and that a
municipality's CS can later carry to another municipality for a wide-area issuance (the home
municipality builds the content, the issuing one adds its `Issuance` and renders).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from juki.certificates.model import (
    ALL_MEMBERS,
    BASIC_ITEMS,
    RECORD_ITEMS_ONLY,
    CertificateContent,
    CertificateKind,
    CertificateRequest,
    Channel,
    Line,
    OptionalItem,
    PersonEntry,
    Requester,
    Snapshot,
)
from juki.core.era import to_wareki
from juki.core.errors import DomainRuleError, ValidationError
from juki.registry.model import Relationship, ResidentRecord

MAX_COPIES: Final = 10

ALLOWED_ITEMS: Final[Mapping[CertificateKind, frozenset[OptionalItem]]] = {
    # A 写し shows the basic items always; only the omitted ones (法第12条第5項) are asked for.
    CertificateKind.RESIDENCE: frozenset(OptionalItem) - RECORD_ITEMS_ONLY,
    # A 記載事項証明書 certifies the items asked for, any of them (法第12条第1項).
    CertificateKind.RECORD_ITEMS: frozenset(OptionalItem),
    # 印鑑登録証明書: 印影・氏名・生年月日・住所, and 旧氏 when recorded (always shown).
    CertificateKind.SEAL: frozenset({OptionalItem.FORMER_SURNAME}),
    # 転出証明書 (令23条): every item it has is printed; none is asked for.
    CertificateKind.MOVE_OUT: frozenset(),
    # 戸籍の附票の写し: 戸籍の表示 and 住民票コード only when asked for (法20条5項 準用 12条5項).
    CertificateKind.FUHYO: frozenset({OptionalItem.HONSEKI, OptionalItem.RESIDENT_CODE}),
}
# The items each kind prints in its person lines whatever was asked (the name always).
_ALWAYS: Final[Mapping[CertificateKind, frozenset[OptionalItem]]] = {
    CertificateKind.RESIDENCE: RECORD_ITEMS_ONLY - {OptionalItem.ADDRESS},  # 住所 heads the page
    CertificateKind.RECORD_ITEMS: frozenset(),
    CertificateKind.SEAL: frozenset(
        {OptionalItem.NAME_KANA, OptionalItem.BIRTH_DATE, OptionalItem.ADDRESS}
    ),
    CertificateKind.MOVE_OUT: frozenset(),  # its lines are juki.certificates.move_out's
    CertificateKind.FUHYO: frozenset(),  # its lines are juki.certificates.fuhyo's
}


def shown_items(kind: CertificateKind, items: frozenset[OptionalItem]) -> frozenset[OptionalItem]:
    """Every item a person's lines include: what the kind always shows, and what was asked.

    A 記載事項証明書 for which no item was named certifies the four basic items (氏名・氏名の
    振り仮名・生年月日・性別・住所), as a counter does when the applicant names none.
    """
    asked = items - {OptionalItem.FORMER_SURNAME}
    if kind is CertificateKind.RECORD_ITEMS and not asked:
        asked = BASIC_ITEMS
    return _ALWAYS[kind] | asked


# -- dates -------------------------------------------------------------------------------------


def western_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def person_date(d: date, *, foreign: bool) -> str:
    """Japanese residents' dates in the era (令和7年4月1日); a foreign resident's in the Western
    calendar, as the 事務処理要領 has it for 外国人住民 (their documents carry Western dates)."""
    return western_date(d) if foreign else to_wareki(d)


# -- validation of the request on its own -------------------------------------------------------


def check_request(request: CertificateRequest) -> None:
    """Rules that need no record: copies, items allowed for the kind, channel, requester."""
    if not 1 <= request.copies <= MAX_COPIES:
        raise ValidationError(
            "copies",
            "range",
            f"copies must be between 1 and {MAX_COPIES}",
            f"部数は1〜{MAX_COPIES}通で指定してください",
        )
    not_allowed = sorted(request.items - ALLOWED_ITEMS[request.kind])
    if not_allowed:
        item = OptionalItem(not_allowed[0])
        always = request.kind is CertificateKind.RESIDENCE and item in RECORD_ITEMS_ONLY
        raise ValidationError(
            "items",
            "not_for_kind",
            f"{item.value} cannot be requested on a {request.kind.value} certificate"
            + (" (a residence certificate always shows it)" if always else ""),
            f"{request.kind.label_ja}には「{item.label_ja}」を"
            + (
                "常に記載します（項目の指定は記載事項証明書で行います）"
                if always
                else "記載できません"
            ),
        )
    if request.requester is Requester.THIRD_PARTY and request.items & {
        OptionalItem.RESIDENT_CODE,
        OptionalItem.MY_NUMBER,
    }:
        raise DomainRuleError(
            "items",
            "third_party_identifiers",
            "a third party never receives the resident code or the my number",
            "第三者請求では住民票コード・個人番号を記載できません",
        )
    if request.channel is Channel.WIDE_AREA:
        if request.kind is not CertificateKind.RESIDENCE or request.removed:
            raise DomainRuleError(
                "kind",
                "wide_area_kind",
                "wide-area issuance is for a residence certificate of a current record only",
                "広域交付できるのは住民票の写し（除票を除く）のみです",
            )
        if OptionalItem.HONSEKI in request.items:
            raise DomainRuleError(
                "items",
                "wide_area_honseki",
                "a wide-area copy never carries the honseki or the koseki head",
                "広域交付の住民票の写しには本籍・筆頭者を記載できません",
            )
    if request.channel is Channel.KIOSK and (
        OptionalItem.RESIDENT_CODE in request.items
        or request.requester is not Requester.SELF
        or request.removed
        or request.support_override is not None
        or request.kind is CertificateKind.MOVE_OUT
    ):
        raise DomainRuleError(  # juki.certificates.kiosk: the card holder's own, current record
            "kind",
            "kiosk_request",
            "a kiosk certificate is the card holder's (or household's) current record, never "
            "with the resident code, a support-measure override or as a 除票 or 転出証明書",
            "この証明書はコンビニでは交付できません。市区町村の窓口にお越しください",
        )
    if request.removed and request.kind is CertificateKind.SEAL:
        raise DomainRuleError(
            "removed",
            "seal_removed",
            "there is no seal certificate of a removed record",
            "除票の印鑑登録証明書は交付できません",
        )
    if isinstance(request.members, tuple) and len(set(request.members)) != len(request.members):
        raise ValidationError(
            "members", "duplicate", "a member is listed twice", "同じ世帯員が重複しています"
        )


# -- members ------------------------------------------------------------------------------------


def select_members(request: CertificateRequest, snapshot: Snapshot) -> tuple[ResidentRecord, ...]:
    """The records the certificate shows, in household order (householder first)."""
    subject = snapshot.subject
    subject_only = request.members in ((), (subject.resident_code,))
    if request.kind is CertificateKind.SEAL or request.removed:
        if not subject_only:
            raise ValidationError(
                "members",
                "subject_only",
                "this certificate is about the applicant alone; members cannot be selected",
                f"{_title(request)}は本人分のみ交付できます（世帯員は選択できません）",
            )
        return (subject,)
    if request.members == ALL_MEMBERS:
        return snapshot.household_members
    if not request.members:
        return (subject,)
    by_code = {m.resident_code: m for m in snapshot.household_members}
    for position, code in enumerate(request.members):
        if code not in by_code:
            raise DomainRuleError(
                f"members.{position}",
                "not_in_household",
                "a selected member is not an active member of the subject's household",
                f"選択された{position + 1}人目は同じ世帯の住民ではありません",
            )
    chosen = set(request.members)
    return tuple(m for m in snapshot.household_members if m.resident_code in chosen)


def _householder(snapshot: Snapshot) -> ResidentRecord | None:
    for m in snapshot.household_members:
        if m.relationship is Relationship.HOUSEHOLDER:
            return m
    return None


def check_record_state(request: CertificateRequest, snapshot: Snapshot) -> None:
    subject = snapshot.subject
    if subject.is_active and request.removed:
        raise DomainRuleError(
            "removed",
            "not_removed",
            "the record is not removed; ask for a current certificate instead",
            "この住民票は消除されていません（除票ではありません）",
        )
    if not subject.is_active and not request.removed:
        raise DomainRuleError(
            "resident_code",
            "removed_record",
            "the record is removed (除票); only a 除票 request may show it",
            "この住民票は消除されています。除票の写しとして請求してください",
        )
    if request.kind is CertificateKind.SEAL:
        seal = snapshot.seal
        if seal is None or not seal.is_live or seal.record_id != subject.record_id:
            raise DomainRuleError(
                "kind",
                "no_live_seal",
                "the person has no live seal registration; an abolished seal is never certified",
                "有効な印鑑登録がありません（廃止された印鑑は証明できません）",
            )


def check_support_measures(
    request: CertificateRequest, shown: Sequence[ResidentRecord], householder: ResidentRecord | None
) -> None:
    """支援措置 (事務処理要領 第5-10): refuse when anyone whose data would be printed is protected
    on the day read (the snapshot's records say so: `support_measure` is the measure in force
    that day, not during a temporary release). A third party (法第12条の3) is refused outright —
    a temporary release for the stated purpose is the way a third party may obtain it; the
    person or their household only with a supervisor's recorded override (identity checked in
    person); a wide-area request is never overridden (`juki.certificates.wide_area`)."""
    people = list(shown)
    if householder is not None and OptionalItem.HOUSEHOLDER in request.items:
        people.append(householder)
    protected = any(p.support_measure for p in people)
    if protected and request.requester is Requester.THIRD_PARTY:
        raise DomainRuleError(
            "resident_code",
            "support_measure",
            "a person on this certificate is under support measures (支援措置): "
            "refused to a third party (法第12条の3) unless the measure is temporarily released",
            "支援措置の対象者が含まれるため、第三者からの請求には交付できません"
            "（支援措置の一時的な解除の期間を除く）",
        )
    if protected and request.support_override is None:
        raise DomainRuleError(
            "resident_code",
            "support_measure",
            "a person on this certificate is under support measures (支援措置); "
            "a supervisor must record an override",
            "支援措置の対象者が含まれるため交付できません（管理者による確認と承認が必要です）",
        )
    override = request.support_override
    if override is not None and not override.reason.strip():
        raise ValidationError(
            "support_override.reason",
            "required",
            "an override needs a reason",
            "支援措置の解除理由を入力してください",
        )


# -- the lines of one person --------------------------------------------------------------------


def _name_lines(
    kind: CertificateKind, r: ResidentRecord, shown: frozenset[OptionalItem]
) -> list[Line]:
    """氏名, its reading (never a foreign resident's, 2023 amendment from 2025-05-26), the 通称
    (part of a foreign resident's name, 令第30条の26) and the 旧氏 with its reading, unasked once
    recorded (令第30条の13; not among what 法第12条第5項 lets a 写し leave off); the seal
    certificate shows the 旧氏 without its reading."""
    lines = [Line("name", "氏名", r.full_name)]
    if OptionalItem.NAME_KANA in shown and not r.is_foreign:
        lines.append(Line("name_kana", "フリガナ", r.full_name_kana))
    if r.is_foreign and r.alias_name:
        lines.append(Line("alias_name", "通称", r.alias_name))
    if r.former_surname and not r.is_foreign:
        lines.append(Line("former_surname", "旧氏", r.former_surname))
        if kind is not CertificateKind.SEAL and r.former_surname_kana:
            lines.append(Line("former_surname_kana", "旧氏の振り仮名", r.former_surname_kana))
    return lines


def _foreign_lines(r: ResidentRecord) -> list[Line]:
    lines: list[Line] = []
    if r.nationality:
        lines.append(Line("nationality", "国籍・地域", r.nationality))
    if r.foreign_category:
        lines.append(
            Line("foreign_category", "第30条の45に規定する区分", r.foreign_category.label_ja)
        )
    if r.residence_status:
        lines.append(Line("residence_status", "在留資格", r.residence_status))
    if r.period_of_stay:
        lines.append(Line("period_of_stay", "在留期間", r.period_of_stay))
    if r.stay_expiry:
        lines.append(Line("stay_expiry", "在留期間の満了の日", western_date(r.stay_expiry)))
    if r.residence_card_number:
        lines.append(Line("residence_card_number", "在留カード等の番号", r.residence_card_number))
    return lines


def alias_history_lines(r: ResidentRecord) -> list[Line]:
    """通称の記載及び削除に関する事項 (令第30条の27): each entry and deletion, where and when."""
    return [
        Line(
            "alias_history",
            "通称の記載・削除",
            f"{western_date(e.on)}　{e.municipality}で{e.action.label_ja}　{e.alias_name}",
        )
        for e in r.alias_history
    ]


def _dated_lines(
    kind: CertificateKind, r: ResidentRecord, shown: frozenset[OptionalItem]
) -> list[Line]:
    """The dates and addresses of the record (a 写し: all; a 記載事項証明書: those asked for)."""
    foreign = r.is_foreign

    def when(d: date) -> str:
        return person_date(d, foreign=foreign)

    lines: list[Line] = []
    if OptionalItem.RESIDENT_SINCE in shown:
        # 法第30条の45: a foreign resident's record has 外国人住民となった年月日 instead.
        label = "外国人住民となった年月日" if foreign else "住民となった年月日"
        lines.append(Line("resident_since", label, when(r.resident_since)))
    if OptionalItem.ADDRESS_SINCE in shown:
        lines.append(Line("address_since", "住所を定めた年月日", when(r.address_since)))
    if OptionalItem.NOTIFIED_ON in shown and r.notified_on:
        lines.append(Line("notified_on", "届出日", when(r.notified_on)))
    if OptionalItem.PREVIOUS_ADDRESS in shown and r.previous_address:
        lines.append(Line("previous_address", "前住所", r.previous_address))
    if kind is CertificateKind.RESIDENCE:
        if r.move_out_planned_address and r.move_out_planned_on:
            lines.append(
                Line(
                    "move_out_planned",
                    "転出予定",
                    f"{when(r.move_out_planned_on)}　{r.move_out_planned_address}",
                )
            )
        if r.move_out_confirmed_address and r.move_out_confirmed_on:
            lines.append(
                Line(
                    "move_out_confirmed",
                    "転出確定",
                    f"{when(r.move_out_confirmed_on)}　{r.move_out_confirmed_address}",
                )
            )
    if OptionalItem.ADDRESS in shown:
        lines.append(Line("address", "住所", r.address))
    return lines


def person_lines(
    kind: CertificateKind, r: ResidentRecord, items: frozenset[OptionalItem], *, removed: bool
) -> tuple[Line, ...]:
    foreign = r.is_foreign
    shown = shown_items(kind, items)
    lines = _name_lines(kind, r, shown)
    if OptionalItem.BIRTH_DATE in shown:
        lines.append(Line("birth_date", "生年月日", person_date(r.birth_date, foreign=foreign)))
    if OptionalItem.SEX in shown:
        lines.append(Line("sex", "性別", r.sex.label_ja))
    if OptionalItem.HOUSEHOLDER in shown:
        lines.append(Line("relationship", "続柄", r.relationship.label_ja))
    lines.extend(_dated_lines(kind, r, shown))
    if OptionalItem.HONSEKI in shown and not foreign and r.honseki:
        lines.append(Line("honseki", "本籍", r.honseki))
        if r.koseki_head:
            lines.append(Line("koseki_head", "筆頭者", r.koseki_head))
    if OptionalItem.RESIDENT_CODE in shown:
        lines.append(Line("resident_code", "住民票コード", r.resident_code))
    if OptionalItem.MY_NUMBER in shown and r.my_number:
        lines.append(Line("my_number", "個人番号", r.my_number))
    if foreign and OptionalItem.FOREIGN_ITEMS in shown:
        lines.extend(_foreign_lines(r))
    if foreign and OptionalItem.ALIAS_HISTORY in shown:
        lines.extend(alias_history_lines(r))
    if removed:
        if r.removal_reason:
            lines.append(Line("removal_reason", "消除事由", r.removal_reason.label_ja))
        if r.removed_on:
            lines.append(Line("removed_on", "消除日", person_date(r.removed_on, foreign=foreign)))
    return tuple(lines)


# -- the whole content -------------------------------------------------------------------------


def _title(request: CertificateRequest) -> str:
    if request.kind is CertificateKind.RESIDENCE and request.removed:
        return "住民票の除票の写し"
    return request.kind.label_ja


def _scope(request: CertificateRequest, shown: int, household: int) -> str:
    if request.kind is CertificateKind.SEAL:
        return ""
    if request.removed:
        return "除票"
    if shown == household and shown > 1:
        return "世帯全員"
    return "世帯の一部" if household > 1 else "本人"


def _certification(request: CertificateRequest, scope: str) -> str:
    if request.kind is CertificateKind.SEAL:
        return "この写しは、登録されている印影と相違ないことを証明する。"
    if request.kind is CertificateKind.RECORD_ITEMS:
        return "上記の事項は、住民票に記載されている事項と相違ないことを証明する。"
    if request.removed:
        return "この写しは、住民票の除票の原本と相違ないことを証明する。"
    if scope == "世帯全員":
        return "この写しは、世帯全員の住民票の原本と相違ないことを証明する。"
    return "この写しは、住民票の原本と相違ないことを証明する。"


def build_content(request: CertificateRequest, snapshot: Snapshot) -> CertificateContent:
    """Apply every rule to one snapshot and return what will be printed, or raise why not."""
    check_request(request)
    if request.kind is CertificateKind.FUHYO:  # not from a 住民票 (juki.certificates.fuhyo)
        raise ValueError("a 戸籍の附票の写し is built by juki.certificates.fuhyo.fuhyo_content")
    if request.kind is CertificateKind.MOVE_OUT:
        from juki.certificates.move_out import move_out_content  # it builds on this module

        return move_out_content(request, snapshot)
    check_record_state(request, snapshot)
    shown = select_members(request, snapshot)
    householder = _householder(snapshot) if snapshot.subject.is_active else None
    check_support_measures(request, shown, householder)
    subject = snapshot.subject
    header: list[Line] = []
    if request.kind is CertificateKind.RESIDENCE:
        header.append(Line("address", "住所", subject.address))
        if OptionalItem.HOUSEHOLDER in request.items and householder is not None:
            header.append(Line("householder", "世帯主", householder.full_name))
    persons = tuple(
        PersonEntry(
            name=r.full_name,
            lines=person_lines(request.kind, r, request.items, removed=request.removed),
        )
        for r in shown
    )
    scope = _scope(request, len(shown), len(snapshot.household_members))
    m = snapshot.municipality
    return CertificateContent(
        kind=request.kind,
        title=_title(request),
        record_lg_code=m.lg_code,
        record_municipality=m.address_prefix,
        as_of=snapshot.read_at.isoformat(),
        scope=scope,
        header=tuple(header),
        persons=persons,
        certification=_certification(request, scope),
        items=tuple(sorted(i.value for i in request.items)),
        channel=request.channel,
        removed=request.removed,
        seal_sha256=(
            snapshot.seal.image_sha256
            if request.kind is CertificateKind.SEAL and snapshot.seal is not None
            else None
        ),
    )
