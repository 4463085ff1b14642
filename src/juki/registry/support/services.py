"""支援措置 actions (事務処理要領 第5-10): record a measure, renew it, release it for a while,
terminate it — each by a counter supervisor through the action runner, with its oplog entry —
and the two reads: the whole measure (supervisors: it names the 加害者) and whether a person
is protected on a day (clerks, who must know before they issue anything).

After every change the protected persons' records are brought up to date through the batch
(`Batch._with_support`), so a measure that starts or stops today changes the record's
`support_measure` flag, and the 附票 notice tells the 本籍 municipality.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from juki.core.errors import DomainRuleError
from juki.registry.model import ChangeReason, ResidentRecord
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.services.batch import Batch
from juki.registry.services.checks import record_or_404
from juki.registry.support import rules
from juki.registry.support.commands import (
    RecordSupportMeasure,
    ReleaseSupportMeasure,
    RenewSupportMeasure,
    TerminateSupportMeasure,
)
from juki.registry.support.model import SupportMeasure
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission


@dataclass(frozen=True, slots=True)
class Protection:
    """What a clerk may know: whether the person is protected on the day, and until when."""

    record_id: str
    on: date
    protected: bool
    until: date | None = None


def _reflect(uow: RegistryUnitOfWork, by: Actor, measure: SupportMeasure, what_ja: str) -> None:
    """Write the protected (active) records' flag as of today; unchanged records get nothing."""
    today = uow.clock.today()
    batch = Batch(uow, by, today, today)
    batch.note = f"支援措置の{what_ja}"
    for record_id in measure.protected:
        record = uow.registry.get(record_id)
        if record.is_active:
            batch.change(record, ChangeReason.SUPPORT_MEASURE)
    batch.flush()


def _target(measure_id: str) -> str:
    return f"support_measure:{measure_id}"


def _protected_records(uow: RegistryUnitOfWork, cmd: RecordSupportMeasure) -> list[ResidentRecord]:
    records = []
    for record_id in rules.protected_count(cmd.record_ids):
        record = record_or_404(uow, record_id)
        if not record.is_active:
            raise DomainRuleError(
                "record_ids",
                "removed_record",
                f"record {record_id} is removed (除票); protect the person where they live",
                f"{record.full_name}さんの住民票は消除されています（住所地の市区町村で申出してください）",
            )
        records.append(record)
    return records


def record_support_measure(
    uow: RegistryUnitOfWork, by: Actor, cmd: RecordSupportMeasure
) -> SupportMeasure:
    """支援措置の申出 and its decision: the first period runs one year from `starts_on`."""

    def run(uow: RegistryUnitOfWork) -> SupportMeasure:
        today = uow.clock.today()
        records = _protected_records(uow, cmd)
        period = rules.first_period(cmd.requested_on, cmd.starts_on or today, today)
        restrained = rules.restrained_parties(cmd.restrained, today)
        note = rules.text("note", cmd.note, "確認の方法（意見を聴いた機関等）")
        existing = uow.support_measures.for_records(r.record_id for r in records)
        for r in records:
            rules.not_already_protected(r.record_id, r.full_name, existing, period)
        measure = SupportMeasure(
            measure_id=uow.ids.new_id(),
            kind=cmd.kind,
            requested_on=cmd.requested_on,
            protected=tuple(sorted(r.record_id for r in records)),
            restrained=restrained,
            periods=(period,),
            note=note,
            recorded_by=by.actor_id,
        )
        uow.support_measures.add(measure)
        _reflect(uow, by, measure, "開始")
        return measure

    first = cmd.record_ids[0] if cmd.record_ids else "-"
    return perform(
        uow,
        by,
        Permission.MANAGE_SUPPORT_MEASURES,
        f"record:{first}",
        run,
        describe=lambda m: f"{_target(m.measure_id)} persons:{len(m.protected)}",
    )


def _change(
    uow: RegistryUnitOfWork,
    by: Actor,
    measure_id: str,
    what_ja: str,
    change: Callable[[SupportMeasure, date], SupportMeasure],
) -> SupportMeasure:
    """Apply `change` (measure, today → changed measure) as one action on the measure."""

    def run(uow: RegistryUnitOfWork) -> SupportMeasure:
        measure = uow.support_measures.get(measure_id)
        after = change(measure, uow.clock.today())
        after = dataclasses.replace(after, version=measure.version + 1)
        uow.support_measures.save(after)
        _reflect(uow, by, after, what_ja)
        return after

    return perform(
        uow,
        by,
        Permission.MANAGE_SUPPORT_MEASURES,
        _target(measure_id),
        run,
        describe=lambda m: f"{what_ja} until:{m.last_day.isoformat()}",
    )


def renew_support_measure(
    uow: RegistryUnitOfWork, by: Actor, cmd: RenewSupportMeasure
) -> SupportMeasure:
    """延長: one more year from the day after the current end."""

    def renew(m: SupportMeasure, today: date) -> SupportMeasure:
        period = rules.renewal(m, cmd.requested_on, today)
        return dataclasses.replace(m, periods=(*m.periods, period))

    return _change(uow, by, cmd.measure_id, "延長", renew)


def release_support_measure(
    uow: RegistryUnitOfWork, by: Actor, cmd: ReleaseSupportMeasure
) -> SupportMeasure:
    """一時的な解除 for a stated purpose and period."""

    def release(m: SupportMeasure, today: date) -> SupportMeasure:
        r = rules.release(
            m, cmd.released_from, cmd.released_until, cmd.purpose, cmd.requested_on, today
        )
        return dataclasses.replace(
            m, releases=tuple(sorted((*m.releases, r), key=lambda x: x.released_from))
        )

    return _change(uow, by, cmd.measure_id, "一時的な解除", release)


def terminate_support_measure(
    uow: RegistryUnitOfWork, by: Actor, cmd: TerminateSupportMeasure
) -> SupportMeasure:
    """終了: not in force from `terminated_on` (today or later)."""

    def terminate(m: SupportMeasure, today: date) -> SupportMeasure:
        reason = rules.termination(m, cmd.terminated_on, cmd.reason, today)
        return dataclasses.replace(m, terminated_on=cmd.terminated_on, termination_reason=reason)

    return _change(uow, by, cmd.measure_id, "終了", terminate)


def support_measure(uow: RegistryUnitOfWork, by: Actor, measure_id: str) -> SupportMeasure:
    """The whole measure, 加害者 included: supervisors only."""
    return perform(
        uow,
        by,
        Permission.MANAGE_SUPPORT_MEASURES,
        _target(measure_id),
        lambda u: u.support_measures.get(measure_id),
    )


def support_measures_of(
    uow: RegistryUnitOfWork, by: Actor, record_id: str
) -> Sequence[SupportMeasure]:
    """Every measure that protects the person, past ones included: supervisors only."""

    def run(u: RegistryUnitOfWork) -> Sequence[SupportMeasure]:
        record_or_404(u, record_id)
        return list(u.support_measures.for_records([record_id]))

    return perform(uow, by, Permission.MANAGE_SUPPORT_MEASURES, f"record:{record_id}", run)


def protection(
    uow: RegistryUnitOfWork, by: Actor, record_id: str, on: date | None = None
) -> Protection:
    """Whether the person is protected on `on` (today by default), and until when: what a
    clerk needs before issuing; nothing about the 加害者."""

    def run(u: RegistryUnitOfWork) -> Protection:
        record_or_404(u, record_id)
        day = on or u.clock.today()
        in_force = [m for m in u.support_measures.for_records([record_id]) if m.in_force(day)]
        if not in_force:
            return Protection(record_id, day, protected=False)
        return Protection(record_id, day, True, max(m.last_day for m in in_force))

    return perform(
        uow,
        by,
        Permission.CHECK_SUPPORT_MEASURE,
        f"record:{record_id}",
        run,
        describe=lambda p: f"protected:{p.protected}",
    )
