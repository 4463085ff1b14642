"""The kiosk offer (`juki.certificates.kiosk.offer`): what a municipality's kiosks offer now,
told before the PIN. It is advice: these check it never promises what the request-time rule
(`rules.check_service`) refuses, nor hides what it allows."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta
from types import MappingProxyType

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.certificates.kiosk import rules
from juki.certificates.kiosk.model import DEFAULT_SETTINGS, KIOSK_KINDS, KioskRefused
from juki.certificates.kiosk.offer import KioskOffer, OfferStatus, offer_of
from juki.certificates.model import CertificateKind
from juki.core.clock import JST
from juki.network.kiosk_messages import KioskOfferAnswer

LG = "132250"
R, SEAL = CertificateKind.RESIDENCE, CertificateKind.SEAL


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=JST)


def test_an_open_municipality_offers_its_kinds_with_their_fees() -> None:
    settings = dataclasses.replace(
        DEFAULT_SETTINGS,
        kinds=frozenset({SEAL, R}),
        fees=MappingProxyType({**DEFAULT_SETTINGS.fees, SEAL: 200}),
    )
    offer = offer_of(LG, settings, _at(4, 1, 9))
    assert offer == KioskOffer(
        LG, OfferStatus.OPEN, (("residence", 300), ("seal", 200)), time(6, 30), time(23, 0)
    )
    assert offer.serviceable and offer.fee("seal") == 200 and offer.fee("record_items") is None
    assert offer.hours_ja == "6:30〜23:00"


@pytest.mark.parametrize(
    ("at", "status"),
    [
        (_at(4, 1, 6, 29), OfferStatus.OUTSIDE_HOURS),
        (_at(4, 1, 6, 30), OfferStatus.OPEN),
        (_at(4, 1, 22, 59), OfferStatus.OPEN),
        (_at(4, 1, 23, 0), OfferStatus.OUTSIDE_HOURS),  # closes is exclusive
        (_at(12, 29, 12), OfferStatus.CLOSED_DAY),  # the closure wins over the hours
        (_at(1, 3, 23, 30), OfferStatus.CLOSED_DAY),
        (_at(1, 4, 6, 30), OfferStatus.OPEN),
    ],
)
def test_the_hours_and_the_closure_say_why_not_and_name_no_kind(
    at: datetime, status: OfferStatus
) -> None:
    offer = offer_of(LG, DEFAULT_SETTINGS, at)
    assert offer.status is status
    assert bool(offer.fees) is (status is OfferStatus.OPEN) is offer.serviceable
    assert (offer.opens, offer.closes) == (time(6, 30), time(23, 0))


def test_no_kind_is_not_offered_and_midnight_shows_as_24_00() -> None:
    settings = dataclasses.replace(
        DEFAULT_SETTINGS, kinds=frozenset(), opens=time(0, 0), closes=time(0, 0)
    )
    offer = offer_of(LG, settings, _at(4, 1, 3))
    assert (offer.status, offer.fees, offer.serviceable) == (OfferStatus.NOT_OFFERED, (), False)
    assert offer.hours_ja == "0:00〜24:00"


def test_each_status_but_open_has_the_kiosks_japanese_message() -> None:
    assert OfferStatus.OUTSIDE_HOURS.message_ja.startswith("ただいまサービス時間外です")
    assert "休止中" in OfferStatus.CLOSED_DAY.message_ja
    assert "休止中" in OfferStatus.NOT_OFFERED.message_ja
    for status in (OfferStatus.DISCONNECTED, OfferStatus.UNREACHABLE):
        assert "接続できません" in status.message_ja


@given(
    minutes=st.integers(0, 365 * 24 * 60 - 1),
    kinds=st.frozensets(st.sampled_from(sorted(KIOSK_KINDS))),
    kind=st.sampled_from(sorted(KIOSK_KINDS)),
)
def test_the_offer_agrees_with_the_request_time_rule(
    minutes: int, kinds: frozenset[CertificateKind], kind: CertificateKind
) -> None:
    """A kind offered now is one `check_service` lets through now, and every other is refused."""
    at = _at(1, 1, 0) + timedelta(minutes=minutes)
    settings = dataclasses.replace(DEFAULT_SETTINGS, kinds=kinds)
    offered = offer_of(LG, settings, at).fee(kind.value) is not None
    try:
        rules.check_service(settings, kind, at)
    except KioskRefused:
        allowed = False
    else:
        allowed = True
    assert offered is allowed


def test_the_offer_message_names_kinds_only_when_open() -> None:
    hours = {"lg_code": LG, "opens": "06:30", "closes": "23:00"}
    kinds = [{"kind": "residence", "fee_yen": 300}]
    KioskOfferAnswer.model_validate({**hours, "status": "open", "kinds": kinds})
    for bad in (
        {**hours, "status": "open", "kinds": []},
        {**hours, "status": "outside_hours", "kinds": kinds},
        {**hours, "status": "open", "kinds": kinds * 2},
        {**hours, "status": "open", "kinds": kinds, "resident_code": "12345678901"},
        {**hours, "status": "open", "kinds": [{"kind": "move_out", "fee_yen": 300}]},
        {**hours, "status": "open", "kinds": kinds, "closes": "24:00"},
    ):
        with pytest.raises(pydantic.ValidationError):
            KioskOfferAnswer.model_validate(bad)
