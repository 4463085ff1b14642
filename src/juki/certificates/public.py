"""Certificate verification for anyone: the status endpoint, the verification API and page.

Verification is public (`public` marker): residents, banks and employers use it without a
login, and a municipality node also serves it on its public listener (ordinary TLS, no network
client certificate; `juki.nodes.apps.create_public_app`). It answers only to someone who holds
the certificate — every lookup needs the certificate id *and* its digest or 照合番号, both
printed on the paper and in its QR code — and then shows no more than the paper already shows
(who is named on it, not their items). The status endpoint says less still: valid, voided or
unknown. A PDF can be uploaded instead, and gets the full check (signature, chain, digest,
status) after size and complexity caps. Every route is rate-limited per client address
(`ratelimit`): 429 with `Retry-After`.

Every link and form action follows the mount: the pages are reached under `/verify` on a
standalone registry, `/registry/verify` on a node, or behind whatever prefix a proxy adds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from juki.certificates.codes import code_matches, normalise_code
from juki.certificates.jadates import add_date_filters
from juki.certificates.model import CertificateStatus
from juki.certificates.pages import templates, with_security_headers
from juki.certificates.ratelimit import PDF_COST, RateLimited, RateLimiter
from juki.certificates.verify import MAX_PDF_BYTES, Verdict
from juki.web.auth import PUBLIC
from juki.web.errors import RESPONSES_404, RESPONSES_422
from juki.web.schemas import ErrorOut

if TYPE_CHECKING:
    from juki.certificates.desk import CertificateDesk

CertificateIdPath = Annotated[
    str, Path(pattern=r"^[0-9a-fA-F-]{1,36}$", description="証明書ID (certificate id)")
]
DigestQuery = Annotated[
    str, Query(pattern=r"^[0-9a-f]{64}$", description="the certificate's SHA-256 digest")
]
_UUID: Final = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_DIGEST: Final = re.compile(r"[0-9a-f]{64}")
RESPONSES_429: Final[dict[int | str, dict[str, Any]]] = {
    429: {"description": "Too many requests from this client; see Retry-After", "model": ErrorOut}
}


# -- who may ask how often ----------------------------------------------------------------------


def limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def client_key(request: Request) -> str:
    """The client's address as the server saw it (behind a proxy, the address the proxy
    forwards, when the server is told to trust it: FORWARDED_ALLOW_IPS on a node)."""
    return request.client.host if request.client else "-"


def rate_limited(request: Request) -> None:
    """One lookup's worth of the client's bucket, or 429."""
    wait = limiter_of(request).take(client_key(request))
    if wait:
        raise RateLimited(wait)


def pdf_rate_limited(request: Request) -> None:
    """A PDF check costs `PDF_COST` lookups."""
    wait = limiter_of(request).take(client_key(request), PDF_COST)
    if wait:
        raise RateLimited(wait)


LOOKUP_LIMIT: Final = Depends(rate_limited)
PDF_LIMIT: Final = Depends(pdf_rate_limited)


def too_many_json(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    body = ErrorOut(
        detail=f"too many requests from this address; retry after {exc.retry_after} s",
        type="rate_limited",
        msg_ja=f"短時間に多くの照会がありました。{exc.retry_after}秒後にもう一度お試しください",
    )
    return JSONResponse(
        status_code=429,
        content=body.model_dump(),
        headers={"Retry-After": str(exc.retry_after)},
    )


def install_rate_limit(app: FastAPI, limiter: RateLimiter | None) -> RateLimiter:
    """Give `app` its limiter (a page app mounted in it is handed the same one)."""
    shared = limiter or RateLimiter()
    app.state.rate_limiter = shared
    app.add_exception_handler(RateLimited, too_many_json)
    return shared


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


class PublicStatusOut(BaseModel):
    """The public status of a certificate, and nothing else: not even whose it is."""

    status: Literal["valid", "voided", "unknown"]


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


def _too_large() -> JSONResponse:
    body = ErrorOut(
        detail=f"a certificate PDF is at most {MAX_PDF_BYTES} bytes",
        type="too_large",
        msg_ja="ファイルが大きすぎます",
    )
    return JSONResponse(status_code=413, content=body.model_dump())


async def read_pdf_body(request: Request, cap: int = MAX_PDF_BYTES) -> bytes | None:
    """The request body, or None when it is larger than `cap` (any certificate is smaller):
    read no further than the cap, whatever Content-Length says."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def lookup(
    desk: CertificateDesk, certificate_id: str, digest: str = "", code: str = ""
) -> CertificateStatus | None:
    """The register's answer for an id and a digest or a typed 照合番号; None for no match."""
    certificate_id = certificate_id.lower()
    if digest:
        return desk.lookup(certificate_id, digest)
    digest = desk.digest_of(certificate_id) or ""
    if digest and code_matches(digest, code):
        return desk.lookup(certificate_id, digest)
    return None


def verification_router(desk: Callable[[], CertificateDesk]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])

    @router.get(
        "/{certificate_id}/status",
        dependencies=[PUBLIC, LOOKUP_LIMIT],
        response_model=PublicStatusOut,
        responses={**RESPONSES_422, **RESPONSES_429},
    )
    def certificate_public_status(
        certificate_id: CertificateIdPath,
        digest: DigestQuery | None = None,
        code: Annotated[str | None, Query(max_length=64, description="照合番号")] = None,
    ) -> PublicStatusOut:
        """証明書の有効性 (no login, no client certificate): valid, voided or unknown, from the
        certificate register — needs the id and its digest or 照合番号; says nothing else."""
        found = lookup(desk(), certificate_id, digest or "", code or "")
        if found is None:
            return PublicStatusOut(status="unknown")
        return PublicStatusOut(status="voided" if found.status == "void" else "valid")

    @router.get(
        "/{certificate_id}/verification",
        dependencies=[PUBLIC, LOOKUP_LIMIT],
        response_model=CertificateStatusOut,
        responses={**RESPONSES_404, **RESPONSES_422, **RESPONSES_429},
    )
    def certificate_verification(
        certificate_id: CertificateIdPath, digest: DigestQuery
    ) -> CertificateStatusOut | JSONResponse:
        """証明書の照会 (no login): issued? by whom and when? void? — needs id and digest."""
        found = desk().lookup(certificate_id.lower(), digest)
        return _not_found() if found is None else CertificateStatusOut.of(found)

    @router.post(
        "/verification",
        dependencies=[PUBLIC, PDF_LIMIT],
        response_model=VerdictOut,
        responses={
            413: {"description": "Larger than any certificate", "model": ErrorOut},
            **RESPONSES_429,
        },
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
            return _too_large()
        from starlette.concurrency import run_in_threadpool

        verdict = await run_in_threadpool(desk().verify, data)
        return VerdictOut.of(verdict)

    return router


# -- HTML: the public verification page ---------------------------------------------------------


ID_AND_CODE_ERROR: Final = (
    "証明書ID（36文字）と照合番号（4文字×4組の英数字）を、証明書に印字されたとおり入力してください"
)


def verification_pages(desk: Callable[[], CertificateDesk], limiter: RateLimiter) -> FastAPI:
    """`/verify`: a page anyone can use, in Japanese, reached from the certificate's QR code;
    `limiter` is the one the verification API of the same app counts against."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.rate_limiter = limiter
    with_security_headers(app)
    env = templates()
    add_date_filters(env)

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        base = str(request.scope.get("root_path", "")).rstrip("/")
        html = env.get_template(name).render(base=base, **context)
        return HTMLResponse(html, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: Exception) -> Response:
        return page(request, "verify/form.html", 422, error="入力内容が正しくありません")

    @app.exception_handler(RateLimited)
    async def _too_many(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RateLimited)
        response = page(request, "verify/form.html", 429, error=too_many_ja(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.get("/", dependencies=[PUBLIC], response_class=HTMLResponse)
    def verify_form(request: Request) -> HTMLResponse:
        return page(request, "verify/form.html", error=None)

    @app.get("/check", dependencies=[PUBLIC, LOOKUP_LIMIT], response_class=HTMLResponse)
    def verify_by_form(
        request: Request,
        certificate_id: Annotated[str, Query(max_length=64)] = "",
        d: Annotated[str, Query(max_length=128)] = "",
    ) -> HTMLResponse:
        return _by_id(request, certificate_id, d)

    @app.get("/{certificate_id}", dependencies=[PUBLIC, LOOKUP_LIMIT], response_class=HTMLResponse)
    def verify_by_qr(
        request: Request, certificate_id: str, d: Annotated[str, Query(max_length=128)] = ""
    ) -> HTMLResponse:
        return _by_id(request, certificate_id, d)

    def _by_id(request: Request, certificate_id: str, typed: str) -> HTMLResponse:
        import unicodedata

        certificate_id = unicodedata.normalize("NFKC", certificate_id).strip()
        typed = typed.strip()
        digest = typed.lower() if _DIGEST.fullmatch(typed.lower()) else ""
        if not _UUID.fullmatch(certificate_id) or not (digest or normalise_code(typed)):
            return page(request, "verify/form.html", 422, error=ID_AND_CODE_ERROR)
        found = lookup(desk(), certificate_id, digest, typed)
        return page(request, "verify/status.html", 200 if found else 404, found=found)

    @app.post("/pdf", dependencies=[PUBLIC, PDF_LIMIT], response_class=HTMLResponse)
    async def verify_pdf_upload(request: Request) -> HTMLResponse:
        data = await uploaded_file(request)
        if data is None:
            return page(request, "verify/form.html", 413, error="ファイルが大きすぎます")
        if not data:
            return page(request, "verify/form.html", 422, error="PDFファイルを選択してください")
        from starlette.concurrency import run_in_threadpool

        verdict = await run_in_threadpool(desk().verify, data)
        return page(request, "verify/verdict.html", 200, verdict=verdict)

    return app


MULTIPART_SLACK: Final = 64 * 1024  # the form's boundaries and headers around the file


async def uploaded_file(request: Request) -> bytes | None:
    """The form's `file`, read from a body no larger than a certificate and its form (None
    when larger): the body is capped before the multipart parser sees it, so an oversized
    upload is never spooled to disk. Empty bytes when the form has no file."""
    body = await read_pdf_body(request, MAX_PDF_BYTES + MULTIPART_SLACK)
    if body is None:
        return None
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    from starlette.datastructures import UploadFile

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=2)
    except Exception:  # a malformed multipart body: no file
        return b""
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return b""
        data = await upload.read(MAX_PDF_BYTES + 1)
    finally:
        await form.close()
    return None if len(data) > MAX_PDF_BYTES else data


def too_many_ja(exc: RateLimited) -> str:
    return f"短時間に多くの照会がありました。{exc.retry_after}秒後にもう一度お試しください"
