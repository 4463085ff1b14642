"""The counter's 訂正の申出 screen: the correction requests residents filed in the portal.

A clerk lists the open requests, opens one (the resident's words, and their record here), and
decides it: **accept** — choose the entry screen for the change (氏名・続柄の職権修正, 氏名の
変更, …); the change is entered there and filed through review like any other, and filing it
marks the request accepted with the provisional change's id — or **reject** with a reason,
which the resident reads in the portal. Each step is an action of `juki.registry.corrections`
(authorised, in the oplog); a refusal comes back on the page, naming the field.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Form, Path, Query
from fastapi.responses import HTMLResponse, Response

from juki.certificates.terminal.entry_screens import SCREENS
from juki.certificates.terminal.screens import Route, Screens, TerminalScreens
from juki.certificates.terminal.session import FormSession, Session, TerminalSession
from juki.core.errors import RuleViolation
from juki.registry import corrections
from juki.registry import services as registry
from juki.registry.ports import SearchQuery
from juki.registry.review.kinds import KINDS
from juki.web.text import CleanStr

RequestIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,43}$")]
DONE: Final = {"rejected": "訂正の申出を却下しました。理由は申出人のポータルに表示されます。"}


def queue(
    session: TerminalSession,
    screens: TerminalScreens,
    msg: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    found = corrections.open_requests(screens.desk().uow(), session.actor)
    return screens.page("corrections.html", session, requests=found, done=DONE.get(msg, ""))


def _page(
    screens: Screens, session: Session, request_id: str, error: RuleViolation | None = None
) -> HTMLResponse:
    d = screens.desk()
    request = corrections.get_request(d.uow(), session.actor, request_id)
    query = SearchQuery(resident_code=request.resident_code, limit=5)
    records = registry.search_records(d.uow(), session.actor, query)
    subject = next((r for r in records if r.is_active), None)
    screens_allowed = [
        s
        for s in SCREENS.values()
        if s.needs_subject and session.can(KINDS[s.kind].permission) and subject is not None
    ]
    return screens.page(
        "correction.html",
        session,
        200 if error is None else 422,
        request=request,
        subject=subject,
        entry_screens=screens_allowed,
        error=error,
    )


def open_request(
    session: TerminalSession, screens: TerminalScreens, request_id: RequestIdPath
) -> HTMLResponse:
    return _page(screens, session, request_id)


def reject(
    session: FormSession,
    screens: TerminalScreens,
    request_id: RequestIdPath,
    reason: Annotated[CleanStr, Form(max_length=2000)] = "",
) -> Response:
    try:
        corrections.reject_request(screens.desk().uow(), session.actor, request_id, reason)
    except RuleViolation as exc:
        return _page(screens, session, request_id, exc)
    return screens.see_other("/corrections?msg=rejected")


ROUTES: Final = (
    Route("GET", "/corrections", queue),
    Route("GET", "/corrections/{request_id}", open_request),
    Route("POST", "/corrections/{request_id}/rejection", reject),
)
