"""Who a kiosk may answer, what it may offer and when: pure rules over settings and a snapshot.

The content itself is the counter's (`juki.certificates.content.build_content`, channel
KIOSK): these rules only decide whether the kiosk may ask for it at all, and turn what the
kiosk asked into the counter's `CertificateRequest`. Sources: issue 12 point 3, seed 003 (2)ア
(hours), (4)イ and (6) (the flow and the certificates), 法12条1項 (the person or a member of
the same household), 法12条5項 (items left off unless asked).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Final, Literal

from juki.certificates.kiosk.model import (
    KIOSK_KINDS,
    MAX_KIOSK_FEE_YEN,
    MIN_AGE,
    KioskRefused,
    KioskSettings,
    MonthDay,
    RefusalCode,
)
from juki.certificates.model import (
    ALL_MEMBERS,
    RECORD_ITEMS_ONLY,
    CertificateKind,
    CertificateRequest,
    Channel,
    Members,
    OptionalItem,
    Snapshot,
)
from juki.core.clock import JST
from juki.core.errors import RuleViolation, ValidationError
from juki.registry.model import ChangeReason, ResidentRecord
from juki.registry.standing import PLANNED_REMOVALS

MIDNIGHT: Final = time(0, 0)  # as `closes`: the service runs to the end of the day (24:00)

# What a kiosk offers to print on each kind. Never the 住民票コード (issue 12: not at a kiosk);
# 個人番号 only when chosen (法12条5項); a 記載事項証明書's items one by one (法12条1項).
_COPY_ITEMS: Final = frozenset(
    {
        OptionalItem.HOUSEHOLDER,
        OptionalItem.HONSEKI,
        OptionalItem.MY_NUMBER,
        OptionalItem.FOREIGN_ITEMS,
    }
)
KIOSK_ITEMS: Final[Mapping[CertificateKind, frozenset[OptionalItem]]] = {
    CertificateKind.RESIDENCE: _COPY_ITEMS,
    CertificateKind.RECORD_ITEMS: _COPY_ITEMS | RECORD_ITEMS_ONLY,
    CertificateKind.SEAL: frozenset(),
    CertificateKind.FUHYO: frozenset({OptionalItem.HONSEKI}),
}
MOVED: Final = frozenset(
    {ChangeReason.MOVE_OUT_PLANNED, ChangeReason.MOVE_OUT_CONFIRMED, ChangeReason.EMIGRATION}
)
KioskMembers = Literal["self", "household"] | Sequence[str]


# -- settings ---------------------------------------------------------------------------------


def _invalid(field: str, rule: str, en: str, ja: str) -> ValidationError:
    return ValidationError(field, rule, en, ja)


def _month_day(field: str, value: MonthDay) -> MonthDay:
    month, day = value
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise _invalid(field, "month_day", f"{field} is not a day of the year", "日付が不正です")
    return value


def _minute(field: str, value: time) -> time:
    if value.second or value.microsecond or value.tzinfo is not None:
        raise _invalid(field, "minute", f"{field} is a time in whole minutes", "時刻は分単位です")
    return value


def validate_settings(settings: KioskSettings) -> KioskSettings:
    """Refuse, naming the field, settings no kiosk can follow; return them unchanged."""
    unknown = settings.kinds - KIOSK_KINDS
    if unknown:
        raise _invalid(
            "kinds",
            "not_for_kiosk",
            f"not issued at a kiosk: {sorted(k.value for k in unknown)}",
            "コンビニで交付できない証明書が含まれています",
        )
    for kind in sorted(KIOSK_KINDS):
        fee = settings.fees.get(kind)
        if fee is None or not 0 <= fee <= MAX_KIOSK_FEE_YEN:
            raise _invalid(
                f"fees.{kind.value}",
                "range",
                f"the fee of {kind.value} must be 0-{MAX_KIOSK_FEE_YEN} yen",
                f"{kind.label_ja}の手数料は0〜{MAX_KIOSK_FEE_YEN}円で指定してください",
            )
    if set(settings.fees) - KIOSK_KINDS:
        raise _invalid("fees", "not_for_kiosk", "a fee for a kind no kiosk issues", "不正な手数料")
    closes = _minute("closes", settings.closes)
    if closes != MIDNIGHT and _minute("opens", settings.opens) >= closes:
        raise _invalid(
            "closes",
            "order",
            "the service closes after it opens, on the same day",
            "終了時刻は開始時刻より後にしてください",
        )
    if (settings.closed_from is None) != (settings.closed_until is None):
        raise _invalid(
            "closed_until",
            "pair",
            "a closure has both a first and a last day, or neither",
            "休止期間は開始日と終了日の両方を指定してください",
        )
    if settings.closed_from is not None and settings.closed_until is not None:
        _month_day("closed_from", settings.closed_from)
        _month_day("closed_until", settings.closed_until)
    return settings


def in_closure(settings: KioskSettings, day: date) -> bool:
    """Whether `day` is in the yearly closure (inclusive; it may wrap the year's end)."""
    first, last = settings.closed_from, settings.closed_until
    if first is None or last is None:
        return False
    md = (day.month, day.day)
    return first <= md <= last if first <= last else (md >= first or md <= last)


def is_open(settings: KioskSettings, at: datetime) -> bool:
    """Open at `at` (in the municipality's time, JST): not a closure day, opens ≤ t < closes,
    where a `closes` of 00:00 is the day's end (24:00)."""
    local = at.astimezone(JST)
    if in_closure(settings, local.date()):
        return False
    t = local.time().replace(tzinfo=None)
    return settings.opens <= t and (settings.closes == MIDNIGHT or t < settings.closes)


def check_service(settings: KioskSettings, kind: CertificateKind, at: datetime) -> None:
    """The municipality offers this certificate at a kiosk now, or the refusal saying why."""
    if in_closure(settings, at.astimezone(JST).date()):
        raise KioskRefused(RefusalCode.CLOSED_DAY, "closed_day", "the kiosk service is closed")
    if not is_open(settings, at):
        raise KioskRefused(
            RefusalCode.OUTSIDE_HOURS, "outside_hours", "outside the kiosk service hours"
        )
    if kind not in settings.kinds:
        raise KioskRefused(
            RefusalCode.KIND_NOT_OFFERED,
            "kind_not_offered",
            f"this municipality does not issue {kind.value} at a kiosk",
        )


# -- the request ------------------------------------------------------------------------------


def check_options(
    kind: CertificateKind, members: KioskMembers, items: frozenset[OptionalItem]
) -> None:
    """What was asked is offered at a kiosk: the items of the kind, members for a 写し only."""
    extra = items - KIOSK_ITEMS[kind]
    if extra:
        raise KioskRefused(
            RefusalCode.ITEM_NOT_OFFERED,
            "item_not_offered",
            f"not offered at a kiosk on {kind.value}: {sorted(i.value for i in extra)}",
        )
    if members != "self" and kind is not CertificateKind.RESIDENCE:
        raise KioskRefused(
            RefusalCode.MEMBERS_NOT_OFFERED,
            "members_not_offered",
            "only a residence certificate shows other members of the household at a kiosk",
        )


def check_holder(holder: ResidentRecord, on: date) -> None:
    """The card holder's own record allows a kiosk answer on `on` (the snapshot's day)."""
    if not holder.is_active:
        if holder.removal_reason in MOVED:
            raise KioskRefused(RefusalCode.MOVED_OUT, "moved_out", "the holder moved out")
        rule = "deceased" if holder.removal_reason is ChangeReason.DEATH else "removed"
        raise KioskRefused(RefusalCode.NOT_AT_KIOSK, rule, f"the holder's record is {rule}")
    if holder.removal_reason in PLANNED_REMOVALS:  # a pending 転出届 (registry.standing.as_of)
        raise KioskRefused(
            RefusalCode.MOVE_OUT_PLANNED, "move_out_planned", "the holder filed a move-out"
        )
    if holder.support_measure:
        raise KioskRefused(
            RefusalCode.NOT_AT_KIOSK, "support_measure", "the holder is under support measures"
        )
    if holder.age_on(on) < MIN_AGE:
        raise KioskRefused(RefusalCode.UNDER_15, "under_15", f"the holder is under {MIN_AGE}")


def members_of(members: KioskMembers, snapshot: Snapshot) -> Members:
    """The kiosk's choice as the counter's: itself, the whole household, or members chosen by
    the opaque references `kiosk.services.household_choices` gave (record ids, never codes)."""
    if members == "self":
        return ()
    if members == "household":
        return ALL_MEMBERS
    by_ref = {m.record_id: m.resident_code for m in snapshot.household_members}
    chosen = []
    for ref in members:
        if ref not in by_ref:
            raise KioskRefused(
                RefusalCode.NOT_IN_HOUSEHOLD,
                "not_in_household",
                "a chosen member is not in the holder's household now",
            )
        chosen.append(by_ref[ref])
    return tuple(chosen)


def certificate_request(
    holder_code: str,
    kind: CertificateKind,
    members: Members,
    items: frozenset[OptionalItem],
    copies: int,
) -> CertificateRequest:
    """The counter's request for what the kiosk asked: the holder's, on the kiosk channel."""
    return CertificateRequest(
        kind=kind,
        resident_code=holder_code,
        members=members,
        items=items,
        copies=copies,
        channel=Channel.KIOSK,
    )


_BY_RULE: Final = {
    "support_measure": RefusalCode.NOT_AT_KIOSK,
    "no_live_seal": RefusalCode.NO_LIVE_SEAL,
    "removed_record": RefusalCode.MOVED_OUT,
    "not_in_household": RefusalCode.NOT_IN_HOUSEHOLD,
    "subject_only": RefusalCode.MEMBERS_NOT_OFFERED,
    "no_fuhyo": RefusalCode.NO_FUHYO,
    "not_for_kind": RefusalCode.ITEM_NOT_OFFERED,
}


def refusal_of(exc: RuleViolation) -> KioskRefused:
    """A counter rule's refusal as the kiosk shows it (the precise rule kept for the register):
    a member under 支援措置 reads like any other reason not to issue at a kiosk."""
    if isinstance(exc, KioskRefused):
        return exc
    code = _BY_RULE.get(exc.rule, RefusalCode.NOT_AT_KIOSK)
    return KioskRefused(code, exc.rule, exc.message_en)
