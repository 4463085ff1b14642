"""転出証明書 (令23条): the paper proof of a move-out, for a move without the card.

A person who files a 転出届 (法24条) takes this certificate to the new municipality, which
records the 転入届 from it (法22条2項; `juki.registry.services.moves.check_move_out_certificate`
reads these items back). It is not a copy of the 住民票 but a document of its own: it names
each mover with 氏名, 出生の年月日, 男女の別, 世帯主との続柄, 本籍・筆頭者 (Japanese nationals),
住民票コード and 個人番号 (the new municipality records both, 法22条1項6号, 法7条8号の2), a
foreign resident's 通称 and its history (通称の記載及び削除に関する事項, 令30条の27), under
the household's 住所, 転出先 and 転出の予定年月日, all printed whatever was asked: none is
optional.

It is refused for a 国外転出 (a move-in from abroad needs no certificate, 法22条2項 and 1項7号),
for a move the new municipality already confirmed, to anyone but the movers (no third party),
and for a record with no 転出届 at all. Members asked for are the others moving with the
applicant: same household, same planned date and destination.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from juki.certificates.content import alias_history_lines, check_support_measures, person_date
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateContent,
    CertificateKind,
    CertificateRequest,
    Channel,
    Line,
    PersonEntry,
    Requester,
    Snapshot,
)
from juki.core.errors import DomainRuleError
from juki.registry.model import ChangeReason, Relationship, ResidentRecord

TITLE: Final = "転出証明書"
CERTIFICATION: Final = "上記の者は、転出の届出をしたことを証明する。"


def _refuse(field: str, rule: str, en: str, ja: str) -> DomainRuleError:
    return DomainRuleError(field, rule, en, ja)


def check_move_out_request(
    request: CertificateRequest, subject: ResidentRecord
) -> tuple[date, str]:
    """Who may have a 転出証明書, and for which record; its planned date and destination."""
    if request.requester is not Requester.SELF or request.channel is not Channel.COUNTER:
        raise _refuse(
            "requester",
            "move_out_self_only",
            "a move-out certificate is issued at the counter to the movers only",
            "転出証明書は窓口で転出者本人（同一世帯の転出者）にのみ交付します",
        )
    if request.removed:
        raise _refuse(
            "removed",
            "move_out_not_removed",
            "a move-out certificate is not a copy of a removed record",
            "転出証明書は除票の写しとしては請求できません",
        )
    if subject.removal_reason is ChangeReason.EMIGRATION:
        raise _refuse(
            "resident_code",
            "move_out_abroad",
            "a move abroad has no move-out certificate (a move-in from abroad needs none)",
            "国外転出には転出証明書を交付しません（国外からの転入には不要です）",
        )
    if (
        subject.removal_reason is not ChangeReason.MOVE_OUT_PLANNED
        or subject.move_out_planned_on is None
        or subject.move_out_planned_address is None
    ):
        raise _refuse(
            "resident_code",
            "no_move_out",
            "this person has filed no move-out",
            "この方の転出届はありません（転出届を先に受け付けてください）",
        )
    if subject.move_out_confirmed_on is not None:
        raise _refuse(
            "resident_code",
            "move_out_confirmed",
            "the new municipality has confirmed the move-in already",
            "転入先で転入届が済んでいます（転出証明書は交付できません）",
        )
    return subject.move_out_planned_on, subject.move_out_planned_address


def movers(request: CertificateRequest, snapshot: Snapshot) -> tuple[ResidentRecord, ...]:
    """The applicant, and with `members` (or "all") others of the household moving with them."""
    s = snapshot.subject
    if request.members in ((), (s.resident_code,)):
        return (s,)
    together = movers_with(s, snapshot)
    if request.members == ALL_MEMBERS:
        return together
    codes = {m.resident_code for m in together}
    for position, code in enumerate(request.members):
        if code not in codes:
            raise _refuse(
                f"members.{position}",
                "not_moving_together",
                "a selected member is not moving out with the applicant",
                f"選択された{position + 1}人目は同じ転出届の転出者ではありません",
            )
    return tuple(m for m in together if m.resident_code in request.members)


def movers_with(subject: ResidentRecord, snapshot: Snapshot) -> tuple[ResidentRecord, ...]:
    together = tuple(
        m
        for m in snapshot.household_members
        if m.removal_reason is ChangeReason.MOVE_OUT_PLANNED
        and m.move_out_planned_on == subject.move_out_planned_on
        and m.move_out_planned_address == subject.move_out_planned_address
        and m.move_out_confirmed_on is None
    )
    return together if any(m.record_id == subject.record_id for m in together) else (subject,)


def mover_lines(r: ResidentRecord) -> tuple[Line, ...]:
    foreign = r.is_foreign
    lines = [Line("name", "氏名", r.full_name)]
    if not foreign:
        lines.append(Line("name_kana", "フリガナ", r.full_name_kana))
    if r.former_surname:
        lines.append(Line("former_surname", "旧氏", r.former_surname))
    if foreign and r.alias_name:
        lines.append(Line("alias_name", "通称", r.alias_name))
    lines += [
        Line("birth_date", "生年月日", person_date(r.birth_date, foreign=foreign)),
        Line("sex", "性別", r.sex.label_ja),
        Line("relationship", "続柄", r.relationship.label_ja),
    ]
    if not foreign and r.honseki:
        lines.append(Line("honseki", "本籍", r.honseki))
        if r.koseki_head:
            lines.append(Line("koseki_head", "筆頭者", r.koseki_head))
    lines.append(Line("resident_code", "住民票コード", r.resident_code))
    if r.my_number:
        lines.append(Line("my_number", "個人番号", r.my_number))
    if foreign:
        # 通称の記載及び削除に関する事項 (令第30条の27): the new municipality's record continues it
        lines.extend(alias_history_lines(r))
    return tuple(lines)


def move_out_content(request: CertificateRequest, snapshot: Snapshot) -> CertificateContent:
    """The 転出証明書 of the applicant (and the household members moving with them)."""
    if request.kind is not CertificateKind.MOVE_OUT:
        raise ValueError(f"not a move-out certificate request: {request.kind}")
    subject = snapshot.subject
    planned_on, destination = check_move_out_request(request, subject)
    shown = movers(request, snapshot)
    householder = next(
        (
            m
            for m in (*shown, *snapshot.household_members)
            if m.relationship is Relationship.HOUSEHOLDER
        ),
        None,
    )
    check_support_measures(request, shown, householder)
    header = [Line("address", "住所", subject.address)]
    if householder is not None:
        header.append(Line("householder", "世帯主", householder.full_name))
    header += [
        Line("destination_address", "転出先", destination),
        Line("planned_on", "転出の予定年月日", person_date(planned_on, foreign=subject.is_foreign)),
    ]
    m = snapshot.municipality
    return CertificateContent(
        kind=request.kind,
        title=TITLE,
        record_lg_code=m.lg_code,
        record_municipality=m.address_prefix,
        as_of=snapshot.read_at.isoformat(),
        scope=f"転出者{len(shown)}人",
        header=tuple(header),
        persons=tuple(PersonEntry(name=r.full_name, lines=mover_lines(r)) for r in shown),
        certification=CERTIFICATION,
        items=tuple(sorted(i.value for i in request.items)),
        channel=request.channel,
        removed=False,
    )
