"""The counter's 転居 entry and the supervisor's 審査 (仮登録 → 本登録), in Japanese.

A clerk opens a resident from the search to enter a 転居: opening takes the resident's edit
lock for this session (`review.open_for_editing`), so a second operator who opens them is told
「〇〇さんが編集中」 and gets no form. The 転居 (the members who move, the new address, the
dates) is tried against every rule and kept as a provisional change (仮登録), still holding the
lock; nothing reaches a certificate or the CS. The 審査 list shows the changes waiting, and the
latest that expired undecided with the reason; a supervisor other than the clerk approves
(本登録: applied now) or rejects with a reason; the clerk may withdraw their own. When the
municipality does not review changes (`JUKI_CHANGE_REVIEW=off`), the 転居 is applied at once.
Other entry screens open a resident and file their change the same way (`open_for_editing`,
`review.file_change`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from juki.certificates.terminal.screens import Route, Screens, TerminalScreens
from juki.certificates.terminal.session import (
    FormSession,
    Session,
    TerminalSession,
    session_key,
)
from juki.core.errors import RuleViolation, StateConflictError
from juki.registry import services as registry
from juki.registry.commands import RecordRelocation
from juki.registry.review import services as review
from juki.registry.review.kinds import KINDS
from juki.registry.review.model import ChangeStatus, LockHolder, ProvisionalChange, ReviewPolicy
from juki.registry.review.wiring import review_policy
from juki.web.text import CleanStr

ChangeIdForm = Annotated[str, Form(pattern=r"^[0-9a-fA-F-]{36}$")]
RecordIdQuery = Annotated[CleanStr, Query(min_length=1, max_length=36)]
EXPIRED_SHOWN: Final = 20  # the latest changes that expired undecided, with why
MESSAGES: Final = {
    "entered": "仮登録しました。審査（承認）されるまで住民票・証明書には反映されません",
    "applied": "転居を記録しました",
    "recorded": "異動を記録しました",
    "approved": "承認しました（本登録）。住民票に反映し、本人確認情報を送信します",
    "rejected": "却下しました。理由は記録に残ります",
    "withdrawn": "取り下げました",
}


def policy_of(screens: Screens) -> ReviewPolicy:
    return review_policy(screens.desk().settings)


def holder_of(request: Request) -> LockHolder:
    """A lock taken at the terminal lives no longer than this session."""
    return LockHolder(session_sha256=session_key(request))


def _relocation_page(
    screens: Screens,
    session: Session,
    record_id: str,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
    opened_by: LockHolder | None = None,
) -> HTMLResponse:
    """The entry form. `opened_by`: the resident is being opened for editing, so their lock is
    taken now (after they are read, so a role that may not read them is refused for that); if
    another operator holds it, the page says who and shows no form (409)."""
    d = screens.desk()
    subject = registry.get_record(d.uow(), session.actor, record_id)
    _household, members = registry.household_view(d.uow(), session.actor, subject.household_id)
    locked = False
    if opened_by is not None:
        try:
            review.open_for_editing(
                d.uow(), session.actor, record_id, policy=policy_of(screens), holder=opened_by
            )
        except StateConflictError as exc:
            status, error, locked = 409, exc.message_ja, True
    return screens.page(
        "relocation.html",
        session,
        status,
        subject=subject,
        members=members,
        error=error,
        locked=locked,
        form=form or {"moved_on": d.clock.today().isoformat()},
        today=d.clock.today().isoformat(),
    )


def relocation_form(
    request: Request, session: TerminalSession, screens: TerminalScreens, record: RecordIdQuery
) -> HTMLResponse:
    return _relocation_page(screens, session, record, opened_by=holder_of(request))


def relocate(
    request: Request,
    session: FormSession,
    screens: TerminalScreens,
    record: Annotated[CleanStr, Form(min_length=1, max_length=36)],
    members: Annotated[list[CleanStr], Form(max_length=20)],
    new_address: Annotated[CleanStr, Form(max_length=200)],
    moved_on: Annotated[CleanStr, Form(max_length=10)],
) -> Response:
    """転居の入力: 仮登録 (or applied at once when the municipality does not review)."""
    d = screens.desk()
    form = {"new_address": new_address, "moved_on": moved_on}
    try:
        moved = date.fromisoformat(moved_on)
    except ValueError:
        return _relocation_page(
            screens,
            session,
            record,
            status=422,
            error="異動日は「2025-04-01」の形式です",
            form=form,
        )
    cmd = RecordRelocation(tuple(members), new_address.strip(), moved, d.clock.today())
    try:
        filed = review.file_change(
            d.uow(),
            session.actor,
            KINDS["relocation"],
            cmd,
            policy=policy_of(screens),
            holder=holder_of(request),
        )
    except (RuleViolation, StateConflictError) as exc:
        status = 409 if isinstance(exc, StateConflictError) else 422
        return _relocation_page(
            screens, session, record, status=status, error=exc.message_ja, form=form
        )
    if not isinstance(filed, ProvisionalChange):
        return screens.see_other("/review?msg=applied")
    return screens.see_other("/review?msg=entered")


def review_list(
    session: TerminalSession,
    screens: TerminalScreens,
    msg: Annotated[CleanStr, Query(max_length=16)] = "",
) -> HTMLResponse:
    d = screens.desk()
    policy = policy_of(screens)
    pending = review.list_changes(d.uow(), session.actor, ChangeStatus.PENDING, policy=policy)
    expired = review.list_changes(
        d.uow(), session.actor, ChangeStatus.EXPIRED, policy=policy, newest_first=True
    )
    return screens.page(
        "review.html",
        session,
        pending=pending,
        expired=expired[:EXPIRED_SHOWN],
        message=MESSAGES.get(msg),
        error=None,
    )


def approve(session: FormSession, screens: TerminalScreens, change: ChangeIdForm) -> Response:
    review.approve_change(screens.desk().uow(), session.actor, change, policy=policy_of(screens))
    return screens.see_other("/review?msg=approved")


def reject(
    session: FormSession,
    screens: TerminalScreens,
    change: ChangeIdForm,
    reason: Annotated[CleanStr, Form(max_length=500)] = "",
) -> Response:
    review.reject_change(screens.desk().uow(), session.actor, change, reason)
    return screens.see_other("/review?msg=rejected")


def withdraw(session: FormSession, screens: TerminalScreens, change: ChangeIdForm) -> Response:
    review.withdraw_change(screens.desk().uow(), session.actor, change)
    return screens.see_other("/review?msg=withdrawn")


ROUTES: Final = (
    Route("GET", "/relocation", relocation_form),
    Route("POST", "/relocation", relocate),
    Route("GET", "/review", review_list),
    Route("POST", "/review/approval", approve),
    Route("POST", "/review/rejection", reject),
    Route("POST", "/review/withdrawal", withdraw),
)
