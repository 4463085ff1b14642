"""Certificates on the web: the public verification API and page, and the mounts of both UIs.

Verification is public (`public` marker): residents, banks and employers use it without a
login. It answers only to someone who holds the certificate — the status lookup needs the
certificate id *and* its 256-bit digest, both printed on the paper and in its QR code — and
then shows no more than the paper already shows (who is named on it, not their items), so it
reveals nothing personal to anyone else. A PDF can be uploaded instead, and gets the full check:
signature, chain, digest and status.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, File, Path, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from juki.certificates.desk import CertificateDesk
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateKind,
    CertificateRequest,
    CertificateStatus,
    Members,
    OptionalItem,
)
from juki.certificates.pages import templates, with_security_headers
from juki.certificates.ports import ContentSource, WideAreaOutcome, WideAreaRequestEntry
from juki.certificates.services import IssuedCertificate
from juki.certificates.terminal.app import terminal_app
from juki.certificates.verify import MAX_PDF_BYTES, Verdict
from juki.certificates.wide_area import REGISTER_LIMIT, NotOnNetwork, wide_area_register
from juki.core.clock import Clock
from juki.core.settings import Settings
from juki.web.auth import PUBLIC, OperatorActor
from juki.web.errors import READ_RESPONSES, RESPONSES_404, RESPONSES_422, WRITE_RESPONSES
from juki.web.schemas import ErrorOut

CertificateIdPath = Annotated[
    str, Path(pattern=r"^[0-9a-fA-F-]{1,36}$", description="証明書ID (certificate id)")
]
DigestQuery = Annotated[
    str, Query(pattern=r"^[0-9a-f]{64}$", description="照合番号: the SHA-256 digest printed")
]


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


# -- JSON -------------------------------------------------------------------------------------


class CertificateStatusOut(BaseModel):
    """What the issuing registry says about a certificate (no item of anyone's record)."""

    certificate_id: str
    status: str
    kind: str
    kind_ja: str
    issuer_lg_code: str
    issuer_name: str
    issued_at: str
    issue_numbers: list[str]
    spoiled_issue_numbers: list[str]
    names: list[str]
    voided_at: str | None
    pdf_sha256: str | None

    @classmethod
    def of(cls, s: CertificateStatus) -> CertificateStatusOut:
        return cls(**s.to_dict())


class VerdictOut(BaseModel):
    """The full check of an uploaded PDF."""

    ok: bool
    reason: str | None
    message: str
    message_ja: str
    detail: str
    certificate_id: str | None
    digest: str | None
    kind: str | None
    title: str | None
    issuer_lg_code: str | None
    issuer_name: str | None
    signatory: str | None
    issued_at: str | None
    issue_numbers: list[str]
    names: list[str]
    signer: str | None
    signer_fingerprint: str | None
    status: str
    spoiled_issue_numbers: list[str]

    @classmethod
    def of(cls, v: Verdict) -> VerdictOut:
        return cls(**v.to_dict())


def _not_found() -> JSONResponse:
    body = ErrorOut(
        detail="no certificate was issued with this id and digest",
        type="not_found",
        msg_ja="この証明書IDと照合番号の証明書は発行されていません",
    )
    return JSONResponse(status_code=404, content=body.model_dump())


async def read_pdf_body(request: Request) -> bytes | None:
    """The request body, or None when it is larger than any certificate could be."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PDF_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def verification_router(desk: Callable[[], CertificateDesk]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])

    @router.get(
        "/{certificate_id}/verification",
        dependencies=[PUBLIC],
        response_model=CertificateStatusOut,
        responses={**RESPONSES_404, **RESPONSES_422},
    )
    def certificate_verification(
        certificate_id: CertificateIdPath, digest: DigestQuery
    ) -> CertificateStatusOut | JSONResponse:
        """証明書の照会 (no login): issued? by whom and when? void? — needs id and digest."""
        found = desk().lookup(certificate_id.lower(), digest)
        return _not_found() if found is None else CertificateStatusOut.of(found)

    @router.post(
        "/verification",
        dependencies=[PUBLIC],
        response_model=VerdictOut,
        responses={413: {"description": "Larger than any certificate", "model": ErrorOut}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def verify_uploaded_pdf(request: Request) -> VerdictOut | JSONResponse:
        """証明書PDFの検証 (no login): signature, chain to the root, digest and status."""
        data = await read_pdf_body(request)
        if data is None:
            body = ErrorOut(
                detail=f"a certificate PDF is at most {MAX_PDF_BYTES} bytes",
                type="too_large",
                msg_ja="ファイルが大きすぎます",
            )
            return JSONResponse(status_code=413, content=body.model_dump())
        from starlette.concurrency import run_in_threadpool

        verdict = await run_in_threadpool(desk().verify, data)
        return VerdictOut.of(verdict)

    return router


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
    items: Annotated[list[OptionalItem], Field(max_length=6)] = Field(
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
    subject_resident_code: str
    members: str = Field(description="'self', 'all', or the resident codes asked for")
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
            raise NotOnNetwork()
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


# -- HTML: the public verification page ---------------------------------------------------------


def verification_pages(desk: Callable[[], CertificateDesk]) -> FastAPI:
    """`/verify`: a page anyone can use, in Japanese, reached from the certificate's QR code."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    with_security_headers(app)
    env = templates()

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: Exception) -> Response:
        return page("verify/form.html", 422, error="入力内容が正しくありません")

    @app.get("/", dependencies=[PUBLIC], response_class=HTMLResponse)
    def verify_form() -> HTMLResponse:
        return page("verify/form.html", error=None)

    @app.get("/check", dependencies=[PUBLIC], response_class=HTMLResponse)
    def verify_by_form(certificate_id: str = "", d: str = "") -> HTMLResponse:
        return _by_id(certificate_id.strip(), d.strip().lower())

    @app.get("/{certificate_id}", dependencies=[PUBLIC], response_class=HTMLResponse)
    def verify_by_qr(certificate_id: str, d: str = "") -> HTMLResponse:
        return _by_id(certificate_id, d.lower())

    def _by_id(certificate_id: str, digest: str) -> HTMLResponse:
        import re

        if not re.fullmatch(r"[0-9a-fA-F-]{36}", certificate_id) or not re.fullmatch(
            r"[0-9a-f]{64}", digest
        ):
            return page(
                "verify/form.html",
                422,
                error="証明書ID（36文字）と照合番号（64文字の英数字）を、証明書に印字されたとおり入力してください",
            )
        found = desk().lookup(certificate_id.lower(), digest)
        return page("verify/status.html", 200 if found else 404, found=found)

    @app.post("/pdf", dependencies=[PUBLIC], response_class=HTMLResponse)
    async def verify_pdf_upload(file: Annotated[UploadFile, File()]) -> HTMLResponse:
        data = await file.read(MAX_PDF_BYTES + 1)
        if len(data) > MAX_PDF_BYTES:
            return page("verify/form.html", 413, error="ファイルが大きすぎます")
        from starlette.concurrency import run_in_threadpool

        verdict = await run_in_threadpool(desk().verify, data)
        return page("verify/verdict.html", 200, verdict=verdict)

    return app


def install_certificates(
    app: FastAPI, *, settings: Settings, wide_area: ContentSource | None = None
) -> CertificateDeskHolder:
    """Add certificate verification (API and page), wide-area issuance (when the registry has a
    CS to ask through) and the counter terminal to the registry app."""
    holder = CertificateDeskHolder(app, settings)
    app.state.certificates = holder
    app.include_router(verification_router(holder))
    app.include_router(wide_area_router(holder, wide_area))
    app.mount("/verify", verification_pages(holder))
    app.mount("/terminal", terminal_app(holder, wide_area))
    return holder
