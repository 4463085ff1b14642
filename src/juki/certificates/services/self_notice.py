"""本人通知: a resident's registration and its withdrawal, the notices recorded when a third
party obtains a registered resident's certificate, and the clerk's list of notices to post.

Registration and withdrawal are actions of their own (authorised, logged, committed by
`perform`); recording the notices is part of the issuing transaction
(`juki.certificates.services.third_party`), so a certificate issued to a third party and the
notices it owes stand or fall together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from juki.certificates.ports import SelfNoticeUnitOfWork
from juki.certificates.self_notice import (
    IssuedToThirdParty,
    NoticeSubject,
    SelfNotice,
    SelfNoticeRegistration,
    notices_due,
)
from juki.core.errors import DomainRuleError, ValidationError
from juki.core.identifiers import ResidentCode
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission

MAX_LIST: Final = 1000


def _code(resident_code: str) -> str:
    return str(ResidentCode.parse(resident_code))


def register_self_notice(
    uow: SelfNoticeUnitOfWork, by: Actor, resident_code: str
) -> SelfNoticeRegistration:
    """登録: the resident, or a person whose 本籍 is here (identity checked at the counter), asks
    to be told; once at a time."""

    def run(u: SelfNoticeUnitOfWork) -> SelfNoticeRegistration:
        code = _code(resident_code)
        records = u.registry.find_by_resident_code(code)
        # a resident, or a person whose 本籍 is here (their 戸籍の附票の写し is issued here)
        if not any(r.is_active for r in records) and not u.self_notices.on_fuhyo(code):
            raise DomainRuleError(
                "resident_code",
                "not_resident",
                "only a person with a current record or a 附票 here may register for self notice",
                "本人通知の登録は、この市区町村の住民票がある方又は本籍がある方に限ります",
            )
        if code in u.self_notices.live_registrations([code]):
            raise DomainRuleError(
                "resident_code",
                "already_registered",
                "this person is already registered for self notice",
                "この方は既に本人通知に登録されています",
            )
        registration = SelfNoticeRegistration(
            registration_id=u.ids.new_id(),
            resident_code=code,
            registered_at=u.clock.now().isoformat(),
            registered_by=by.actor_id,
        )
        u.self_notices.add_registration(registration)
        return registration

    return perform(
        uow,
        by,
        Permission.REGISTER_SELF_NOTICE,
        f"resident_code:{resident_code[:11]}",
        run,
        describe=lambda r: f"self notice registration {r.registration_id}",
    )


def withdraw_self_notice(
    uow: SelfNoticeUnitOfWork, by: Actor, resident_code: str
) -> SelfNoticeRegistration:
    """廃止: the registration ends (kept, with who ended it and when); notices already due are
    still sent."""

    def run(u: SelfNoticeUnitOfWork) -> SelfNoticeRegistration:
        code = _code(resident_code)
        live = u.self_notices.live_registrations([code]).get(code)
        if live is None:
            raise DomainRuleError(
                "resident_code",
                "not_registered",
                "this person is not registered for self notice",
                "この方は本人通知に登録されていません",
            )
        now = u.clock.now().isoformat()
        u.self_notices.end_registration(live.registration_id, now, by.actor_id)
        return SelfNoticeRegistration(
            registration_id=live.registration_id,
            resident_code=code,
            registered_at=live.registered_at,
            registered_by=live.registered_by,
            withdrawn_at=now,
            withdrawn_by=by.actor_id,
        )

    return perform(
        uow,
        by,
        Permission.WITHDRAW_SELF_NOTICE,
        f"resident_code:{resident_code[:11]}",
        run,
        describe=lambda r: f"self notice registration {r.registration_id} withdrawn",
    )


def record_self_notices(
    uow: SelfNoticeUnitOfWork, issued: IssuedToThirdParty, shown: Sequence[NoticeSubject]
) -> list[SelfNotice]:
    """In the issuing transaction: the notices a third party's certificate owes its registered
    persons."""
    live = uow.self_notices.live_registrations([p.resident_code for p in shown])
    notices = notices_due(
        issued, shown, live, new_id=uow.ids.new_id, now=uow.clock.now().isoformat()
    )
    for notice in notices:
        uow.self_notices.add_notice(notice)
    return notices


def self_notices_to_send(
    uow: SelfNoticeUnitOfWork, by: Actor, *, pending: bool = True, limit: int = 200
) -> Sequence[SelfNotice]:
    """The notices to print and post (oldest first), or all of them with `pending=False`."""
    return perform(
        uow,
        by,
        Permission.SEND_SELF_NOTICES,
        "self_notices:pending" if pending else "self_notices:all",
        lambda u: u.self_notices.notices(pending=pending, limit=max(1, min(limit, MAX_LIST))),
        describe=lambda rows: f"{len(rows)} notice(s)",
    )


def mark_self_notice_sent(uow: SelfNoticeUnitOfWork, by: Actor, notice_id: str) -> SelfNotice:
    """The notice went in the post; marked once."""

    def run(u: SelfNoticeUnitOfWork) -> SelfNotice:
        if not notice_id or len(notice_id) > 36:
            raise ValidationError(
                "notice_id", "format", "not a notice id", "通知番号の形式が正しくありません"
            )
        notice = u.self_notices.get_notice(notice_id)
        if notice.sent_at is not None:
            raise DomainRuleError(
                "notice_id",
                "already_sent",
                "this notice is already marked sent",
                "この通知は既に送付済みです",
            )
        now = u.clock.now().isoformat()
        u.self_notices.mark_sent(notice_id, now, by.actor_id)
        return u.self_notices.get_notice(notice_id)

    return perform(
        uow,
        by,
        Permission.SEND_SELF_NOTICES,
        f"self_notice:{notice_id[:36]}",
        run,
        describe=lambda n: f"sent to resident {n.resident_code}",
    )
