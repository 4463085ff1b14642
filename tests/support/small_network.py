"""The small network shared by the modules of tests/e2e/e2e_network (built in its conftest)."""

from __future__ import annotations

from dataclasses import dataclass

from juki.nodes.config import NetworkFiles
from juki.security.actors import Actor
from juki.security.permissions import Role

INAGI, FUJISAWA, NAGANO = "132250", "142051", "202011"
MUNICIPALITIES = (INAGI, FUJISAWA, NAGANO)
ADMIN = Actor("e2e-admin", Role.OPERATIONS_MANAGER, "console")


@dataclass(frozen=True)
class SmallNetwork:
    files: NetworkFiles
    supervisors: dict[str, str]  # a 審査 operator's token per municipality
    clerk: str  # a counter clerk's token at 稲城市
