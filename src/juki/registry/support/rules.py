"""The rules of the 支援措置 record (事務処理要領 第5-10), pure: each takes the measure as read
and what was asked, and returns the new part or raises why not, naming the field and the rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Final

from juki.core.errors import DomainRuleError, ValidationError
from juki.core.text import validate_kana, validate_name
from juki.registry import rules
from juki.registry.support.model import (
    RestrainedParty,
    SupportMeasure,
    SupportPeriod,
    TemporaryRelease,
    one_year_from,
    renewal_opens_on,
)

MAX_PROTECTED: Final = 20
MAX_RESTRAINED: Final = 10
MAX_TEXT: Final = 500
MAX_ADDRESS: Final = 200
MAX_RELATION: Final = 32


def text(field: str, value: str, label_ja: str, max_len: int = MAX_TEXT) -> str:
    """A required line of free text (理由, 目的): no control characters, at most `max_len`."""
    if not value.strip():
        raise ValidationError(field, "required", f"{field} is required", f"{label_ja}が必要です")
    return validate_name(field, value, max_len=max_len)


def _optional(field: str, value: str | None, max_len: int) -> str | None:
    return validate_name(field, value, max_len=max_len) if value and value.strip() else None


def restrained_parties(
    parties: Sequence[RestrainedParty], today: date
) -> tuple[RestrainedParty, ...]:
    """加害者: at least one, each with a name; reading, birth date, address and relation as far
    as known, each checked like a record's (the address is free text: it may be anywhere)."""
    if not parties:
        raise ValidationError(
            "restrained",
            "required",
            "at least one restrained party (加害者) is required",
            "加害者を1人以上入力してください",
        )
    if len(parties) > MAX_RESTRAINED:
        raise ValidationError(
            "restrained",
            "max_items",
            f"at most {MAX_RESTRAINED} restrained parties",
            f"加害者は{MAX_RESTRAINED}人までです",
        )
    out = []
    for i, p in enumerate(parties):
        at = f"restrained.{i}"
        if p.birth_date is not None:
            rules.not_in_future(f"{at}.birth_date", p.birth_date, today)
        out.append(
            RestrainedParty(
                family_name=validate_name(f"{at}.family_name", p.family_name),
                given_name=validate_name(f"{at}.given_name", p.given_name),
                name_kana=(
                    validate_kana(f"{at}.name_kana", p.name_kana)
                    if p.name_kana and p.name_kana.strip()
                    else None
                ),
                birth_date=p.birth_date,
                address=_optional(f"{at}.address", p.address, MAX_ADDRESS),
                relation=_optional(f"{at}.relation", p.relation, MAX_RELATION),
            )
        )
    return tuple(out)


def first_period(requested_on: date, starts_on: date, today: date) -> SupportPeriod:
    """The decision's period: from the day the applicant is told, one year (要領: 1年)."""
    rules.not_in_future("requested_on", requested_on, today)
    rules.not_in_future("starts_on", starts_on, today)
    rules.not_before("starts_on", starts_on, requested_on, "request date", "申出日")
    return SupportPeriod(starts_on, one_year_from(starts_on), requested_on)


def not_already_protected(
    record_id: str, name: str, measures: Iterable[SupportMeasure], period: SupportPeriod
) -> None:
    """One measure per person at a time: a second 申出 while one runs is a renewal instead."""
    for m in measures:
        if (
            m.protects(record_id)
            and m.starts_on <= period.ends_on
            and period.starts_on <= m.last_day
        ):
            raise DomainRuleError(
                "record_ids",
                "already_protected",
                f"{record_id} is already protected by measure {m.measure_id} "
                f"until {m.last_day.isoformat()}",
                f"{name}さんには既に支援措置があります（{m.last_day.isoformat()}まで）。"
                "期間の延長は延長の申出で行ってください",
            )


def _not_terminated(measure: SupportMeasure) -> None:
    if measure.terminated_on is not None:
        raise DomainRuleError(
            "measure_id",
            "terminated",
            f"the measure was terminated on {measure.terminated_on.isoformat()}",
            f"この支援措置は{measure.terminated_on.isoformat()}に終了しています",
        )


def renewal(measure: SupportMeasure, requested_on: date, today: date) -> SupportPeriod:
    """延長: asked from one month before the end up to the end, for one year from the day after
    the end. After the end there is nothing to extend: a new 申出 is needed."""
    _not_terminated(measure)
    rules.not_in_future("requested_on", requested_on, today)
    if requested_on > measure.ends_on:
        raise DomainRuleError(
            "requested_on",
            "expired",
            f"the measure ended on {measure.ends_on.isoformat()}; file a new request",
            f"支援措置の期間は{measure.ends_on.isoformat()}に終了しています。新たに申出をしてください",
        )
    opens = renewal_opens_on(measure)
    if requested_on < opens:
        raise DomainRuleError(
            "requested_on",
            "renewal_too_early",
            f"a renewal is accepted from {opens.isoformat()} (one month before the end)",
            f"延長の申出は期間終了の1か月前（{opens.isoformat()}）から受け付けます",
        )
    starts = measure.ends_on + timedelta(days=1)
    return SupportPeriod(starts, one_year_from(starts), requested_on, renewal=True)


def release(
    measure: SupportMeasure,
    released_from: date,
    released_until: date,
    purpose: str,
    requested_on: date,
    today: date,
) -> TemporaryRelease:
    """一時的な解除: for a stated purpose, within the measure's period, from today or later (a
    release does not reach back to days on which certificates were refused), not overlapping
    another release."""
    _not_terminated(measure)
    rules.not_in_future("requested_on", requested_on, today)
    stated = text("purpose", purpose, "解除の目的")
    rules.not_before("released_from", released_from, today, "current date", "本日")
    rules.not_before("released_from", released_from, measure.starts_on, "start", "開始日")
    rules.not_before("released_until", released_until, released_from, "release start", "解除開始日")
    if released_until > measure.last_day:
        raise DomainRuleError(
            "released_until",
            "after_end",
            f"the measure ends on {measure.last_day.isoformat()}",
            f"解除の期間は支援措置の期間（{measure.last_day.isoformat()}まで）の中で指定してください",
        )
    for r in measure.releases:
        if r.released_from <= released_until and released_from <= r.released_until:
            raise DomainRuleError(
                "released_from",
                "overlapping_release",
                f"a release from {r.released_from.isoformat()} to "
                f"{r.released_until.isoformat()} is already recorded",
                f"{r.released_from.isoformat()}〜{r.released_until.isoformat()}の解除と重なります",
            )
    return TemporaryRelease(released_from, released_until, stated, requested_on)


def termination(measure: SupportMeasure, terminated_on: date, reason: str, today: date) -> str:
    """終了: from today or a later day within the period, with its reason."""
    _not_terminated(measure)
    stated = text("reason", reason, "終了の理由")
    rules.not_before("terminated_on", terminated_on, today, "current date", "本日")
    rules.not_before("terminated_on", terminated_on, measure.starts_on, "start", "開始日")
    if terminated_on > measure.ends_on:
        raise DomainRuleError(
            "terminated_on",
            "after_end",
            f"the measure ends on {measure.ends_on.isoformat()} by itself",
            f"支援措置は{measure.ends_on.isoformat()}に期間が終了します（終了日はそれ以前を指定してください）",
        )
    return stated


def protected_count(record_ids: Sequence[str]) -> tuple[str, ...]:
    if not record_ids:
        raise ValidationError(
            "record_ids",
            "required",
            "at least one protected person",
            "支援対象者を選択してください",
        )
    if len(record_ids) > MAX_PROTECTED or len(set(record_ids)) != len(record_ids):
        raise ValidationError(
            "record_ids",
            "distinct",
            f"protected persons must be distinct (at most {MAX_PROTECTED})",
            "支援対象者が重複しているか、多すぎます",
        )
    return tuple(record_ids)
