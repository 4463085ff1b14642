"""Certificates on the web: 広域交付's JSON API and the mounts of both UIs in the registry app.

The public verification (status endpoint, API and page, rate-limited) is in `public`;
`install_verification` adds it alone (a node's public listener), `install_certificates` adds it
with 広域交付 and the counter terminal (the registry app).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, Field

from juki.certificates.desk import CertificateDesk
from juki.certificates.kiosk.api import kiosk_router
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateKind,
    CertificateRequest,
    Members,
    OptionalItem,
)
from juki.certificates.ports import ContentSource, WideAreaOutcome, WideAreaRequestEntry
from juki.certificates.public import install_rate_limit, verification_pages, verification_router
from juki.certificates.ratelimit import RateLimiter
from juki.certificates.requests_api import requests_router
from juki.certificates.services import IssuedCertificate
from juki.certificates.terminal.app import terminal_app
from juki.certificates.terminal.screens import ScreenSet
from juki.certificates.wide_area import REGISTER_LIMIT, refuse_off_network, wide_area_register
from juki.core.clock import Clock
from juki.core.settings import Settings
from juki.web.auth import OperatorActor
from juki.web.errors import READ_RESPONSES, WRITE_RESPONSES


class CertificateDeskHolder:
    """Builds the app's `CertificateDesk` on first use (keys and fonts are not touched before).

    Tests and the node wiring can `use()` a desk of their own.
    """

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self._app = app
        self._settings = settings
        self._desk: CertificateDesk | None = None
        self._lock = threading.Lock()

    def use(self, desk: CertificateDesk) -> None:
        self._desk = desk

    def __call__(self) -> CertificateDesk:
        with self._lock:
            if self._desk is None:
                engine: sa.Engine = self._app.state.engine
                clock: Clock = self._app.state.clock
                self._desk = CertificateDesk(engine, self._settings, clock=clock)
            return self._desk


# -- 広域交付: issuing for a resident of another municipality ------------------------------------

ResidentCodeStr = Annotated[str, Field(pattern=r"^[0-9]{11}$")]


class WideAreaIssueIn(BaseModel):
    """A resident of `from_lg_code` asks at this counter, having shown ID (本人確認済み)."""

    from_lg_code: Annotated[
        str, Field(pattern=r"^[0-9]{6}$", description="住所地の地方公共団体コード (home)")
    ]
    resident_code: Annotated[ResidentCodeStr, Field(description="the applicant's 住民票コード")]
    members: Literal["all"] | Annotated[list[ResidentCodeStr], Field(max_length=50)] = Field(
        default_factory=list,
        description="household members to show: 'all', or their codes (default: the applicant)",
    )
    items: Annotated[list[OptionalItem], Field(max_length=len(OptionalItem))] = Field(
        default_factory=list,
        description="optional items; a wide-area copy never carries honseki (refused by rule)",
    )
    copies: Annotated[int, Field(ge=1, le=10)] = 1

    def to_request(self) -> CertificateRequest:
        members: Members = ALL_MEMBERS if self.members == ALL_MEMBERS else tuple(self.members)
        return CertificateRequest(
            kind=CertificateKind.RESIDENCE,
            resident_code=self.resident_code,
            members=members,
            items=frozenset(self.items),
            copies=self.copies,
        )


class WideAreaIssuedOut(BaseModel):
    """The issued certificate: its numbers, where its content came from, and the signed PDF."""

    certificate_id: str
    title: str
    subject_resident_code: str
    record_lg_code: str
    record_municipality: str
    issuer_lg_code: str
    persons: int
    issue_numbers: list[str]
    fee_yen: int
    digest: str
    pdf_base64: str

    @classmethod
    def of(cls, issued: IssuedCertificate) -> WideAreaIssuedOut:
        import base64

        return cls(
            certificate_id=issued.certificate_id,
            title=issued.content.title,
            subject_resident_code=issued.subject_resident_code,
            record_lg_code=issued.content.record_lg_code,
            record_municipality=issued.content.record_municipality,
            issuer_lg_code=issued.issuance.lg_code,
            persons=len(issued.content.persons),
            issue_numbers=list(issued.issue_numbers),
            fee_yen=issued.fee_yen,
            digest=issued.digest,
            pdf_base64=base64.b64encode(issued.pdf).decode("ascii"),
        )


class WideAreaRequestOut(BaseModel):
    """One line of 広域交付の照会記録: a request another municipality's CS made here."""

    request_id: str
    at: str
    requesting_lg_code: str
    requested_by: str = Field(description="the operator at the requesting municipality")
    subject_resident_code: str | None = Field(
        description="住民票コード; null for a role that may not see it (view_resident_code)"
    )
    members: str | None = Field(
        description="'self', 'all', or the resident codes asked for (null: codes hidden)"
    )
    items: list[str]
    outcome: Literal["answered", "refused"]
    rule: str | None = Field(description="the rule that refused it (None when answered)")
    persons: int

    @classmethod
    def of(cls, e: WideAreaRequestEntry) -> WideAreaRequestOut:
        return cls(
            request_id=e.request_id,
            at=e.at,
            requesting_lg_code=e.requesting_lg_code,
            requested_by=e.requested_by,
            subject_resident_code=e.subject_resident_code,
            members=e.members,
            items=[i for i in e.items.split(",") if i],
            outcome="answered" if e.outcome is WideAreaOutcome.ANSWERED else "refused",
            rule=e.rule,
            persons=e.persons,
        )


class WideAreaRegisterOut(BaseModel):
    entries: list[WideAreaRequestOut]


def wide_area_router(
    desk: Callable[[], CertificateDesk], source: ContentSource | None
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])

    @router.post(
        "/wide-area",
        response_model=WideAreaIssuedOut,
        responses=WRITE_RESPONSES,
    )
    def issue_wide_area(body: WideAreaIssueIn, by: OperatorActor) -> WideAreaIssuedOut:
        """広域交付: ask the home municipality's CS for the content, then issue it here.

        Refusals are 422 with the rule in `type` (home_disconnected, home_unreachable,
        not_resident, support_measure, wide_area_honseki, answer_mismatch …) and `msg_ja`.
        """
        if source is None:
            refuse_off_network(desk().uow(), by)
        issued = desk().issue_wide_area(
            by, body.to_request(), home_lg_code=body.from_lg_code, source=source
        )
        return WideAreaIssuedOut.of(issued)

    @router.get(
        "/wide-area/requests",
        response_model=WideAreaRegisterOut,
        responses=READ_RESPONSES,
    )
    def wide_area_requests(
        by: OperatorActor,
        since: Annotated[date | None, Query(description="from this day (YYYY-MM-DD)")] = None,
        until: Annotated[date | None, Query(description="to this day, inclusive")] = None,
        limit: Annotated[int, Query(ge=1, le=REGISTER_LIMIT)] = 500,
    ) -> WideAreaRegisterOut:
        """広域交付の照会記録: the requests other municipalities made here for our residents'
        content, answered or refused, newest first (permission `view_certificate_register`)."""
        entries = wide_area_register(desk().uow(), by, limit, since=since, until=until)
        return WideAreaRegisterOut(entries=[WideAreaRequestOut.of(e) for e in entries])

    return router


def install_verification(
    app: FastAPI, *, settings: Settings, limiter: RateLimiter | None = None
) -> CertificateDeskHolder:
    """Add public certificate verification (status endpoint, API and page) to `app`, rate
    limited per client: all a node's public listener serves."""
    holder = CertificateDeskHolder(app, settings)
    app.state.certificates = holder
    shared = install_rate_limit(app, limiter)
    app.include_router(verification_router(holder))
    app.mount("/verify", verification_pages(holder, shared))
    return holder


def install_certificates(
    app: FastAPI,
    *,
    settings: Settings,
    wide_area: ContentSource | None = None,
    limiter: RateLimiter | None = None,
    screens: tuple[ScreenSet, ...] = (),
) -> CertificateDeskHolder:
    """Add certificate verification (API and page), wide-area issuance (when the registry has a
    CS to ask through) and the counter terminal to the registry app, with `screens` of other
    features in the terminal."""
    holder = install_verification(app, settings=settings, limiter=limiter)
    app.include_router(wide_area_router(holder, wide_area))
    app.include_router(requests_router(holder))  # counter issuance, 第三者請求, 本人通知
    app.include_router(kiosk_router(holder))  # コンビニ交付: the kiosk settings
    app.mount("/terminal", terminal_app(holder, wide_area, screens))
    return holder
