"""The kiosk's plain values: a municipality's kiosk settings and the reasons for a refusal.

No I/O and no rule beyond the shape of a value; `juki.certificates.kiosk.rules` decides.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from juki.certificates.model import CertificateKind
from juki.core.errors import DomainRuleError

# What a kiosk may ever issue (issue 12, seed 003 (6)): 住民票の写し, 記載事項証明書,
# 印鑑登録証明書, and 戸籍の附票の写し where the municipality enables it. Never a 転出証明書
# (令23条) nor a 除票.
KIOSK_KINDS: Final = frozenset(
    {
        CertificateKind.RESIDENCE,
        CertificateKind.RECORD_ITEMS,
        CertificateKind.SEAL,
        CertificateKind.FUHYO,
    }
)
MIN_AGE: Final = 15  # issue 12: a card holder under 15 is sent to the counter
MAX_KIOSK_COPIES: Final = 10
MAX_KIOSK_FEE_YEN: Final = 10_000
SETTINGS_VERSION: Final = 1

MonthDay = tuple[int, int]


def _default_fees() -> Mapping[CertificateKind, int]:
    return MappingProxyType(dict.fromkeys(sorted(KIOSK_KINDS), 300))


@dataclass(frozen=True, slots=True)
class KioskSettings:
    """Which certificates the kiosks offer for this municipality, at what fee, and when.

    The defaults are seed 003's (2)ア: 6:30–23:00, and the 年末年始 closure 12/29–1/3 that every
    municipality of the service keeps; the 附票 is off until the municipality enables it.
    `closes` is exclusive (23:00 is closed), and 00:00 means until midnight (opens 00:00 and
    closes 00:00 is all day); `closed_from`..`closed_until` are inclusive and
    may wrap the year's end; both None means no closure.
    """

    kinds: frozenset[CertificateKind] = frozenset(
        {CertificateKind.RESIDENCE, CertificateKind.RECORD_ITEMS, CertificateKind.SEAL}
    )
    fees: Mapping[CertificateKind, int] = field(default_factory=_default_fees)
    opens: time = time(6, 30)
    closes: time = time(23, 0)
    closed_from: MonthDay | None = (12, 29)
    closed_until: MonthDay | None = (1, 3)

    def fee(self, kind: CertificateKind) -> int:
        return self.fees[kind]


DEFAULT_SETTINGS: Final = KioskSettings()


def _md(value: MonthDay | None) -> str | None:
    return None if value is None else f"{value[0]:02d}-{value[1]:02d}"


def parse_month_day(text: str | None) -> MonthDay | None:
    if text is None:
        return None
    month, day = text.split("-")
    return int(month), int(day)


def settings_to_json(settings: KioskSettings) -> str:
    """The one spelling the store keeps (and the API and CLI show)."""
    return json.dumps(settings_to_dict(settings), sort_keys=True, ensure_ascii=False)


def settings_to_dict(settings: KioskSettings) -> dict[str, Any]:
    return {
        "version": SETTINGS_VERSION,
        "kinds": sorted(k.value for k in settings.kinds),
        "fees": {k.value: v for k, v in sorted(settings.fees.items())},
        "opens": settings.opens.strftime("%H:%M"),
        "closes": settings.closes.strftime("%H:%M"),
        "closed_from": _md(settings.closed_from),
        "closed_until": _md(settings.closed_until),
    }


def settings_from_json(text: str) -> KioskSettings:
    data = json.loads(text)
    if data.get("version") != SETTINGS_VERSION:
        raise ValueError(f"kiosk settings version {data.get('version')!r} is not known")
    return KioskSettings(
        kinds=frozenset(CertificateKind(k) for k in data["kinds"]),
        fees=MappingProxyType({CertificateKind(k): int(v) for k, v in data["fees"].items()}),
        opens=time.fromisoformat(data["opens"]),
        closes=time.fromisoformat(data["closes"]),
        closed_from=parse_month_day(data["closed_from"]),
        closed_until=parse_month_day(data["closed_until"]),
    )


class RefusalCode(StrEnum):
    """The machine code a refusal carries to the relay and the kiosk screen.

    Deliberately coarse where the reason is itself personal: a 支援措置, a death or a removal by
    authority all answer `not_at_kiosk`, so nothing at the store learns why; the municipality's
    own register (kiosk_requests) keeps the precise rule.
    """

    OUTSIDE_HOURS = "outside_hours"
    CLOSED_DAY = "closed_day"
    KIND_NOT_OFFERED = "kind_not_offered"
    ITEM_NOT_OFFERED = "item_not_offered"
    MEMBERS_NOT_OFFERED = "members_not_offered"
    NOT_IN_HOUSEHOLD = "not_in_household"
    MOVED_OUT = "moved_out"
    MOVE_OUT_PLANNED = "move_out_planned"
    UNDER_15 = "under_15"
    NO_LIVE_SEAL = "no_live_seal"
    NO_FUHYO = "no_fuhyo"
    WRONG_MUNICIPALITY = "wrong_municipality"
    REPLAY = "replay"
    NOT_AT_KIOSK = "not_at_kiosk"
    MISMATCH = "mismatch"

    @property
    def message_ja(self) -> str:
        return _MESSAGES_JA[self]


_COUNTER: Final = "市区町村の窓口にお越しください"
_MESSAGES_JA: Final = {
    RefusalCode.OUTSIDE_HOURS: "ただいまはコンビニ交付のサービス時間外です",
    RefusalCode.CLOSED_DAY: "本日はコンビニ交付を休止しています（年末年始等）",
    RefusalCode.KIND_NOT_OFFERED: f"この証明書はコンビニでは交付できません。{_COUNTER}",
    RefusalCode.ITEM_NOT_OFFERED: f"選択された記載事項はコンビニでは記載できません。{_COUNTER}",
    RefusalCode.MEMBERS_NOT_OFFERED: "この証明書は本人分のみ交付できます",
    RefusalCode.NOT_IN_HOUSEHOLD: "選択された方は同じ世帯の方ではありません",
    RefusalCode.MOVED_OUT: f"転出等により住民票が消除されているため交付できません。{_COUNTER}",
    RefusalCode.MOVE_OUT_PLANNED: f"転出の届出をされているため交付できません。{_COUNTER}",
    RefusalCode.UNDER_15: f"15歳未満の方はコンビニ交付を利用できません。{_COUNTER}",
    RefusalCode.NO_LIVE_SEAL: f"有効な印鑑登録がありません（廃止・未登録）。{_COUNTER}",
    RefusalCode.NO_FUHYO: f"この市区町村に戸籍の附票がないため交付できません。{_COUNTER}",
    RefusalCode.WRONG_MUNICIPALITY: "選択された市区町村ではこのカードの証明書を交付できません",
    RefusalCode.REPLAY: "この請求は既に受け付けています。最初からやり直してください",
    RefusalCode.NOT_AT_KIOSK: f"この証明書はコンビニでは交付できません。{_COUNTER}",
    RefusalCode.MISMATCH: "請求とカードが一致しないため交付できません。最初からやり直してください",
}


class KioskRefused(DomainRuleError):
    """A kiosk request refused: `code` for the kiosk, `rule` the precise reason kept here."""

    def __init__(self, code: RefusalCode, rule: str, message_en: str) -> None:
        super().__init__("request", rule, message_en, code.message_ja)
        self.code = code
