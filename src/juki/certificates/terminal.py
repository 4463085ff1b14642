"""The counter terminal's certificate screens (統合端末: 証明書交付), server-rendered in Japanese.

Every screen works from the keyboard alone: each input has a label, the tab order is the
reading order, the main actions have access keys (shown on screen), and focus is always
visible. Operators sign in with their operator token, which is kept in an HttpOnly,
SameSite=Strict cookie scoped to `/terminal`; every form carries a CSRF token derived from it,
and the sign-in form its own double-submit token. Routes only translate: the services decide,
authorise and log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from juki.certificates.desk import CertificateDesk
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateKind,
    CertificateRequest,
    Members,
    OptionalItem,
    Requester,
    SupportOverride,
)
from juki.certificates.ports import CertificateRecord, ContentSource
from juki.certificates.services import (
    certificate_register,
    preview_certificate,
    record_spoiled_copy,
    view_issued_certificate,
    void_certificate,
)
from juki.certificates.wide_area import preview_wide_area, wide_area_register
from juki.core.errors import JukiError, NotFoundError, PermissionDeniedError, RuleViolation
from juki.registry import services as registry
from juki.registry.model import ResidentRecord
from juki.registry.ports import SearchQuery
from juki.security.actors import Actor
from juki.security.operators import MAX_TOKEN_LEN, authenticate, token_sha256
from juki.security.permissions import Permission, Role, is_allowed
from juki.security.uow import SqlUnitOfWork
from juki.web.auth import PUBLIC

BASE: Final = "/terminal"
TOKEN_COOKIE: Final = "juki_operator"  # noqa: S105 (a cookie name, not a secret)
TERMINAL_COOKIE: Final = "juki_terminal"
LOGIN_COOKIE: Final = "juki_login_csrf"
TERMINAL_RE: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
ROLE_JA: Final = {
    Role.COUNTER_CLERK: "窓口担当者",
    Role.REGISTRY_SUPERVISOR: "管理者",
    Role.OPERATIONS_MANAGER: "運用管理者",
    Role.AUDITOR: "監査",
    Role.SYSTEM: "システム",
}
SEARCH_LIMIT: Final = 30
REGISTER_LIMIT_SCREEN: Final = 300


class LoginRequired(Exception):
    """No valid operator cookie: the handler sends the browser to the sign-in form."""


@dataclass(frozen=True, slots=True)
class Session:
    actor: Actor
    csrf: str

    @property
    def role_ja(self) -> str:
        return ROLE_JA.get(self.actor.role, self.actor.role.value)

    def can(self, permission: Permission) -> bool:
        return is_allowed(self.actor.role, permission)


def csrf_for(token: str) -> str:
    """Bound to the operator's token, so a page of another session cannot post here."""
    key = bytes.fromhex(token_sha256(token))
    return hmac.new(key, b"juki-terminal-csrf", hashlib.sha256).hexdigest()


# Set per app by `terminal_app`; the dependency below needs the engine to authenticate.
def _desk_of(request: Request) -> CertificateDesk:
    desk: Callable[[], CertificateDesk] = request.app.state.desk
    return desk()


def terminal_operator(request: Request) -> Session:
    """Marker and dependency: the operator signed in at this terminal, or a redirect to sign in."""
    token = request.cookies.get(TOKEN_COOKIE, "")
    terminal = request.cookies.get(TERMINAL_COOKIE, "-")
    if not token or len(token) > MAX_TOKEN_LEN or not TERMINAL_RE.fullmatch(terminal):
        raise LoginRequired()
    actor = authenticate(SqlUnitOfWork(_desk_of(request).engine), token, terminal)
    if actor is None:
        raise LoginRequired()
    return Session(actor=actor, csrf=csrf_for(token))


TerminalSession = Annotated[Session, Depends(terminal_operator)]


class CsrfRejected(JukiError):
    message_en = "the form's CSRF token does not match this session"
    message_ja = "画面の有効期限が切れました。もう一度操作してください"


def csrf_checked(session: TerminalSession, csrf: Annotated[str, Form(max_length=128)]) -> Session:
    if not hmac.compare_digest(csrf, session.csrf):
        raise CsrfRejected()
    return session


FormSession = Annotated[Session, Depends(csrf_checked)]


# -- form values --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestForm:
    """The issuance form as posted; turned into a `CertificateRequest` in one place."""

    resident_code: str
    kind: str
    members: list[str]
    items: list[str]
    copies: str
    requester: str
    removed: str
    override_reason: str

    def to_request(self, household: Sequence[str]) -> CertificateRequest:
        try:
            kind = CertificateKind(self.kind)
        except ValueError:
            raise _invalid("kind", "証明書の種類を選択してください") from None
        try:
            items = frozenset(OptionalItem(i) for i in self.items)
        except ValueError:
            raise _invalid("items", "記載事項の指定が正しくありません") from None
        if not re.fullmatch(r"[0-9]{1,2}", self.copies.strip()):
            raise _invalid("copies", "部数は1〜10の数字で入力してください")
        members: Members
        chosen = [m for m in self.members if m]
        if kind is CertificateKind.SEAL or self.removed:
            members = ()
        elif not chosen:
            raise _invalid("members", "記載する世帯員を1人以上選択してください")
        elif len(household) > 1 and sorted(chosen) == sorted(household):
            members = ALL_MEMBERS
        elif chosen == [self.resident_code]:
            members = ()
        else:
            members = tuple(chosen)
        reason = self.override_reason.strip()
        return CertificateRequest(
            kind=kind,
            resident_code=self.resident_code,
            members=members,
            items=items,
            copies=int(self.copies.strip()),
            requester=Requester.THIRD_PARTY
            if self.requester == Requester.THIRD_PARTY.value
            else Requester.SELF,
            removed=bool(self.removed),
            support_override=SupportOverride(approved_by="", reason=reason) if reason else None,
        )


def _invalid(field: str, message_ja: str) -> RuleViolation:
    from juki.core.errors import ValidationError

    return ValidationError(field, "invalid", f"{field} is invalid", message_ja)


def request_form(
    resident_code: Annotated[str, Form(max_length=11)],
    kind: Annotated[str, Form(max_length=32)] = "",
    members: Annotated[list[str] | None, Form(max_length=11)] = None,
    items: Annotated[list[str] | None, Form(max_length=32)] = None,
    copies: Annotated[str, Form(max_length=4)] = "1",
    requester: Annotated[str, Form(max_length=32)] = "self",
    removed: Annotated[str, Form(max_length=4)] = "",
    override_reason: Annotated[str, Form(max_length=200)] = "",
) -> RequestForm:
    return RequestForm(
        resident_code=resident_code,
        kind=kind,
        members=(members or [])[:50],
        items=(items or [])[:10],
        copies=copies,
        requester=requester,
        removed=removed,
        override_reason=override_reason,
    )


PostedRequest = Annotated[RequestForm, Depends(request_form)]

# 広域交付: what the clerk may choose. 本籍・筆頭者 is not offered at all (a wide-area copy never
# carries it; a crafted post is still refused by the rule).
WIDE_AREA_ITEMS: Final = tuple(i for i in OptionalItem if i is not OptionalItem.HONSEKI)
MEMBER_MODES: Final = ("self", "all", "chosen")
MAX_CHOSEN: Final = 20
# The rule behind a refusal, named for the clerk (the message says what to do).
WIDE_AREA_RULE_JA: Final = {
    "home_disconnected": "住所地市区町村の離脱",
    "own_disconnected": "当団体の離脱",
    "home_unreachable": "住所地市区町村に接続不可",
    "home_unknown": "住基ネットにない団体",
    "home_refused_request": "住所地市区町村が照会を拒否",
    "own_municipality": "当団体の住民",
    "no_directory": "ディレクトリ取得不可",
    "request_not_sendable": "照会できない請求内容",
    "answer_not_verified": "回答の検証失敗",
    "answer_mismatch": "回答と照会の不一致",
    "wide_area_mismatch": "回答と請求内容の不一致",
    "not_resident": "住所地市区町村の住民でない",
    "support_measure": "支援措置",
    "not_in_household": "同一世帯でない",
    "wide_area_honseki": "本籍・筆頭者は記載不可",
    "wide_area_kind": "広域交付できない証明書",
    "wide_area_requester": "本人・同一世帯員以外の請求",
    "wide_area_override": "支援措置の確認省略不可",
    "not_on_network": "住基ネット未接続",
    "not_answered": "住所地市区町村で回答作成不可",
}


@dataclass(frozen=True, slots=True)
class WideAreaForm:
    """The 広域交付 form as posted: home municipality, applicant, members, items, copies."""

    from_lg_code: str
    resident_code: str
    members_mode: str
    member_codes: str
    items: list[str]
    copies: str

    @property
    def chosen(self) -> list[str]:
        return [c for c in re.split(r"[\s,、，]+", self.member_codes) if c]

    def to_request(self) -> CertificateRequest:
        try:
            items = frozenset(OptionalItem(i) for i in self.items)
        except ValueError:
            raise _invalid("items", "記載事項の指定が正しくありません") from None
        if not re.fullmatch(r"[0-9]{1,2}", self.copies.strip()):
            raise _invalid("copies", "部数は1〜10の数字で入力してください")
        if self.members_mode not in MEMBER_MODES:
            raise _invalid("members", "記載する世帯員を選択してください")
        members: Members = ()
        if self.members_mode == "all":
            members = ALL_MEMBERS
        elif self.members_mode == "chosen":
            chosen = self.chosen
            if not chosen:
                raise _invalid("members", "記載する世帯員の住民票コードを入力してください")
            if len(chosen) > MAX_CHOSEN:
                raise _invalid("members", f"指定できる世帯員は{MAX_CHOSEN}人までです")
            members = () if chosen == [self.resident_code.strip()] else tuple(chosen)
        return CertificateRequest(
            kind=CertificateKind.RESIDENCE,
            resident_code=self.resident_code.strip(),
            members=members,
            items=items,
            copies=int(self.copies.strip()),
        )


def wide_area_form(
    from_lg_code: Annotated[str, Form(max_length=32)],
    resident_code: Annotated[str, Form(max_length=32)],
    members_mode: Annotated[str, Form(max_length=16)] = "self",
    member_codes: Annotated[str, Form(max_length=600)] = "",
    items: Annotated[list[str] | None, Form(max_length=32)] = None,
    copies: Annotated[str, Form(max_length=4)] = "1",
) -> WideAreaForm:
    return WideAreaForm(
        from_lg_code=from_lg_code.strip(),
        resident_code=resident_code.strip(),
        members_mode=members_mode,
        member_codes=member_codes,
        items=(items or [])[:10],
        copies=copies,
    )


PostedWideArea = Annotated[WideAreaForm, Depends(wide_area_form)]


# -- the app ------------------------------------------------------------------------------------


def terminal_app(
    desk: Callable[[], CertificateDesk], wide_area: ContentSource | None = None
) -> FastAPI:
    """The terminal; `wide_area` is this municipality's CS when the registry runs in a network
    node (the same source the API's 広域交付 route uses), None when it runs alone."""
    from juki.certificates.web import NotOnNetwork, _templates, with_security_headers

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.desk = desk
    app.state.wide_area = wide_area
    with_security_headers(app)
    env = _templates()
    env.globals["kinds"] = list(CertificateKind)
    env.globals["optional_items"] = list(OptionalItem)
    env.globals["base"] = BASE
    env.globals["wide_area_items"] = WIDE_AREA_ITEMS
    env.globals["on_network"] = wide_area is not None

    def page(name: str, session: Session | None, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(f"terminal/{name}").render(session=session, **context)
        return HTMLResponse(html, status_code=status)

    def see_other(path: str) -> RedirectResponse:
        return RedirectResponse(f"{BASE}{path}", status_code=303)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: Exception) -> Response:
        return see_other("/login")

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: Exception) -> Response:
        return page("error.html", None, 422, message="入力内容が正しくありません", field="")

    @app.exception_handler(JukiError)
    async def _refused(request: Request, exc: Exception) -> Response:
        status = 422
        if isinstance(exc, PermissionDeniedError):
            status = 403
        elif isinstance(exc, NotFoundError):
            status = 404
        message = getattr(exc, "message_ja", "この操作は受け付けられませんでした")
        return page("error.html", None, status, message=message, field=getattr(exc, "field", ""))

    # -- sign in and out --------------------------------------------------------------------

    @app.get("/login", dependencies=[PUBLIC], response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        nonce = secrets.token_urlsafe(24)
        response = page(
            "login.html",
            None,
            nonce=nonce,
            terminal=request.cookies.get(TERMINAL_COOKIE, ""),
            error=None,
        )
        _cookie(response, request, LOGIN_COOKIE, nonce)
        return response

    @app.post("/login", dependencies=[PUBLIC], response_class=HTMLResponse)
    def login(
        request: Request,
        token: Annotated[str, Form(max_length=MAX_TOKEN_LEN)],
        terminal: Annotated[str, Form(max_length=64)],
        nonce: Annotated[str, Form(max_length=64)],
    ) -> Response:
        expected = request.cookies.get(LOGIN_COOKIE, "")
        error = None
        actor = None
        if not expected or not hmac.compare_digest(expected, nonce):
            error = "画面の有効期限が切れました。もう一度ログインしてください"
        elif not TERMINAL_RE.fullmatch(terminal):
            error = "端末IDは半角英数字と「_ . : -」の1〜64文字で入力してください"
        else:
            actor = authenticate(SqlUnitOfWork(desk().engine), token, terminal)
            if actor is None:
                error = "操作者トークンが正しくないか、無効になっています"
        if error or actor is None:
            fresh = secrets.token_urlsafe(24)
            response = page(
                "login.html", None, 401, nonce=fresh, terminal=terminal[:64], error=error
            )
            _cookie(response, request, LOGIN_COOKIE, fresh)
            return response
        signed_in = see_other("/")
        _cookie(signed_in, request, TOKEN_COOKIE, token)
        _cookie(signed_in, request, TERMINAL_COOKIE, terminal)
        signed_in.delete_cookie(LOGIN_COOKIE, path=BASE)
        return signed_in

    @app.post("/logout", response_class=HTMLResponse)
    def logout(session: FormSession) -> Response:
        response = see_other("/login")
        response.delete_cookie(TOKEN_COOKIE, path=BASE)
        return response

    # -- screens ----------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(session: TerminalSession) -> HTMLResponse:
        return page("home.html", session)

    @app.get("/residents", response_class=HTMLResponse)
    def search(
        session: TerminalSession,
        kana: Annotated[str, Query(max_length=64)] = "",
        code: Annotated[str, Query(max_length=11)] = "",
        birth: Annotated[str, Query(max_length=10)] = "",
    ) -> HTMLResponse:
        results: Sequence[ResidentRecord] | None = None
        error = None
        if kana or code or birth:
            try:
                query = SearchQuery(
                    name_kana=kana.strip() or None,
                    resident_code=code.strip() or None,
                    birth_date=date.fromisoformat(birth) if birth else None,
                    include_removed=True,
                    limit=SEARCH_LIMIT,
                )
                results = registry.search_records(desk().uow(), session.actor, query)
            except ValueError:
                error = "生年月日は「2025-04-01」の形式で入力してください"
            except RuleViolation as exc:
                error = exc.message_ja
        return page(
            "search.html",
            session,
            200 if error is None else 422,
            kana=kana,
            code=code,
            birth=birth,
            results=results,
            error=error,
        )

    def _subject(session: Session, resident_code: str) -> tuple[ResidentRecord, list[Any]]:
        d = desk()
        found = registry.search_records(
            d.uow(),
            session.actor,
            SearchQuery(resident_code=resident_code, include_removed=True, limit=10),
        )
        if not found:
            raise NotFoundError("resident_record", resident_code[:11])
        active = [r for r in found if r.is_active]
        subject = active[0] if active else found[0]
        members: list[Any] = [subject]
        if subject.is_active:
            _household, members_ = registry.household_view(
                d.uow(), session.actor, subject.household_id
            )
            members = list(members_)
        return subject, members

    def _request_page(
        session: Session,
        resident_code: str,
        posted: RequestForm | None,
        error: RuleViolation | None = None,
    ) -> HTMLResponse:
        subject, members = _subject(session, resident_code)
        return page(
            "request.html",
            session,
            200 if error is None else 422,
            subject=subject,
            members=members,
            form=posted,
            error=error,
        )

    @app.get("/certificates/new", response_class=HTMLResponse)
    def request_form_page(
        session: TerminalSession, code: Annotated[str, Query(pattern=r"^[0-9]{11}$")]
    ) -> HTMLResponse:
        return _request_page(session, code, None)

    @app.post("/certificates/confirm", response_class=HTMLResponse)
    def confirm(session: FormSession, posted: PostedRequest) -> HTMLResponse:
        subject, members = _subject(session, posted.resident_code)
        d = desk()
        try:
            request = posted.to_request([m.resident_code for m in members])
            preview = preview_certificate(d.uow(), session.actor, request, coverage=d.coverage)
        except RuleViolation as exc:
            return page(
                "request.html",
                session,
                422,
                subject=subject,
                members=members,
                form=posted,
                error=exc,
            )
        return page("confirm.html", session, form=posted, request=request, preview=preview)

    @app.post("/certificates", response_class=HTMLResponse)
    def issue(session: FormSession, posted: PostedRequest) -> Response:
        d = desk()
        _subject_record, members = _subject(session, posted.resident_code)
        try:
            request = posted.to_request([m.resident_code for m in members])
            issued = d.issue(session.actor, request)
        except RuleViolation as exc:
            return _request_page(session, posted.resident_code, posted, exc)
        return see_other(f"/certificates/{issued.certificate_id}?done=1")

    @app.get("/certificates/{certificate_id}", response_class=HTMLResponse)
    def result(
        session: TerminalSession,
        certificate_id: Annotated[str, _id_path()],
        done: int = 0,
        msg: Annotated[str, Query(max_length=16)] = "",
    ) -> HTMLResponse:
        record = view_issued_certificate(desk().uow(), session.actor, certificate_id)
        return page("result.html", session, record=record, done=bool(done), msg=msg, **_doc(record))

    @app.post("/certificates/{certificate_id}/spoiled", response_class=HTMLResponse)
    def spoiled(
        session: FormSession,
        certificate_id: Annotated[str, _id_path()],
        issue_number: Annotated[str, Form(max_length=120)],
        disposal: Annotated[str, Form(max_length=200)],
    ) -> Response:
        record_spoiled_copy(desk().uow(), session.actor, certificate_id, issue_number, disposal)
        return see_other(f"/certificates/{certificate_id}?msg=spoiled")

    @app.get("/register", response_class=HTMLResponse)
    def register(
        session: TerminalSession, day: Annotated[str, Query(max_length=10)] = ""
    ) -> HTMLResponse:
        try:
            on = date.fromisoformat(day) if day else None
        except ValueError:
            return page(
                "error.html", session, 422, message="日付は「2025-04-01」の形式です", field="day"
            )
        entries = certificate_register(desk().uow(), session.actor, on, limit=300)
        return page("register.html", session, entries=entries, day=day)

    # -- 広域交付 (for a resident of another municipality) ------------------------------------

    def _wide_area_page(
        session: Session, posted: WideAreaForm | None, error: RuleViolation | None = None
    ) -> HTMLResponse:
        rule_ja = WIDE_AREA_RULE_JA.get(error.rule, error.rule) if error else None
        return page(
            "wide_area.html",
            session,
            200 if error is None else 422,
            form=posted,
            error=error,
            rule_ja=rule_ja,
        )

    def _source() -> ContentSource:
        if wide_area is None:
            raise NotOnNetwork()
        return wide_area

    @app.get("/wide-area", response_class=HTMLResponse)
    def wide_area_form_page(session: TerminalSession) -> HTMLResponse:
        if not session.can(Permission.REQUEST_WIDE_AREA_ISSUANCE):
            raise PermissionDeniedError(
                session.actor.actor_id, Permission.REQUEST_WIDE_AREA_ISSUANCE.value
            )
        return _wide_area_page(session, None)

    @app.post("/wide-area/confirm", response_class=HTMLResponse)
    def wide_area_confirm(session: FormSession, posted: PostedWideArea) -> HTMLResponse:
        _source()
        try:
            preview = preview_wide_area(
                desk().uow(),
                session.actor,
                posted.to_request(),
                home_lg_code=posted.from_lg_code,
            )
        except RuleViolation as exc:
            return _wide_area_page(session, posted, exc)
        return page("wide_area_confirm.html", session, form=posted, preview=preview)

    @app.post("/wide-area", response_class=HTMLResponse)
    def wide_area_issue(session: FormSession, posted: PostedWideArea) -> Response:
        source = _source()
        try:
            issued = desk().issue_wide_area(
                session.actor,
                posted.to_request(),
                home_lg_code=posted.from_lg_code,
                source=source,
            )
        except RuleViolation as exc:
            return _wide_area_page(session, posted, exc)
        return see_other(f"/certificates/{issued.certificate_id}?done=1")

    @app.get("/wide-area/register", response_class=HTMLResponse)
    def wide_area_requests(
        session: TerminalSession,
        since: Annotated[str, Query(max_length=10)] = "",
        until: Annotated[str, Query(max_length=10)] = "",
    ) -> HTMLResponse:
        try:
            start = date.fromisoformat(since) if since else None
            end = date.fromisoformat(until) if until else None
        except ValueError:
            return page(
                "error.html", session, 422, message="日付は「2025-04-01」の形式です", field="since"
            )
        entries = wide_area_register(
            desk().uow(), session.actor, REGISTER_LIMIT_SCREEN, since=start, until=end
        )
        return page(
            "wide_area_register.html",
            session,
            entries=entries,
            since=since,
            until=until,
            rules=WIDE_AREA_RULE_JA,
        )

    @app.get("/certificates/{certificate_id}/void", response_class=HTMLResponse)
    def void_form(
        session: TerminalSession, certificate_id: Annotated[str, _id_path()]
    ) -> HTMLResponse:
        if not session.can(Permission.VOID_CERTIFICATE):
            raise PermissionDeniedError(session.actor.actor_id, Permission.VOID_CERTIFICATE.value)
        record = view_issued_certificate(desk().uow(), session.actor, certificate_id)
        return page("void.html", session, record=record, error=None, **_doc(record))

    @app.post("/certificates/{certificate_id}/void", response_class=HTMLResponse)
    def void(
        session: FormSession,
        certificate_id: Annotated[str, _id_path()],
        reason: Annotated[str, Form(max_length=200)],
    ) -> Response:
        void_certificate(desk().uow(), session.actor, certificate_id, reason)
        return see_other(f"/certificates/{certificate_id}?msg=voided")

    return app


def _id_path() -> Any:
    from fastapi import Path

    return Path(pattern=r"^[0-9a-fA-F-]{36}$")


def _doc(record: CertificateRecord) -> dict[str, Any]:
    from juki.certificates.document import parse_document

    content, issuance = parse_document(record.content_json)
    return {"content": content, "issuance": issuance}


def _cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=BASE,
        max_age=12 * 3600,
    )
