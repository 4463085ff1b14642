"""The counter's life-event entry, in Japanese: 出生, 死亡, 転入 (転出証明書 / 特例), 転出 (予定),
世帯分離・合併・世帯主変更, 氏名の変更 and the 職権修正 of 氏名・続柄.

A clerk opens a resident from the search (`/entry?record=…` lists what they may enter for
them; a 転入 may start with no one), fills in the screen, sees it again on a confirmation screen
and files it. Filing is the 転居 screen's path (`review.file_change` with the kind from
`review.kinds.KINDS`): every rule of the change is tried, the change is kept as a provisional
change (仮登録) holding its edit locks for this session, and only a supervisor other than the
clerk makes it take effect (本登録) from the 審査 list. When the municipality does not review
changes it is applied at once by the kind's own service. A role without the kind's permission
is refused — and the refusal logged — before the screen reads anything; a broken rule comes
back as the form, the message next to the field it names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from juki.certificates.terminal.entry_forms import (
    RELATIONSHIP_OPTIONS,
    Context,
    Posted,
    display,
    invalid,
    relationships_shown,
)
from juki.certificates.terminal.entry_screens import SCREENS, EntryScreen
from juki.certificates.terminal.review import holder_of, policy_of
from juki.certificates.terminal.screens import Route, Screens, TerminalScreens
from juki.certificates.terminal.session import (
    FormSession,
    Session,
    TerminalSession,
)
from juki.core.errors import NotFoundError, PermissionDeniedError, RuleViolation, StateConflictError
from juki.registry import corrections
from juki.registry import services as registry
from juki.registry.ports import SearchQuery
from juki.registry.review import services as review
from juki.registry.review.kinds import KINDS
from juki.registry.review.model import ProvisionalChange
from juki.security.actions import refuse
from juki.security.permissions import Permission
from juki.web.text import CleanStr

KindPath = Annotated[str, Path(max_length=40)]
RecordQuery = Annotated[CleanStr, Query(max_length=36)]
RecordForm = Annotated[CleanStr, Form(max_length=36)]
StepForm = Annotated[CleanStr, Form(max_length=16)]
# the 訂正の申出 a change is entered for (`corrections`): accepted when the change is filed
CorrectionQuery = Annotated[CleanStr, Query(max_length=43, pattern=r"^[A-Za-z0-9_-]*$")]
CorrectionForm = Annotated[CleanStr, Form(max_length=43, pattern=r"^[A-Za-z0-9_-]*$")]
DEFAULTS: Final = {"origin": "certificate", "abroad": "domestic", "card": "paper"}


async def posted_values(request: Request) -> dict[str, list[str]]:
    """Every value of the posted form under its name (the form FastAPI already read)."""
    form = await request.form()
    return {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}


PostedValues = Annotated[dict[str, list[str]], Depends(posted_values)]


def _screen(kind: str) -> EntryScreen:
    screen = SCREENS.get(kind)
    if screen is None:
        raise NotFoundError("entry screen", kind[:40])
    return screen


def _permitted(screens: Screens, session: Session, screen: EntryScreen, record: str) -> None:
    """The kind's permission, before anything is read; a refusal is logged (`denied`)."""
    permission = KINDS[screen.kind].permission
    if not session.can(permission):
        exc = PermissionDeniedError(session.actor.actor_id, permission.value)
        refuse(screens.desk().uow(), session.actor, permission, f"record:{record[:36]}", exc)


def _context(screens: Screens, session: Session, record: str, screen: EntryScreen) -> Context:
    d = screens.desk()
    subject = registry.get_record(d.uow(), session.actor, record) if record else None
    if subject is None and screen.needs_subject:
        raise NotFoundError("record", "住民を検索して選択してください")
    members: Sequence[Any] = ()
    if subject is not None:
        _household, members = registry.household_view(d.uow(), session.actor, subject.household_id)

    def household_of_code(code: str) -> str:
        query = SearchQuery(resident_code=code, limit=1)
        found = [r for r in registry.search_records(d.uow(), session.actor, query) if r.is_active]
        if not found:
            raise invalid("into_resident_code", "この住民票コードの住民は記録されていません")
        return found[0].household_id

    return Context(subject, members, d.clock.today(), household_of_code)


def _form_page(
    screens: Screens,
    session: Session,
    screen: EntryScreen,
    ctx: Context,
    form: Mapping[str, Sequence[str]],
    errors: Mapping[str, str] | None = None,
    status: int = 200,
    correction: str = "",
) -> HTMLResponse:
    return screens.page(
        "entry.html",
        session,
        status,
        correction=correction,
        screen=screen,
        subject=ctx.subject,
        members=ctx.members,
        form=form,
        errors=errors or {},
        today=ctx.today.isoformat(),
        reviewing=policy_of(screens).review,
        relationship_options=RELATIONSHIP_OPTIONS,
        member_options=[(m.record_id, m.full_name) for m in ctx.members],
    )


def entry_menu(
    session: TerminalSession, screens: TerminalScreens, record: RecordQuery = ""
) -> HTMLResponse:
    """What the operator may enter for the resident (or, with no one chosen, a 転入)."""
    d = screens.desk()
    subject = registry.get_record(d.uow(), session.actor, record) if record else None
    allowed = [
        s
        for s in SCREENS.values()
        if session.can(KINDS[s.kind].permission) and (subject is not None or not s.needs_subject)
    ]
    return screens.page(
        "entry_menu.html",
        session,
        subject=subject,
        allowed=allowed,
        relocation=subject is not None and session.can(Permission.RECORD_RELOCATION),
    )


def entry_form(
    request: Request,
    session: TerminalSession,
    screens: TerminalScreens,
    kind: KindPath,
    record: RecordQuery = "",
    correction: CorrectionQuery = "",
) -> HTMLResponse:
    """The empty form; a resident chosen is opened for editing (their lock taken for this
    session), and one another operator is editing is said so (409). `correction`: the
    訂正の申出 the change answers, carried to the filing."""
    screen = _screen(kind)
    _permitted(screens, session, screen, record)
    _open_correction(screens, session, correction)
    ctx = _context(screens, session, record, screen)
    errors: dict[str, str] = {}
    if ctx.subject is not None:
        try:
            review.open_for_editing(
                screens.desk().uow(),
                session.actor,
                ctx.subject.record_id,
                policy=policy_of(screens),
                holder=holder_of(request),
            )
        except StateConflictError as exc:
            errors[""] = exc.message_ja
    today = ctx.today.isoformat()
    form: dict[str, list[str]] = {k: [v] for k, v in DEFAULTS.items()}
    form |= {"notified_on": [today], "effective_on": [today]}
    if ctx.subject is not None:
        form["record_ids"] = [ctx.subject.record_id]
    status = 409 if errors else 200
    return _form_page(screens, session, screen, ctx, form, errors, status, correction)


def enter(
    request: Request,
    session: FormSession,
    screens: TerminalScreens,
    kind: KindPath,
    values: PostedValues,
    record: RecordForm = "",
    step: StepForm = "confirm",
    correction: CorrectionForm = "",
) -> Response:
    """確認 (`step=confirm`), 修正 (`edit`: the form again) or 仮登録 (`file`)."""
    screen = _screen(kind)
    _permitted(screens, session, screen, record)
    ctx = _context(screens, session, record, screen)
    posted = Posted(values, screen.fields)
    form = posted.echo(screen.fields, ctx.members)
    if step == "edit":
        return _form_page(screens, session, screen, ctx, form, correction=correction)
    try:
        cmd = screen.build(posted, ctx)
        if step != "file":
            return _confirm_page(screens, session, screen, ctx, form, correction)
        _open_correction(screens, session, correction)
        return _file(request, screens, session, screen, cmd, correction)
    except (RuleViolation, StateConflictError) as exc:
        status = 409 if isinstance(exc, StateConflictError) else 422
        where = screen.field_of(getattr(exc, "field", ""))
        message = getattr(exc, "message_ja", "この入力は受け付けられませんでした")
        errors = {where: message}
        return _form_page(screens, session, screen, ctx, form, errors, status, correction)


def _confirm_page(
    screens: Screens,
    session: Session,
    screen: EntryScreen,
    ctx: Context,
    form: Mapping[str, Sequence[str]],
    correction: str = "",
) -> HTMLResponse:
    rows = [
        (
            f.label,
            relationships_shown(form, ctx.members)
            if f.kind == "relationships"
            else display(f, form.get(f.name, ()), ctx.members),
        )
        for f in screen.fields
    ]
    return screens.page(
        "entry_confirm.html",
        session,
        correction=correction,
        screen=screen,
        subject=ctx.subject,
        rows=rows,
        carried=[(k, v) for k, vs in form.items() for v in vs],
        reviewing=policy_of(screens).review,
    )


def _open_correction(screens: Screens, session: Session, correction: str) -> None:
    """The 訂正の申出 a change is entered for must exist and be undecided (checked before the
    form and before filing, so a change is not filed for a request decided meanwhile)."""
    if correction:
        found = corrections.get_request(screens.desk().uow(), session.actor, correction)
        if found.status != corrections.OPEN:
            raise StateConflictError(
                "already_decided",
                "this correction request was already decided",
                "この訂正の申出は処理済みです",
            )


def _file(
    request: Request,
    screens: Screens,
    session: Session,
    screen: EntryScreen,
    cmd: Any,
    correction: str = "",
) -> Response:
    d = screens.desk()
    filed = review.file_change(
        d.uow(),
        session.actor,
        KINDS[screen.kind],
        cmd,
        policy=policy_of(screens),
        holder=holder_of(request),
    )
    change_id = filed.change_id if isinstance(filed, ProvisionalChange) else None
    if correction:
        # the 訂正の申出 answered by this change (its own action: the change stays filed if
        # the request was decided meanwhile, and the page says so)
        corrections.accept_request(d.uow(), session.actor, correction, change_id)
    return screens.see_other("/review?msg=" + ("entered" if change_id else "recorded"))


ROUTES: Final = (
    Route("GET", "/entry", entry_menu),
    Route("GET", "/entry/{kind}", entry_form),
    Route("POST", "/entry/{kind}", enter),
)
