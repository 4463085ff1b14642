"""The small network shared by the modules of tests/e2e/e2e_network (built in its conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from juki.certificates.kiosk.model import KioskSettings
from juki.certificates.kiosk.services import set_kiosk_settings
from juki.certificates.kiosk.store import SqlKioskUnitOfWork
from juki.core.clock import JST
from juki.nodes.config import NetworkFiles
from juki.nodes.console import Console
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine

INAGI, FUJISAWA, NAGANO = "132250", "142051", "202011"
MUNICIPALITIES = (INAGI, FUJISAWA, NAGANO)
# where newcomers live, and their 本籍 (in the same municipality: no 附票 traffic elsewhere)
ADDRESSES = {
    INAGI: "東京都稲城市東長沼3番地",
    FUJISAWA: "神奈川県藤沢市鵠沼海岸3丁目3番3号",
    NAGANO: "長野県長野市大字鶴賀3番地",
}
HONSEKI = {
    INAGI: "東京都稲城市東長沼2111番地",
    FUJISAWA: "神奈川県藤沢市辻堂元町3番地",
    NAGANO: "長野県長野市大字鶴賀3番地",
}
QUIET_TIMEOUT = 90.0
ADMIN = Actor("e2e-admin", Role.OPERATIONS_MANAGER, "console")


@dataclass(frozen=True)
class SmallNetwork:
    files: NetworkFiles
    supervisors: dict[str, str]  # a 審査 operator's token per municipality
    clerk: str  # a counter clerk's token at 稲城市


def kiosks_all_day(files: NetworkFiles) -> None:
    """Every municipality's kiosk service open all day, every day, so that no test depends on
    when it runs (the default is 6:30-23:00 JST and closed 12/29-1/3; 00:00 closes at midnight)."""
    always = KioskSettings(opens=time(0, 0), closes=time(0, 0), closed_from=None, closed_until=None)
    for lg in MUNICIPALITIES:
        engine = make_engine(f"sqlite:///{files.root / lg}/node.db")
        try:
            set_kiosk_settings(SqlKioskUnitOfWork(engine), ADMIN, always)
        finally:
            engine.dispose()


def newcomers(
    net: SmallNetwork, lg: str, family: tuple[str, str], names: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Residents of `lg` that only the calling module knows: each moves in from abroad today
    (a household of one, born 1985), through the node's registry API as its supervisor; the
    records, once every level holds them (their 個人番号 generated at national).

    A module that needs people in a given state (no card, no provision, no certificate yet)
    makes them, rather than taking the first demo residents: the package's modules share one
    network, run in any order, and an earlier one may have given those a card, a certificate
    or a lookup. `family` and each of `names`: (name, its reading in katakana).
    """
    today = datetime.now(JST).date().isoformat()
    out: list[dict[str, Any]] = []
    with Console(net.files) as console:
        url = console.node(lg).endpoint + "/registry/api/v1/events/move-in"
        headers = {"Authorization": f"Bearer {net.supervisors[lg]}", "X-Juki-Terminal": "E2E"}
        for given, kana in names:
            person = {
                "family_name": family[0],
                "given_name": given,
                "family_name_kana": family[1],
                "given_name_kana": kana,
                "birth_date": "1985-06-07",
                "sex": "female",
                "honseki": HONSEKI[lg],
                "koseki_head": f"{family[0]}　{given}",
            }
            r = console.client.post(url, headers=headers, json={
                "person": person, "origin": "abroad", "address": ADDRESSES[lg],
                "moved_on": today, "notified_on": today, "previous_address": "アメリカ合衆国",
                "placement": {"kind": "new_household"},
            })  # fmt: skip
            assert r.status_code == 201, r.text
            out.append(r.json())
        assert console.wait_quiet(QUIET_TIMEOUT), console.statuses()
    return out
