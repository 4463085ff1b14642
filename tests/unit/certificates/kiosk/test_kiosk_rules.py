"""The kiosk's pure rules: settings, service hours and the closure, the holder, the options."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.certificates.kiosk import rules
from juki.certificates.kiosk.messages import (
    AnswerMismatch,
    KioskAnswer,
    KioskCertificate,
    KioskRequest,
    new_request_id,
    open_answer,
)
from juki.certificates.kiosk.model import (
    DEFAULT_SETTINGS,
    KIOSK_KINDS,
    KioskRefused,
    KioskSettings,
    RefusalCode,
    settings_from_json,
    settings_to_json,
)
from juki.certificates.model import CertificateKind, OptionalItem
from juki.core.clock import JST
from juki.core.errors import DomainRuleError, ValidationError
from juki.registry.model import ChangeReason, RecordStatus
from support.cert_population import plain_record

R, RI, SEAL, FUHYO = (
    CertificateKind.RESIDENCE,
    CertificateKind.RECORD_ITEMS,
    CertificateKind.SEAL,
    CertificateKind.FUHYO,
)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


def at(day: date, hh: int, mm: int, ss: int = 0, us: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, us, tzinfo=JST)


def closure_day(day: date) -> bool:
    return (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3)


# -- hours and the closure (seed 003 (2)ア: 6:30–23:00; 年末年始 12/29–1/3) ------------------------


@given(day=days.filter(lambda d: not closure_day(d)))
def test_open_from_0630_until_just_before_2300(day: date) -> None:
    s = DEFAULT_SETTINGS
    assert not rules.is_open(s, at(day, 6, 29, 59, 999_999))
    assert rules.is_open(s, at(day, 6, 30))
    assert rules.is_open(s, at(day, 22, 59, 59, 999_999))
    assert not rules.is_open(s, at(day, 23, 0))
    assert not rules.is_open(s, at(day, 0, 0))


closure_days = st.builds(
    date,
    st.integers(2000, 2100),
    st.just(12) | st.just(1),
    st.integers(1, 3),
).map(lambda d: d.replace(day=d.day + 28) if d.month == 12 else d)


@given(day=closure_days, hh=st.integers(0, 23), mm=st.integers(0, 59))
def test_closed_all_day_from_december_29_to_january_3(day: date, hh: int, mm: int) -> None:
    assert not rules.is_open(DEFAULT_SETTINGS, at(day, hh, mm))
    with pytest.raises(KioskRefused) as refused:
        rules.check_service(DEFAULT_SETTINGS, R, at(day, hh, mm))
    assert refused.value.code is RefusalCode.CLOSED_DAY


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (datetime(2025, 12, 28, 22, 59, tzinfo=JST), True),
        (datetime(2025, 12, 28, 23, 0, tzinfo=JST), False),
        (datetime(2025, 12, 29, 12, 0, tzinfo=JST), False),
        (datetime(2026, 1, 3, 22, 0, tzinfo=JST), False),
        (datetime(2026, 1, 4, 6, 29, tzinfo=JST), False),
        (datetime(2026, 1, 4, 6, 30, tzinfo=JST), True),
        # 2026-01-03 21:30 UTC is 2026-01-04 06:30 in Japan: the municipality's clock counts.
        (datetime(2026, 1, 3, 21, 30, tzinfo=UTC), True),
        (datetime(2026, 1, 3, 21, 29, tzinfo=UTC), False),
    ],
)
def test_the_closure_edges(moment: datetime, open_: bool) -> None:
    assert rules.is_open(DEFAULT_SETTINGS, moment) is open_


def test_a_time_in_another_zone_is_read_in_japan() -> None:
    assert rules.is_open(DEFAULT_SETTINGS, datetime(2025, 6, 1, 21, 30, tzinfo=UTC))  # 06:30
    assert not rules.is_open(DEFAULT_SETTINGS, datetime(2025, 6, 1, 14, 0, tzinfo=UTC))  # 23:00


@given(
    first=st.tuples(st.integers(1, 12), st.integers(1, 28)),
    last=st.tuples(st.integers(1, 12), st.integers(1, 28)),
    day=days,
)
def test_a_closure_is_inclusive_and_may_wrap_the_year(
    first: tuple[int, int], last: tuple[int, int], day: date
) -> None:
    s = dataclasses.replace(DEFAULT_SETTINGS, closed_from=first, closed_until=last)
    md = (day.month, day.day)
    inside = first <= md <= last if first <= last else not (last < md < first)
    assert rules.in_closure(s, day) is inside
    assert rules.in_closure(s, date(day.year, *first)) and rules.in_closure(
        s, date(day.year, *last)
    )


def test_no_closure_means_every_day() -> None:
    s = dataclasses.replace(DEFAULT_SETTINGS, closed_from=None, closed_until=None)
    assert rules.is_open(s, datetime(2025, 12, 31, 12, 0, tzinfo=JST))


def test_a_kind_the_municipality_does_not_offer_is_refused() -> None:
    moment = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
    rules.check_service(DEFAULT_SETTINGS, R, moment)
    with pytest.raises(KioskRefused) as refused:
        rules.check_service(DEFAULT_SETTINGS, FUHYO, moment)  # the 附票 is off by default
    assert refused.value.code is RefusalCode.KIND_NOT_OFFERED
    assert refused.value.message_ja == (
        "この証明書はコンビニでは交付できません。市区町村の窓口にお越しください"
    )
    with pytest.raises(KioskRefused) as late:
        rules.check_service(DEFAULT_SETTINGS, R, moment.replace(hour=23))
    assert late.value.code is RefusalCode.OUTSIDE_HOURS


# -- settings validation ------------------------------------------------------------------------

minutes = st.builds(time, st.integers(0, 23), st.integers(0, 59))
month_days = st.tuples(st.integers(1, 12), st.integers(1, 31))
fees = st.fixed_dictionaries({k: st.integers(-5, 12_000) for k in sorted(KIOSK_KINDS)})
settings = st.builds(
    KioskSettings,
    kinds=st.frozensets(st.sampled_from(list(CertificateKind))),
    fees=fees.map(MappingProxyType),
    opens=minutes,
    closes=minutes,
    closed_from=st.none() | month_days,
    closed_until=st.none() | month_days,
)


def _valid_month_day(md: tuple[int, int] | None) -> bool:
    if md is None:
        return True
    try:
        date(2000, *md)
    except ValueError:
        return False
    return True


@given(settings)
def test_settings_are_valid_exactly_when_a_kiosk_can_follow_them(s: KioskSettings) -> None:
    valid = (
        s.kinds <= KIOSK_KINDS
        and all(0 <= v <= 10_000 for v in s.fees.values())
        and (s.opens < s.closes or s.closes == time(0, 0))
        and (s.closed_from is None) == (s.closed_until is None)
        and _valid_month_day(s.closed_from)
        and _valid_month_day(s.closed_until)
    )
    if not valid:
        with pytest.raises(ValidationError) as refused:
            rules.validate_settings(s)
        fields = {"kinds", "closes", "closed_from", "closed_until"}
        assert refused.value.field in fields | {f"fees.{k.value}" for k in KIOSK_KINDS}
        assert refused.value.message_ja
        return
    checked = rules.validate_settings(s)
    assert settings_from_json(settings_to_json(checked)) == checked


@given(day=days, hh=st.integers(0, 23), mm=st.integers(0, 59))
def test_a_service_closing_at_0000_runs_to_midnight(day: date, hh: int, mm: int) -> None:
    """00:00 as the closing time is the day's end: opens 00:00 and closes 00:00 is all day
    (only the closure stops it); opens 22:00 and closes 00:00 is 22:00 until midnight."""
    all_day = dataclasses.replace(
        DEFAULT_SETTINGS, opens=time(0, 0), closes=time(0, 0), closed_from=None, closed_until=None
    )
    assert rules.validate_settings(all_day) == all_day
    assert rules.is_open(all_day, at(day, hh, mm))
    late = dataclasses.replace(all_day, opens=time(22, 0))
    assert rules.is_open(late, at(day, hh, mm)) is (hh >= 22)


def test_february_29_is_a_day_of_the_year_and_seconds_are_refused() -> None:
    rules.validate_settings(dataclasses.replace(DEFAULT_SETTINGS, closed_from=(2, 29)))
    with pytest.raises(ValidationError) as bad:
        rules.validate_settings(dataclasses.replace(DEFAULT_SETTINGS, opens=time(6, 30, 1)))
    assert bad.value.field == "opens"


# -- the holder (issue 12 point 3) ---------------------------------------------------------------

ON = date(2025, 4, 1)


@pytest.mark.parametrize(
    ("changes", "code", "rule"),
    [
        ({}, None, None),
        (
            {"status": RecordStatus.REMOVED, "removal_reason": ChangeReason.MOVE_OUT_PLANNED},
            RefusalCode.MOVED_OUT,
            "moved_out",
        ),
        (
            {"status": RecordStatus.REMOVED, "removal_reason": ChangeReason.EMIGRATION},
            RefusalCode.MOVED_OUT,
            "moved_out",
        ),
        (
            {"status": RecordStatus.REMOVED, "removal_reason": ChangeReason.DEATH},
            RefusalCode.NOT_AT_KIOSK,
            "deceased",
        ),
        (
            {"status": RecordStatus.REMOVED, "removal_reason": ChangeReason.REMOVAL_BY_AUTHORITY},
            RefusalCode.NOT_AT_KIOSK,
            "removed",
        ),
        # as registry.standing.as_of shows a pending 転出届: active, its removal kept
        ({"removal_reason": ChangeReason.MOVE_OUT_PLANNED}, RefusalCode.MOVE_OUT_PLANNED, None),
        ({"support_measure": True}, RefusalCode.NOT_AT_KIOSK, "support_measure"),
        ({"birth_date": date(2010, 4, 2)}, RefusalCode.UNDER_15, "under_15"),
        ({"birth_date": date(2010, 4, 1)}, None, None),  # 15 today
    ],
)
def test_who_a_kiosk_may_answer(
    changes: dict[str, Any], code: RefusalCode | None, rule: Any
) -> None:
    holder = dataclasses.replace(plain_record("高橋", "誠"), **changes)
    if code is None:
        rules.check_holder(holder, ON)
        return
    with pytest.raises(KioskRefused) as refused:
        rules.check_holder(holder, ON)
    assert refused.value.code is code and refused.value.message_ja
    assert refused.value.rule == (rule or code.value)


def test_the_kiosk_never_offers_the_resident_code_and_members_only_on_a_copy() -> None:
    for kind in KIOSK_KINDS:
        assert OptionalItem.RESIDENT_CODE not in rules.KIOSK_ITEMS[kind]
        with pytest.raises(KioskRefused) as refused:
            rules.check_options(kind, "self", frozenset({OptionalItem.RESIDENT_CODE}))
        assert refused.value.code is RefusalCode.ITEM_NOT_OFFERED
    rules.check_options(R, "household", frozenset({OptionalItem.MY_NUMBER}))
    for kind in (RI, SEAL, FUHYO):
        with pytest.raises(KioskRefused) as members:
            rules.check_options(kind, "household", frozenset())
        assert members.value.code is RefusalCode.MEMBERS_NOT_OFFERED


def test_a_counter_rule_reads_at_the_kiosk_without_saying_why_when_that_is_personal() -> None:
    protected = DomainRuleError("resident_code", "support_measure", "en", "ja")
    assert rules.refusal_of(protected).code is RefusalCode.NOT_AT_KIOSK
    assert rules.refusal_of(protected).rule == "support_measure"  # kept for the register
    seal = DomainRuleError("kind", "no_live_seal", "en", "ja")
    assert rules.refusal_of(seal).code is RefusalCode.NO_LIVE_SEAL


# -- the request and the answer ------------------------------------------------------------------


def _request(**kw: Any) -> KioskRequest:
    values: dict[str, Any] = {
        "request_id": new_request_id(),
        "card_serial": "0A1B2C",
        "lg_code": "132250",
        "kind": "residence",
    }
    values.update(kw)
    return KioskRequest(**values)


def test_request_ids_are_unguessable_and_the_shape_is_strict() -> None:
    ids = {new_request_id() for _ in range(200)}
    assert len(ids) == 200 and all(len(i) == 43 for i in ids)
    with pytest.raises(ValueError, match="request_id"):
        _request(request_id="1")
    with pytest.raises(ValueError, match="resident_code"):
        _request(resident_code="12345678901")  # the request names no person
    with pytest.raises(ValueError, match="copies"):
        _request(copies=11)


def test_an_answer_opens_only_for_its_request_id_and_its_card() -> None:
    request = _request()
    answer = KioskAnswer(
        request_id=request.request_id,
        card_serial=request.card_serial,
        lg_code=request.lg_code,
        outcome="issued",
        certificate=KioskCertificate(
            certificate_id="c",
            kind="residence",
            title="住民票の写し",
            issue_numbers=["n"],
            copies=1,
            fee_yen=300,
            digest="d",
            pdf_base64="JVBERg==",
        ),
    )
    assert open_answer(answer, request.request_id, "0A1B2C") == b"%PDF"
    for rid, serial in ((new_request_id(), "0A1B2C"), (request.request_id, "0A1B2D")):
        with pytest.raises(AnswerMismatch):
            open_answer(answer, rid, serial)
    refused = KioskAnswer.refused(request, RefusalCode.UNDER_15)
    assert open_answer(refused, request.request_id, "0A1B2C") is None
    assert refused.refusal is not None and refused.refusal.message_ja.startswith("15歳未満")
