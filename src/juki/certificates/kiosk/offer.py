"""What a municipality's kiosks offer right now (issue 12): advice for the kiosk's screens.

Before the customer enters a PIN, the kiosk asks the municipality (through the relay,
`kiosk_offer_request`) which certificates it issues at a kiosk, at what fee, and whether it
is open now, so the kind screen shows only what can be had and a closed or unreachable
municipality is said before anything is asked of the customer. Nothing about any person is
in it. It is advice, never authority: the municipality checks everything again when the
request comes (`rules.check_service`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import Final

from juki.certificates.kiosk.model import KioskSettings
from juki.certificates.kiosk.rules import in_closure, is_open
from juki.core.clock import JST


class OfferStatus(StrEnum):
    """Whether the municipality can serve a kiosk customer now, and if not why."""

    OPEN = "open"
    OUTSIDE_HOURS = "outside_hours"  # not between opens and closes
    CLOSED_DAY = "closed_day"  # the yearly closure (年末年始)
    NOT_OFFERED = "not_offered"  # no certificate at a kiosk, or no kiosk service at all
    DISCONNECTED = "disconnected"  # the relay: the municipality is 離脱 from the network
    UNREACHABLE = "unreachable"  # the relay (or the kiosk) could not reach it now

    @property
    def message_ja(self) -> str:
        return _MESSAGES_JA[self]


_MESSAGES_JA: Final = {
    OfferStatus.OPEN: "",
    OfferStatus.OUTSIDE_HOURS: "ただいまサービス時間外です",
    OfferStatus.CLOSED_DAY: "休止中です（年末年始等）",
    OfferStatus.NOT_OFFERED: "この市区町村のコンビニ交付は休止中です",
    OfferStatus.DISCONNECTED: "市区町村に接続できません。しばらくしてからご利用ください",
    OfferStatus.UNREACHABLE: "市区町村に接続できません。しばらくしてからご利用ください",
}


@dataclass(frozen=True, slots=True)
class KioskOffer:
    """The municipality's current kiosk offer: (kind, fee per copy) pairs, sorted by kind."""

    lg_code: str
    status: OfferStatus
    fees: tuple[tuple[str, int], ...] = ()
    opens: time | None = None
    closes: time | None = None

    @property
    def serviceable(self) -> bool:
        return self.status is OfferStatus.OPEN and bool(self.fees)

    def fee(self, kind: str) -> int | None:
        return dict(self.fees).get(kind)

    @property
    def hours_ja(self) -> str:
        if self.opens is None or self.closes is None:
            return ""
        closes = "24:00" if self.closes == time(0, 0) else f"{self.closes:%H:%M}"
        return f"{self.opens.hour}:{self.opens:%M}〜{closes}"


def offer_of(lg_code: str, settings: KioskSettings, at: datetime) -> KioskOffer:
    """The offer at `at` (the municipality's time, JST): the closure first, then the hours,
    then the kinds; the kinds and fees are told only while open (nothing to choose else)."""
    hours = settings.opens, settings.closes
    if in_closure(settings, at.astimezone(JST).date()):
        return KioskOffer(lg_code, OfferStatus.CLOSED_DAY, (), *hours)
    if not is_open(settings, at):
        return KioskOffer(lg_code, OfferStatus.OUTSIDE_HOURS, (), *hours)
    if not settings.kinds:
        return KioskOffer(lg_code, OfferStatus.NOT_OFFERED, (), *hours)
    fees = tuple((k.value, settings.fee(k)) for k in sorted(settings.kinds))
    return KioskOffer(lg_code, OfferStatus.OPEN, fees, *hours)
