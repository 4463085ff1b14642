"""戸籍の附票の写し (住民基本台帳法 第20条): the 本籍 municipality certifies, from its 附票 entries,
where the people of one family register have lived. No I/O.

The 本籍 municipality makes a 附票 for each 戸籍 (第16条) and keeps on it what the municipality of
residence notifies (第19条; the `fuhyo_entries` the CS records): 氏名, 住所 and 住所を定めた年月日
— for a 国外転出者, 国外転出者である旨 and the planned date of the 国外転出 — 出生の年月日, 男女の
別 and 住民票コード (第17条第2号〜第7号; the last three since the 2019 amendment, 令和元年法律第16
号). A 写し shows each person's 氏名, 生年月日, 性別 and the address history; 戸籍の表示 (本籍・筆
頭者) and 住民票コード only when asked for (第20条第5項 準用 第12条第5項: 特別の請求がない限り
省略), and 住民票コード never to a third party (第30条の37・第30条の38: its use is the person's and
the authorities'; `juki.certificates.content.check_request` refuses it).

Who may ask: the person on the 附票 (a person removed from it included), their spouse, lineal
ascendants and descendants (第20条第1項: `Requester.SELF` here), and a third party on a stated
purpose (第20条第3項・第4項, recorded as for a 住民票の写し: `juki.certificates.third_party`).
While a 支援措置 protects anyone the 写し would show — the 附票 notice's flag (要領 第5-10: it
travels with the notice) or a measure of this municipality in force that day — a third party is
refused outright, and the person's own side only with a supervisor's recorded override (the
supervisor is the check that the requester is not the 加害者).

A person whose latest entry removes them without a 国外転出 (a death notified by the municipality
of residence) is 消除 from the 附票 as far as juki can tell (the 戸籍 itself is not kept here):
their 写し is the 附票の除票の写し, asked for as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateContent,
    CertificateKind,
    CertificateRequest,
    Line,
    OptionalItem,
    PersonEntry,
    Requester,
)
from juki.core.era import to_wareki
from juki.core.errors import DomainRuleError, ValidationError
from juki.registry.model import ChangeReason, Municipality, Sex

TITLE: Final = "戸籍の附票の写し"
REMOVED_TITLE: Final = "戸籍の附票の除票の写し"
ABROAD: Final = "国外転出者"


@dataclass(frozen=True, slots=True)
class FuhyoEntry:
    """One 附票記載事項通知 as the 本籍 municipality recorded it (a row of `fuhyo_entries`)."""

    entry_id: int
    resident_code: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    honseki: str
    koseki_head: str
    address: str
    address_since: date
    status: str  # the record's status at the municipality of residence: active | removed
    change_reason: str
    changed_on: date
    moved_abroad: bool  # 国外転出者である旨
    support_measure: bool  # 支援措置, as the notice carried it
    abroad_country: str | None = None  # the country of a 国外転出, as the notice carried it


@dataclass(frozen=True, slots=True)
class FuhyoPerson:
    """One person of the 附票: their entries (oldest first, never empty) and what protects them."""

    resident_code: str
    entries: tuple[FuhyoEntry, ...]
    protected: bool = False  # 支援措置 in force on the day read (notice flag or own measure)
    abroad_destination: str | None = None  # 転出先 of a 国外転出, when this municipality has it

    @property
    def latest(self) -> FuhyoEntry:
        return self.entries[-1]

    @property
    def full_name(self) -> str:
        return f"{self.latest.family_name}\u3000{self.latest.given_name}"

    @property
    def address(self) -> str:
        """Where a notice to the person goes: the last address the 附票 holds."""
        return self.latest.address

    @property
    def is_abroad(self) -> bool:
        return self.latest.moved_abroad

    @property
    def is_removed(self) -> bool:
        """消除 from the 附票: removed at the municipality of residence, not by a 国外転出."""
        return self.latest.status == "removed" and not self.latest.moved_abroad


@dataclass(frozen=True, slots=True)
class FuhyoSnapshot:
    """Everything one transaction read of one 附票 for a request."""

    municipality: Municipality
    honseki: str
    koseki_head: str
    subject: FuhyoPerson
    persons: tuple[FuhyoPerson, ...]  # everyone on the 附票, the 筆頭者 first, subject included
    read_at: datetime


def _refuse(field: str, rule: str, en: str, ja: str) -> DomainRuleError:
    return DomainRuleError(field, rule, en, ja)


def check_state(request: CertificateRequest, subject: FuhyoPerson) -> None:
    if subject.is_removed and not request.removed:
        raise _refuse(
            "resident_code",
            "removed_from_fuhyo",
            "the person is removed from the 附票; only a 除票 request may show them",
            "この方は戸籍の附票から消除されています。附票の除票の写しとして請求してください",
        )
    if request.removed and not subject.is_removed:
        raise _refuse(
            "removed",
            "not_removed",
            "the person is not removed from the 附票; ask for a current copy instead",
            "この方は戸籍の附票から消除されていません（除票ではありません）",
        )


def shown_persons(request: CertificateRequest, snapshot: FuhyoSnapshot) -> tuple[FuhyoPerson, ...]:
    """The persons the 写し shows: the subject, everyone current on the 附票 (全部), or those
    chosen (一部) — each of them on this 附票 and not removed from it; a 除票 the subject alone."""
    subject = snapshot.subject
    if request.members in ((), (subject.resident_code,)):
        return (subject,)
    if request.removed:
        raise ValidationError(
            "members",
            "subject_only",
            "a copy of a removed 附票 entry is about the applicant alone",
            "附票の除票の写しは本人分のみ交付できます（同籍者は選択できません）",
        )
    current = tuple(p for p in snapshot.persons if not p.is_removed)
    if request.members == ALL_MEMBERS:
        return current
    codes = {p.resident_code for p in current}
    for position, code in enumerate(request.members):
        if code not in codes:
            raise _refuse(
                f"members.{position}",
                "not_on_fuhyo",
                "a selected person is not on the same 附票 (or is removed from it)",
                f"選択された{position + 1}人目は同じ戸籍の附票に記録されていません",
            )
    return tuple(p for p in current if p.resident_code in request.members)


def check_support_measure(request: CertificateRequest, shown: Sequence[FuhyoPerson]) -> None:
    """支援措置 (要領 第5-10): a protected person's 附票の写し is refused to a third party
    (第20条第3項・第4項) whatever is recorded; the person's own side needs a supervisor's
    override."""
    if not any(p.protected for p in shown):
        return
    if request.requester is Requester.THIRD_PARTY:
        raise _refuse(
            "resident_code",
            "support_measure",
            "a person on this 附票 copy is under support measures (支援措置): "
            "refused to a third party (法第20条第3項・第4項)",
            "支援措置の対象者が含まれるため、第三者からの戸籍の附票の写しの請求には交付できません",
        )
    if request.support_override is None:
        raise _refuse(
            "resident_code",
            "support_measure",
            "a person on this 附票 copy is under support measures (支援措置); a supervisor must "
            "confirm the requester is not the restrained party and record an override",
            "支援措置の対象者が含まれるため交付できません"
            "（加害者からの請求でないことを管理者が確認し、承認してください）",
        )
    if not request.support_override.reason.strip():
        raise ValidationError(
            "support_override.reason",
            "required",
            "an override needs a reason",
            "支援措置の解除理由を入力してください",
        )


def _history(person: FuhyoPerson) -> list[Line]:
    """住所 and 住所を定めた年月日, each step once (a name change or a 支援措置 notice repeats the
    address); a 国外転出 as 国外転出者である旨 with its planned date (第17条第3号・第4号)."""
    lines: list[Line] = []
    last: tuple[str, date, bool] | None = None
    for e in person.entries:
        step = (e.address, e.changed_on if e.moved_abroad else e.address_since, e.moved_abroad)
        if step == last:
            continue
        last = step
        if e.moved_abroad:
            lines.append(Line("moved_abroad", "住所", ABROAD))
            lines.append(Line("moved_abroad_on", "国外転出の予定年月日", to_wareki(e.changed_on)))
        else:
            lines.append(Line("address", "住所", e.address))
            lines.append(Line("address_since", "住所を定めた年月日", to_wareki(e.address_since)))
    if person.is_abroad and person.abroad_destination:
        lines.append(Line("abroad_destination", "転出先", person.abroad_destination))
    return lines


def _reason_ja(value: str) -> str:
    try:
        return ChangeReason(value).label_ja
    except ValueError:
        return value


def fuhyo_lines(
    person: FuhyoPerson, items: frozenset[OptionalItem], *, removed: bool
) -> tuple[Line, ...]:
    e = person.latest
    lines = [
        Line("name", "氏名", person.full_name),
        Line("birth_date", "生年月日", to_wareki(e.birth_date)),
        Line("sex", "性別", e.sex.label_ja),
        *_history(person),
    ]
    if OptionalItem.RESIDENT_CODE in items:
        lines.append(Line("resident_code", "住民票コード", person.resident_code))
    if removed:
        lines.append(Line("removal_reason", "消除事由", _reason_ja(e.change_reason)))
        lines.append(Line("removed_on", "消除日", to_wareki(e.changed_on)))
    return tuple(lines)


def _scope(request: CertificateRequest, on_fuhyo: int) -> str:
    if request.removed:
        return "除票"
    if request.members == ALL_MEMBERS and on_fuhyo > 1:
        return "全部"
    return "一部" if on_fuhyo > 1 else "本人"


def fuhyo_content(request: CertificateRequest, snapshot: FuhyoSnapshot) -> CertificateContent:
    """Apply every rule to one snapshot and return what will be printed, or raise why not."""
    if request.kind is not CertificateKind.FUHYO:
        raise ValueError(f"not a 附票 request: {request.kind}")
    check_state(request, snapshot.subject)
    shown = shown_persons(request, snapshot)
    check_support_measure(request, shown)
    header: list[Line] = []
    if OptionalItem.HONSEKI in request.items:
        header += [
            Line("honseki", "本籍", snapshot.honseki),
            Line("koseki_head", "筆頭者", snapshot.koseki_head),
        ]
    current = sum(1 for p in snapshot.persons if not p.is_removed)
    m = snapshot.municipality
    return CertificateContent(
        kind=request.kind,
        title=REMOVED_TITLE if request.removed else TITLE,
        record_lg_code=m.lg_code,
        record_municipality=m.address_prefix,
        as_of=snapshot.read_at.isoformat(),
        scope=_scope(request, current),
        header=tuple(header),
        persons=tuple(
            PersonEntry(p.full_name, fuhyo_lines(p, request.items, removed=request.removed))
            for p in shown
        ),
        certification=(
            "この写しは、戸籍の附票の除票の原本と相違ないことを証明する。"
            if request.removed
            else "この写しは、戸籍の附票の原本と相違ないことを証明する。"
        ),
        items=tuple(sorted(i.value for i in request.items)),
        channel=request.channel,
        removed=request.removed,
    )
