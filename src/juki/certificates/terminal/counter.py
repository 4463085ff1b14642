"""The counter's own screens: find a resident, ask, confirm, issue, and what comes after.

A clerk searches the registry, fills in the request for a resident (the household's members
offered as choices), confirms the content and fee the services preview, and issues; the result
screen records a spoiled copy, a supervisor voids from it, and the register lists the day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Final

from fastapi import Form, Query
from fastapi.responses import HTMLResponse, Response

from juki.certificates.model import ALL_MEMBERS, CertificateRequest
from juki.certificates.services import (
    certificate_register,
    preview_certificate,
    record_spoiled_copy,
    view_issued_certificate,
    void_certificate,
)
from juki.certificates.terminal.forms import PostedRequest, RequestForm
from juki.certificates.terminal.screens import (
    CertificateIdPath,
    Route,
    Screens,
    TerminalScreens,
    document_of,
)
from juki.certificates.terminal.session import FormSession, Session, TerminalSession
from juki.core.errors import NotFoundError, PermissionDeniedError, RuleViolation
from juki.registry import services as registry
from juki.registry.model import ResidentRecord
from juki.registry.ports import SearchQuery
from juki.security.permissions import Permission
from juki.web.text import CleanStr

SEARCH_LIMIT: Final = 30


def home(session: TerminalSession, screens: TerminalScreens) -> HTMLResponse:
    return screens.page("home.html", session)


def search(
    session: TerminalSession,
    screens: TerminalScreens,
    kana: Annotated[CleanStr, Query(max_length=64)] = "",
    code: Annotated[CleanStr, Query(max_length=11)] = "",
    birth: Annotated[CleanStr, Query(max_length=10)] = "",
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
            results = registry.search_records(screens.desk().uow(), session.actor, query)
        except ValueError:
            error = "生年月日は「2025-04-01」の形式で入力してください"
        except RuleViolation as exc:
            error = exc.message_ja
    return screens.page(
        "search.html",
        session,
        200 if error is None else 422,
        kana=kana,
        code=code,
        birth=birth,
        results=results,
        error=error,
    )


def _subject(
    screens: Screens, session: Session, resident_code: str
) -> tuple[ResidentRecord, list[Any]]:
    """The resident asked about (an active record first) and the members the form offers."""
    d = screens.desk()
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
        _household, members_ = registry.household_view(d.uow(), session.actor, subject.household_id)
        members = list(members_)
    return subject, members


def _request_page(
    screens: Screens,
    session: Session,
    resident_code: str,
    posted: RequestForm | None,
    error: RuleViolation | None = None,
) -> HTMLResponse:
    subject, members = _subject(screens, session, resident_code)
    return screens.page(
        "request.html",
        session,
        200 if error is None else 422,
        subject=subject,
        members=members,
        form=posted,
        error=error,
    )


def request_form_page(
    session: TerminalSession,
    screens: TerminalScreens,
    code: Annotated[CleanStr, Query(pattern=r"^[0-9]{11}$")],
) -> HTMLResponse:
    return _request_page(screens, session, code, None)


def confirm(session: FormSession, screens: TerminalScreens, posted: PostedRequest) -> HTMLResponse:
    subject, members = _subject(screens, session, posted.resident_code)
    d = screens.desk()
    try:
        request = posted.to_request([m.resident_code for m in members])
        preview = preview_certificate(d.uow(), session.actor, request, coverage=d.coverage)
    except RuleViolation as exc:
        return screens.page(
            "request.html",
            session,
            422,
            subject=subject,
            members=members,
            form=posted,
            error=exc,
        )
    return screens.page(
        "confirm.html",
        session,
        form=posted,
        request=request,
        preview=preview,
        chosen=chosen_members(request, subject, members),
        same_names=same_names(members),
    )


def chosen_members(
    request: CertificateRequest, subject: ResidentRecord, members: Sequence[Any]
) -> list[Any]:
    """The household members the request names, in the household's order (the subject alone
    when it names none)."""
    if request.members == ALL_MEMBERS:
        return list(members)
    if request.members:
        return [m for m in members if m.resident_code in request.members]
    return [subject]


def same_names(members: Sequence[Any]) -> frozenset[str]:
    """Names two or more members of the household share: the confirm screen then shows what
    tells them apart (relationship, birth date, the end of the resident code)."""
    names = [m.full_name for m in members]
    return frozenset(n for n in names if names.count(n) > 1)


def issue(session: FormSession, screens: TerminalScreens, posted: PostedRequest) -> Response:
    d = screens.desk()
    _subject_record, members = _subject(screens, session, posted.resident_code)
    try:
        request = posted.to_request([m.resident_code for m in members])
        issued = d.issue(session.actor, request)
    except RuleViolation as exc:
        return _request_page(screens, session, posted.resident_code, posted, exc)
    return screens.see_other(f"/certificates/{issued.certificate_id}?done=1")


def result(
    session: TerminalSession,
    screens: TerminalScreens,
    certificate_id: CertificateIdPath,
    done: int = 0,
    msg: Annotated[CleanStr, Query(max_length=16)] = "",
) -> HTMLResponse:
    record = view_issued_certificate(screens.desk().uow(), session.actor, certificate_id)
    return screens.page(
        "result.html", session, record=record, done=bool(done), msg=msg, **document_of(record)
    )


def spoiled(
    session: FormSession,
    screens: TerminalScreens,
    certificate_id: CertificateIdPath,
    issue_number: Annotated[CleanStr, Form(max_length=120)],
    disposal: Annotated[CleanStr, Form(max_length=200)],
) -> Response:
    record_spoiled_copy(screens.desk().uow(), session.actor, certificate_id, issue_number, disposal)
    return screens.see_other(f"/certificates/{certificate_id}?msg=spoiled")


def register(
    session: TerminalSession,
    screens: TerminalScreens,
    day: Annotated[CleanStr, Query(max_length=10)] = "",
) -> HTMLResponse:
    try:
        on = date.fromisoformat(day) if day else None
    except ValueError:
        return screens.page(
            "error.html", session, 422, message="日付は「2025-04-01」の形式です", field="day"
        )
    entries = certificate_register(screens.desk().uow(), session.actor, on, limit=300)
    return screens.page("register.html", session, entries=entries, day=day)


def void_form(
    session: TerminalSession, screens: TerminalScreens, certificate_id: CertificateIdPath
) -> HTMLResponse:
    if not session.can(Permission.VOID_CERTIFICATE):
        raise PermissionDeniedError(session.actor.actor_id, Permission.VOID_CERTIFICATE.value)
    record = view_issued_certificate(screens.desk().uow(), session.actor, certificate_id)
    return screens.page("void.html", session, record=record, error=None, **document_of(record))


def void(
    session: FormSession,
    screens: TerminalScreens,
    certificate_id: CertificateIdPath,
    reason: Annotated[CleanStr, Form(max_length=200)],
) -> Response:
    void_certificate(screens.desk().uow(), session.actor, certificate_id, reason)
    return screens.see_other(f"/certificates/{certificate_id}?msg=voided")


ROUTES: Final = (
    Route("GET", "/", home),
    Route("GET", "/residents", search),
    Route("GET", "/certificates/new", request_form_page),
    Route("POST", "/certificates/confirm", confirm),
    Route("POST", "/certificates", issue),
    Route("GET", "/certificates/{certificate_id}", result),
    Route("POST", "/certificates/{certificate_id}/spoiled", spoiled),
    Route("GET", "/register", register),
    Route("GET", "/certificates/{certificate_id}/void", void_form),
    Route("POST", "/certificates/{certificate_id}/void", void),
)
