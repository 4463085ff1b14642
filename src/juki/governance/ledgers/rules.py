"""The ledgers' rules, pure: each refusal names the field and the rule, in English and Japanese.

Texts are checked as names are (`juki.core.text.validate_name`: no control characters, no
noncharacters, a length in visible characters), with the field's Japanese label in the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final, TypeVar

from juki.core.errors import DomainRuleError, ValidationError
from juki.core.text import validate_name
from juki.governance.ledgers.model import (
    CLAUSE_BY_CODE,
    CLAUSE_CODES,
    Contract,
    ContractStatus,
    Incident,
    IncidentStatus,
    RoomAccess,
    Step,
)

E = TypeVar("E", bound=StrEnum)
# A clock at the terminal a little ahead of the server's is not a time in the future.
CLOCK_SKEW: Final = timedelta(minutes=5)
# How far ahead a permission may be given, and how long a contract may run.
PERMIT_AHEAD_DAYS: Final = 90
EARLIEST_YEAR: Final = 2002  # 住基ネット began in August 2002; nothing here happened before
CONTRACT_ID_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./"
)

LABELS: Final = {
    "room": "部屋",
    "entrant_name": "入室者の氏名",
    "entrant_org": "入室者の所属",
    "entrant_operator_id": "入室者の照合ID",
    "purpose": "入室の目的",
    "permitted_on": "許可日",
    "at": "日時",
    "kind": "種別",
    "name": "名称",
    "model": "型式",
    "version": "版数",
    "serial": "製造番号等",
    "location": "設置場所",
    "reason": "理由",
    "contract_id": "契約番号",
    "ended_on": "契約終了日",
    "non_compliant": "不備ありの登録",
    "access_id": "入退室の番号",
    "item_id": "構成品目の番号",
    "incident_id": "事故の番号",
    "until": "終了日",
    "contractor": "受託者",
    "subject": "委託内容",
    "starts_on": "契約開始日",
    "ends_on": "契約期間の終了日",
    "clauses": "契約書の記載事項",
    "auditor": "調査者",
    "findings": "調査結果の所見",
    "result": "調査結果",
    "audited_on": "調査日",
    "title": "概要",
    "occurred_at": "発生日時",
    "step": "対応手順",
    "note": "対応内容",
    "closing_note": "終結の所見",
}


def target(kind: str, value: object, n: int = 40) -> str:
    """An oplog target naming what the request named, as printable ASCII: a refused request's
    raw text (a NUL, a lone surrogate) could not be written to the log it must be written to."""
    text = str(value)[:n]
    return f"{kind}:" + "".join(c if c.isascii() and c.isprintable() else "?" for c in text)


def label(field: str) -> str:
    return LABELS.get(field, field)


def text(field: str, value: str, max_len: int) -> str:
    """A required text of at most `max_len` visible characters."""
    try:
        return validate_name(field, value, max_len)
    except ValidationError as exc:
        raise ValidationError(
            exc.field, exc.rule, exc.message_en, exc.message_ja.replace("入力値", label(field), 1)
        ) from None


def optional_text(field: str, value: str, max_len: int) -> str:
    return "" if not value.strip() else text(field, value, max_len)


def choice(field: str, value: str, kind: type[E]) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise ValidationError(
            field,
            "choice",
            f"must be one of: {allowed}",
            f"{label(field)}が正しくありません（{allowed} のいずれか）",
        ) from None


def not_future(field: str, at: datetime, now: datetime) -> datetime:
    """A time that has happened (give or take the clock skew) since the network began."""
    if at.tzinfo is None:
        raise ValidationError(
            field, "timezone", "a time must carry its offset", f"{label(field)}に時差がありません"
        )
    if at > now + CLOCK_SKEW:
        raise ValidationError(
            field,
            "future",
            "cannot be in the future",
            f"{label(field)}に未来の日時は指定できません",
        )
    if at.year < EARLIEST_YEAR:
        raise ValidationError(
            field,
            "too_early",
            f"before {EARLIEST_YEAR}",
            f"{label(field)}に{EARLIEST_YEAR}年より前の日時は指定できません",
        )
    return at.astimezone(now.tzinfo)  # stored in the node's zone, so they sort as text


def permit_day(on: date, today: date) -> date:
    if on < today:
        raise ValidationError(
            "permitted_on",
            "past",
            "a permission is given beforehand",
            "許可日に過去の日は指定できません",
        )
    if on > today + timedelta(days=PERMIT_AHEAD_DAYS):
        raise ValidationError(
            "permitted_on",
            "too_far",
            f"at most {PERMIT_AHEAD_DAYS} days ahead",
            f"許可日は{PERMIT_AHEAD_DAYS}日先までです",
        )
    return on


def date_range(since: date | None, until: date | None) -> None:
    if since is not None and until is not None and until < since:
        raise ValidationError(
            "until", "before_since", "until is before since", "終了日が開始日より前です"
        )


def approver_not_entrant(approver_id: str, entrant_operator_id: str | None) -> None:
    """Seed 001 第12②: the permission comes from another; nobody permits themself."""
    if entrant_operator_id is not None and entrant_operator_id == approver_id:
        raise DomainRuleError(
            "entrant_operator_id",
            "self_approval",
            "the approver must be someone other than the entrant",
            "入室者本人は入室を許可できません（許可者は入室者以外の者です）",
        )


def may_enter(access: RoomAccess, at: datetime) -> None:
    if access.entered_at is not None:
        raise DomainRuleError(
            "access_id", "already_entered", "the entry is already recorded", "入室は記録済みです"
        )
    if at.astimezone(access.approved_at.tzinfo).date() != access.permitted_on:
        raise DomainRuleError(
            "at",
            "not_permitted_day",
            f"the permission is for {access.permitted_on}",
            f"入室の許可は{access.permitted_on.isoformat()}の分です",
        )


def may_exit(access: RoomAccess, at: datetime) -> None:
    if access.entered_at is None:
        raise DomainRuleError(
            "access_id", "not_entered", "no entry is recorded", "入室が記録されていません"
        )
    if access.exited_at is not None:
        raise DomainRuleError(
            "access_id", "already_exited", "the exit is already recorded", "退室は記録済みです"
        )
    if at < access.entered_at:
        raise DomainRuleError(
            "at", "before_entry", "the exit is before the entry", "退室日時が入室日時より前です"
        )


def contract_id(value: str) -> str:
    v = value.strip()
    if not 1 <= len(v) <= 40 or not set(v) <= CONTRACT_ID_CHARS:
        raise ValidationError(
            "contract_id",
            "format",
            "1-40 of A-Z a-z 0-9 - _ . /",
            "契約番号は半角英数字と「- _ . /」の1〜40文字で入力してください",
        )
    return v


def clauses(values: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(values)
    unknown = sorted(chosen - set(CLAUSE_CODES))
    if unknown:
        raise ValidationError(
            "clauses",
            "unknown_clause",
            f"{len(unknown)} unknown clause(s); the clauses are: {', '.join(CLAUSE_CODES)}",
            "契約書の記載事項に不明なものがあります",
        )
    return chosen


def contract_status(chosen: frozenset[str], non_compliant: bool) -> ContractStatus:
    """Active only when every mandatory clause is stated; with one missing, the contract is
    recorded only when the caller says it is non-compliant, and then it names what is missing.
    A complete contract is never recorded as non-compliant (the flag would be false)."""
    missing = [c for c in CLAUSE_CODES if c not in chosen]
    if missing and not non_compliant:
        names = "、".join(CLAUSE_BY_CODE[c].ja for c in missing)
        raise DomainRuleError(
            "clauses",
            "missing_clauses",
            f"missing mandatory clauses: {', '.join(missing)}",
            f"契約書に必要な記載事項がありません：{names}（不備のまま記録するには不備ありとして登録してください）",
        )
    if not missing and non_compliant:
        raise DomainRuleError(
            "non_compliant",
            "nothing_missing",
            "every mandatory clause is stated; the contract is not non-compliant",
            "必要な記載事項はすべて記載されています（不備ありにはできません）",
        )
    return ContractStatus.NON_COMPLIANT if missing else ContractStatus.ACTIVE


def before_start(field: str) -> ValidationError:
    return ValidationError(
        field,
        "before_start",
        "before the contract starts",
        f"{label(field)}が契約開始日より前です",
    )


def future_day(field: str) -> ValidationError:
    return ValidationError(
        field, "future", "cannot be in the future", f"{label(field)}に未来の日は指定できません"
    )


def period(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise before_start("ends_on")


def not_ended(contract: Contract) -> None:
    if contract.status is ContractStatus.ENDED:
        raise DomainRuleError(
            "contract_id", "ended", "the contract has ended", "この契約は終了しています"
        )


def next_step(incident: Incident, step: str) -> Step:
    """The step must be the first one still open: the seed's order, none skipped."""
    if incident.status is IncidentStatus.CLOSED:
        raise DomainRuleError(
            "incident_id", "closed", "the incident is closed", "この事故は終結しています"
        )
    expected = incident.next_step
    if expected is None:
        raise DomainRuleError(
            "step", "all_done", "every step is already done", "対応手順はすべて完了しています"
        )
    if step != expected.code:
        raise DomainRuleError(
            "step",
            "order",
            f"the next step is {expected.code}",
            f"次の対応手順は「{expected.ja}」（{expected.basis}）です",
        )
    return expected


def may_close(incident: Incident) -> None:
    if incident.status is IncidentStatus.CLOSED:
        raise DomainRuleError(
            "incident_id", "closed", "the incident is closed", "この事故は終結しています"
        )
    left = incident.open_steps
    if left:
        raise DomainRuleError(
            "incident_id",
            "steps_open",
            f"steps still open: {', '.join(s.code for s in left)}",
            f"未完了の対応手順があるため終結できません：{'、'.join(s.ja for s in left)}",
        )
