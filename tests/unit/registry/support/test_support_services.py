"""支援措置 services (`juki.registry.support.services`) on the fake unit of work: each action
authorised, logged and refused without a trace, the record's flag and its 附票 notice following
the measure in force on the day (事務処理要領 第5-10)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from juki.core.errors import DomainRuleError, NotFoundError, PermissionDeniedError, ValidationError
from juki.registry import services as svc
from juki.registry.commands import (
    CancelChanges,
    CorrectByAuthority,
    RecordDeath,
    RecordRelocation,
)
from juki.registry.model import ChangeReason, ResidentRecord
from juki.registry.support.commands import (
    RecordSupportMeasure,
    ReleaseSupportMeasure,
    RenewSupportMeasure,
    TerminateSupportMeasure,
)
from juki.registry.support.model import RestrainedParty, SupportKind
from juki.registry.support.services import (
    protection,
    record_support_measure,
    release_support_measure,
    renew_support_measure,
    support_measure,
    support_measures_of,
    terminate_support_measure,
)
from support.backends import Backend, FakeBackend, oplog_outcomes, outbox_payloads, refused
from support.residents import CLERK, PREFIX, SUPERVISOR, TODAY, family, get, history

AGAINST = (
    RestrainedParty("山田", "次郎", birth_date=date(1978, 2, 3), address="大阪府大阪市北区1"),
)


def record_cmd(*record_ids: str, **kw: object) -> RecordSupportMeasure:
    base: dict[str, object] = {
        "kind": SupportKind.DOMESTIC_VIOLENCE,
        "requested_on": TODAY - timedelta(days=3),
        "record_ids": record_ids,
        "restrained": AGAINST,
        "note": "警察署の意見",
    }
    return RecordSupportMeasure(**{**base, **kw})  # type: ignore[arg-type]


def fuhyo_flags(backend: Backend) -> list[tuple[str, bool]]:
    return [
        (p["resident_code"], p["support_measure"]) for p in outbox_payloads(backend, "fuhyo_notice")
    ]


def relocate(backend: Backend, records: tuple[ResidentRecord, ...], street: str) -> None:
    """The whole household moves within the municipality (a 附票 item changes)."""
    day = backend.clock.today()
    ids = tuple(r.record_id for r in records)
    svc.record_relocation(
        backend.uow(), CLERK, RecordRelocation(ids, f"{PREFIX}{street}", day, day)
    )


def test_recording_protects_the_persons_and_tells_the_honseki(backend: FakeBackend) -> None:
    head, wife, child = family(backend)
    before = len(fuhyo_flags(backend))
    m = record_support_measure(
        backend.uow(), SUPERVISOR, record_cmd(wife.record_id, child.record_id)
    )
    assert m.periods[0].starts_on == TODAY and m.last_day == date(2026, 3, 31)
    assert m.protected == tuple(sorted((wife.record_id, child.record_id)))
    assert get(backend, wife.record_id).support_measure
    assert not get(backend, head.record_id).support_measure
    assert history(backend, wife.record_id)[-1].change.reason is ChangeReason.SUPPORT_MEASURE
    # the 附票 notice says so, for each protected person (the 本籍 refuses 附票の写し)
    assert fuhyo_flags(backend)[before:] == [
        (wife.resident_code, True),
        (child.resident_code, True),
    ]
    assert support_measure(backend.uow(), SUPERVISOR, m.measure_id) == m
    assert support_measures_of(backend.uow(), SUPERVISOR, wife.record_id) == [m]
    assert oplog_outcomes(backend)[-1] == "ok"


def test_clerks_check_protection_but_neither_record_nor_read_the_measure(
    backend: FakeBackend,
) -> None:
    _, wife, _ = family(backend)
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        record_support_measure(backend.uow(), CLERK, record_cmd(wife.record_id))
    m = record_support_measure(backend.uow(), SUPERVISOR, record_cmd(wife.record_id))
    with refused(backend, "denied"), pytest.raises(PermissionDeniedError):
        support_measure(backend.uow(), CLERK, m.measure_id)
    seen = protection(backend.uow(), CLERK, wife.record_id)
    assert (seen.protected, seen.until) == (True, date(2026, 3, 31))
    assert not protection(backend.uow(), CLERK, wife.record_id, date(2026, 4, 1)).protected


@pytest.mark.parametrize(
    ("case", "field", "rule"),
    [
        ("no restrained party", "restrained", "required"),
        ("no reason to believe", "note", "required"),
        ("starts before the request", "starts_on", "before_request_date"),
        ("already protected", "record_ids", "already_protected"),
        ("removed record", "record_ids", "removed_record"),
        ("same person twice", "record_ids", "distinct"),
    ],
)
def test_refused_measures_change_nothing(
    backend: FakeBackend, case: str, field: str, rule: str
) -> None:
    head, wife, child = family(backend)
    record_support_measure(backend.uow(), SUPERVISOR, record_cmd(wife.record_id))
    svc.record_death(backend.uow(), CLERK, RecordDeath(child.record_id, TODAY, TODAY))
    cmd = {
        "no restrained party": record_cmd(head.record_id, restrained=()),
        "no reason to believe": record_cmd(head.record_id, note=" "),
        "starts before the request": record_cmd(
            head.record_id, starts_on=TODAY - timedelta(days=5)
        ),
        "already protected": record_cmd(head.record_id, wife.record_id),
        "removed record": record_cmd(child.record_id),
        "same person twice": record_cmd(head.record_id, head.record_id),
    }[case]
    with refused(backend), pytest.raises((ValidationError, DomainRuleError)) as err:
        record_support_measure(backend.uow(), SUPERVISOR, cmd)
    assert (err.value.field, err.value.rule) == (field, rule)  # type: ignore[union-attr]
    assert err.value.message_ja  # type: ignore[union-attr]


def test_unknown_record_or_measure_is_not_found(backend: FakeBackend) -> None:
    family(backend)
    with refused(backend), pytest.raises(NotFoundError):
        record_support_measure(backend.uow(), SUPERVISOR, record_cmd("no-such-record"))
    with refused(backend), pytest.raises(NotFoundError):
        renew_support_measure(backend.uow(), SUPERVISOR, RenewSupportMeasure("nope", TODAY))


def test_the_end_is_computed_and_the_next_change_carries_it(backend: FakeBackend) -> None:
    head, wife, child = family(backend)
    record_support_measure(backend.uow(), SUPERVISOR, record_cmd(wife.record_id))
    backend.clock.advance(timedelta(days=365))  # 2026-04-01: the day after the period
    assert not protection(backend.uow(), CLERK, wife.record_id).protected
    assert get(backend, wife.record_id).support_measure  # nothing ran at midnight
    before = len(fuhyo_flags(backend))
    relocate(backend, (head, wife, child), "百村1番地")
    assert not get(backend, wife.record_id).support_measure
    assert (wife.resident_code, False) in fuhyo_flags(backend)[before:]
    assert all(not flag for _, flag in fuhyo_flags(backend)[before:])


def test_renewal_keeps_the_person_protected_for_another_year(backend: FakeBackend) -> None:
    head, wife, child = family(backend)
    m = record_support_measure(backend.uow(), SUPERVISOR, record_cmd(wife.record_id))
    with refused(backend), pytest.raises(DomainRuleError) as err:
        renew_support_measure(backend.uow(), SUPERVISOR, RenewSupportMeasure(m.measure_id, TODAY))
    assert err.value.rule == "renewal_too_early"
    backend.clock.advance(timedelta(days=340))  # 2026-03-07, within the last month
    renewed = renew_support_measure(
        backend.uow(), SUPERVISOR, RenewSupportMeasure(m.measure_id, backend.clock.today())
    )
    assert renewed.last_day == date(2027, 3, 31) and renewed.version == 2
    # the renewal's new end reaches the 本籍 at once (附票 notice v3 carries the period)
    periods = [
        (p["support_starts_on"], p["support_ends_on"])
        for p in outbox_payloads(backend, "fuhyo_notice")
        if p["resident_code"] == wife.resident_code
    ]
    assert periods[-2:] == [("2025-04-01", "2026-03-31"), ("2025-04-01", "2027-03-31")]
    assert get(backend, wife.record_id).support_ends_on == date(2027, 3, 31)
    backend.clock.advance(timedelta(days=30))  # 2026-04-06, past the first year
    assert protection(backend.uow(), CLERK, wife.record_id).until == date(2027, 3, 31)
    before = len(fuhyo_flags(backend))
    relocate(backend, (head, wife, child), "百村2番地")
    assert get(backend, wife.record_id).support_measure
    assert (wife.resident_code, True) in fuhyo_flags(backend)[before:]


def test_release_lifts_it_for_its_period_and_termination_ends_it(backend: FakeBackend) -> None:
    _, wife, _ = family(backend)
    m = record_support_measure(backend.uow(), SUPERVISOR, record_cmd(wife.record_id))
    before = len(fuhyo_flags(backend))
    released = release_support_measure(
        backend.uow(),
        SUPERVISOR,
        ReleaseSupportMeasure(m.measure_id, TODAY, TODAY + timedelta(days=9), "調停手続", TODAY),
    )
    assert released.releases[0].purpose == "調停手続"
    assert not protection(backend.uow(), CLERK, wife.record_id).protected
    assert fuhyo_flags(backend)[before:] == [(wife.resident_code, False)]
    backend.clock.advance(timedelta(days=10))  # the release is over
    assert protection(backend.uow(), CLERK, wife.record_id).protected
    ended = terminate_support_measure(
        backend.uow(),
        SUPERVISOR,
        TerminateSupportMeasure(m.measure_id, backend.clock.today(), "本人からの終了の申出"),
    )
    assert ended.terminated_on == backend.clock.today()
    assert not protection(backend.uow(), CLERK, wife.record_id).protected
    with refused(backend), pytest.raises(DomainRuleError) as err:
        renew_support_measure(backend.uow(), SUPERVISOR, RenewSupportMeasure(m.measure_id, TODAY))
    assert err.value.rule == "terminated"


def test_the_flag_is_not_corrected_by_hand(backend: FakeBackend) -> None:
    _, wife, _ = family(backend)
    cmd = CorrectByAuthority(wife.record_id, {"support_measure": True}, TODAY, "支援措置")
    with refused(backend), pytest.raises(ValidationError) as err:
        svc.correct_by_authority(backend.uow(), SUPERVISOR, cmd)
    assert (err.value.field, err.value.rule) == ("fields.support_measure", "not_correctable")


def test_a_support_measure_change_is_not_cancelled_as_a_change(backend: FakeBackend) -> None:
    _, wife, _ = family(backend)
    record_support_measure(backend.uow(), SUPERVISOR, record_cmd(wife.record_id))
    cmd = CancelChanges((wife.record_id,), "誤り")
    with refused(backend), pytest.raises(DomainRuleError) as err:
        svc.cancel_changes(backend.uow(), SUPERVISOR, cmd)
    assert err.value.rule == "support_measure_change" and "終了" in err.value.message_ja
