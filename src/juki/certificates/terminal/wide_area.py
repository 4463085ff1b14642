"""広域交付 at the terminal: a resident of another municipality, whose content its CS supplies.

The form is confirmed without asking the home municipality (every question is registered there
as the resident's content leaving it, so only issuing asks); a refusal comes back on the form
with the rule behind it named for the clerk. The register screen lists the requests other
municipalities made here for our residents' content.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final

from fastapi import Query
from fastapi.responses import HTMLResponse, Response

from juki.certificates.ports import ContentSource
from juki.certificates.terminal.forms import PostedWideArea, WideAreaForm
from juki.certificates.terminal.screens import Route, Screens, TerminalScreens
from juki.certificates.terminal.session import FormSession, Session, TerminalSession
from juki.certificates.wide_area import (
    preview_wide_area,
    refuse_off_network,
    wide_area_register,
)
from juki.core.errors import PermissionDeniedError, RuleViolation
from juki.security.permissions import Permission
from juki.web.text import CleanStr

REGISTER_LIMIT_SCREEN: Final = 300
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


def _wide_area_page(
    screens: Screens,
    session: Session,
    posted: WideAreaForm | None,
    error: RuleViolation | None = None,
) -> HTMLResponse:
    rule_ja = WIDE_AREA_RULE_JA.get(error.rule, error.rule) if error else None
    return screens.page(
        "wide_area.html",
        session,
        200 if error is None else 422,
        form=posted,
        error=error,
        rule_ja=rule_ja,
    )


def _source(screens: Screens, session: Session) -> ContentSource:
    """The CS to ask through. Off the network, the operator's permission is checked (a role
    without it: 403, logged) before they are told there is no network to ask."""
    if screens.wide_area is None:
        refuse_off_network(screens.desk().uow(), session.actor)
    return screens.wide_area


def wide_area_form_page(session: TerminalSession, screens: TerminalScreens) -> HTMLResponse:
    if not session.can(Permission.REQUEST_WIDE_AREA_ISSUANCE):
        raise PermissionDeniedError(
            session.actor.actor_id, Permission.REQUEST_WIDE_AREA_ISSUANCE.value
        )
    return _wide_area_page(screens, session, None)


def wide_area_confirm(
    session: FormSession, screens: TerminalScreens, posted: PostedWideArea
) -> HTMLResponse:
    _source(screens, session)
    try:
        preview = preview_wide_area(
            screens.desk().uow(),
            session.actor,
            posted.to_request(),
            home_lg_code=posted.from_lg_code,
        )
    except RuleViolation as exc:
        return _wide_area_page(screens, session, posted, exc)
    return screens.page("wide_area_confirm.html", session, form=posted, preview=preview)


def wide_area_issue(
    session: FormSession, screens: TerminalScreens, posted: PostedWideArea
) -> Response:
    source = _source(screens, session)
    try:
        issued = screens.desk().issue_wide_area(
            session.actor,
            posted.to_request(),
            home_lg_code=posted.from_lg_code,
            source=source,
        )
    except RuleViolation as exc:
        return _wide_area_page(screens, session, posted, exc)
    return screens.see_other(f"/certificates/{issued.certificate_id}?done=1")


def wide_area_requests(
    session: TerminalSession,
    screens: TerminalScreens,
    since: Annotated[CleanStr, Query(max_length=10)] = "",
    until: Annotated[CleanStr, Query(max_length=10)] = "",
) -> HTMLResponse:
    try:
        start = date.fromisoformat(since) if since else None
        end = date.fromisoformat(until) if until else None
    except ValueError:
        return screens.page(
            "error.html", session, 422, message="日付は「2025-04-01」の形式です", field="since"
        )
    entries = wide_area_register(
        screens.desk().uow(), session.actor, REGISTER_LIMIT_SCREEN, since=start, until=end
    )
    return screens.page(
        "wide_area_register.html",
        session,
        entries=entries,
        since=since,
        until=until,
        rules=WIDE_AREA_RULE_JA,
    )


ROUTES: Final = (
    Route("GET", "/wide-area", wide_area_form_page),
    Route("POST", "/wide-area/confirm", wide_area_confirm),
    Route("POST", "/wide-area", wide_area_issue),
    Route("GET", "/wide-area/register", wide_area_requests),
)
