"""広域交付 across an in-process network: 藤沢市 (B) issues for residents of 稲城市 (A).

The nodes, CSs, content rules, rendering and signing are the real ones; each node has its own
database (SQLite files, or PostgreSQL databases of one throwaway server). What the wide-area
test modules share: the two towns, reading their tables, and B's counter terminal.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pypdf import PdfReader

from juki.certificates import tables as certificate_tables
from juki.certificates.desk import CertificateDesk
from juki.certificates.model import (
    CertificateKind,
    CertificateRequest,
)
from juki.core.clock import Clock
from juki.core.errors import RuleViolation
from juki.nodes.apps import create_registry_app
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.wide_area import CsContentSource
from juki.security import tables as security_tables
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import People, Registry, fixed_clock, make_desk, populate
from support.terminal_session import open_session

A = "132250"  # 稲城市: the home municipality
B = "142051"  # 藤沢市: where the resident asks
CLERK_B = Actor("fujisawa-clerk", Role.COUNTER_CLERK, "F01")
AUDITOR_B = Actor("fujisawa-audit", Role.AUDITOR, "F09")
MANAGER_B = Actor("fujisawa-ops", Role.OPERATIONS_MANAGER, "console")


@dataclass
class WideArea:
    net: InProcessNetwork
    people: People
    desk: CertificateDesk  # B's

    @property
    def a(self) -> MunicipalityNode:
        return self.net.municipality(A)

    @property
    def b(self) -> MunicipalityNode:
        return self.net.municipality(B)

    def issue(self, code: str, **kw: Any) -> Any:
        home = kw.pop("home", A)
        request = CertificateRequest(
            kind=kw.pop("kind", CertificateKind.RESIDENCE), resident_code=code, **kw
        )
        return self.desk.issue_wide_area(
            kw.pop("by", CLERK_B), request, home_lg_code=home, source=CsContentSource(self.b)
        )

    def refused(self, code: str, **kw: Any) -> RuleViolation:
        by = kw.pop("by", CLERK_B)
        home = kw.pop("home", A)
        request = CertificateRequest(
            kind=kw.pop("kind", CertificateKind.RESIDENCE), resident_code=code, **kw
        )
        with pytest.raises(RuleViolation) as err:
            self.desk.issue_wide_area(
                by, request, home_lg_code=home, source=CsContentSource(self.b)
            )
        return err.value

    def a_register(self) -> list[dict[str, Any]]:
        return rows(self.a.engine, certificate_tables.wide_area_requests)

    def b_certificates(self) -> list[dict[str, Any]]:
        return rows(self.b.engine, certificate_tables.certificates)


def rows(engine: sa.Engine, table: sa.Table) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def oplog(engine: sa.Engine, action: str) -> list[dict[str, Any]]:
    """The node's oplog entries of one action, in the order they were written."""
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(security_tables.oplog)
                .where(security_tables.oplog.c.action == action)
                .order_by(security_tables.oplog.c.entry_id)
            ).mappings()
        ]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


# Input refused at B before any question is asked: no database behaviour in play, so these
# run on SQLite alone (each outcome that involves the databases runs on both).
ON_SQLITE_ONLY = pytest.mark.parametrize("node_db_url", ["sqlite"], indirect=True)


# -- the counter terminal ---------------------------------------------------------------------


def app_of(wide: WideArea, node: MunicipalityNode, *, on_network: bool = True) -> Any:
    app = create_registry_app(
        node.engine, clock=node.clock, wide_area=CsContentSource(node) if on_network else None
    )
    if node is wide.b:
        app.state.certificates.use(wide.desk)
    return app


def operator(node: MunicipalityNode, actor_id: str, role: Role, clock: Clock | None = None) -> str:
    """An operator's token, issued at the node's time (or `clock`'s: a command run on the console
    checks the token against the time of day)."""
    manager = Actor(f"{node.node_id}-ops", Role.OPERATIONS_MANAGER, "console")
    return create_operator(
        SqlUnitOfWork(node.engine, clock=clock or node.clock), manager, actor_id, "操作 太郎", role
    )


def sign_in(client: TestClient, token: str, terminal: str = "F01") -> str:
    """Signed in at the terminal (support.terminal_session); the page's CSRF token."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    return open_session(client, engine, token, terminal)


def wide_form(csrf: str, code: str, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf": csrf,
        "from_lg_code": A,
        "resident_code": code,
        "members_mode": "self",
        "member_codes": "",
        "items": [],
        "copies": "1",
    }
    data.update(over)
    return data


def build_two_towns(db_url: Callable[[str], str], tmp_path: Path) -> WideArea:
    """The small network, 稲城市's people (and their identity_info everywhere), B's desk."""
    clock = fixed_clock()
    net = build_network(small_layout(), db_url, clock, seed=11)
    net.national.allot(A, 1_000)
    net.run_until_quiet()
    people = populate(Registry(net.municipality(A).engine, clock))
    net.run_until_quiet()
    desk = make_desk(net.municipality(B).engine, tmp_path, clock)
    return WideArea(net, people, desk)
