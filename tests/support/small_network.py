"""The small network shared by the modules of tests/e2e/e2e_network (built in its conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from juki.certificates.kiosk.model import KioskSettings
from juki.certificates.kiosk.services import set_kiosk_settings
from juki.certificates.kiosk.store import SqlKioskUnitOfWork
from juki.nodes.config import NetworkFiles
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine

INAGI, FUJISAWA, NAGANO = "132250", "142051", "202011"
MUNICIPALITIES = (INAGI, FUJISAWA, NAGANO)
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
