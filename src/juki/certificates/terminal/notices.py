"""The counter's 本人通知 screen: register or withdraw a resident, and the notices to post.

The clerk who prints the day's notices lists those not yet sent (each with its text and the
address it goes to) and marks each sent once it is in the post; the same screen takes a
resident's registration or its withdrawal by 住民票コード. Each is the service's action
(authorised and in the oplog); a refusal comes back on the page, naming the field.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Form, Query
from fastapi.responses import HTMLResponse, Response

from juki.certificates.services.self_notice import (
    mark_self_notice_sent,
    register_self_notice,
    self_notices_to_send,
    withdraw_self_notice,
)
from juki.certificates.terminal.screens import Route, Screens, TerminalScreens
from juki.certificates.terminal.session import FormSession, Session, TerminalSession
from juki.core.errors import RuleViolation

DONE: Final = {
    "registered": "本人通知の登録を受け付けました。",
    "withdrawn": "本人通知の登録を廃止しました。",
    "sent": "送付済みにしました。",
}


def _page(
    screens: Screens, session: Session, msg: str = "", error: RuleViolation | None = None
) -> HTMLResponse:
    notices = self_notices_to_send(screens.desk().uow(), session.actor)
    return screens.page(
        "self_notices.html",
        session,
        200 if error is None else 422,
        notices=notices,
        done=DONE.get(msg, ""),
        error=error,
    )


def notices_page(
    session: TerminalSession,
    screens: TerminalScreens,
    msg: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    return _page(screens, session, msg)


def registration(
    session: FormSession,
    screens: TerminalScreens,
    resident_code: Annotated[str, Form(max_length=32)],
    action: Annotated[str, Form(max_length=16)] = "register",
) -> Response:
    uow = screens.desk().uow()
    code = resident_code.strip()
    try:
        if action == "withdraw":
            withdraw_self_notice(uow, session.actor, code)
        else:
            register_self_notice(uow, session.actor, code)
    except RuleViolation as exc:
        return _page(screens, session, error=exc)
    return screens.see_other(
        f"/self-notices?msg={'withdrawn' if action == 'withdraw' else 'registered'}"
    )


def sent(
    session: FormSession,
    screens: TerminalScreens,
    notice_id: Annotated[str, Form(max_length=36)],
) -> Response:
    try:
        mark_self_notice_sent(screens.desk().uow(), session.actor, notice_id)
    except RuleViolation as exc:
        return _page(screens, session, error=exc)
    return screens.see_other("/self-notices?msg=sent")


ROUTES: Final = (
    Route("GET", "/self-notices", notices_page),
    Route("POST", "/self-notices/registrations", registration),
    Route("POST", "/self-notices/sent", sent),
)
