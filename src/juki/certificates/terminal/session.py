"""Who is at the terminal: the operator's session cookie, the session and its CSRF token.

Operators sign in with 照合情報 and their operator card (`signin`); the session's secret is
kept in an HttpOnly, SameSite=Strict cookie scoped to the terminal's mount (`/terminal`, or
`/registry/terminal` on a node), and only its hash in the database. Each request keeps the
session alive; one idle for `JUKI_IDLE_MINUTES` is ended (seed 001 第16条5) and the browser is
sent to sign in again, told why. Every form carries a CSRF token derived from the secret (so a
page of another session cannot post here), and the sign-in form its own double-submit token.
`terminal_operator` is both the dependency every signed-in screen takes and the marker the
route meta-test looks for.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, Form, Request
from fastapi.responses import Response

from juki.certificates.desk import CertificateDesk
from juki.core.errors import JukiError
from juki.security.actors import Actor
from juki.security.operators import token_sha256
from juki.security.permissions import Permission, Role, is_allowed
from juki.security.uow import SqlUnitOfWork
from juki.security.verification.login import SessionEnded, session_actor
from juki.security.verification.wiring import verification_of
from juki.web.text import CleanStr

BASE: Final = "/terminal"
SESSION_COOKIE: Final = "juki_session"
TERMINAL_COOKIE: Final = "juki_terminal"
MAX_SECRET_LEN: Final = 64
LOGIN_COOKIE: Final = "juki_login_csrf"
TERMINAL_RE: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
ROLE_JA: Final = {
    Role.COUNTER_CLERK: "窓口担当者",
    Role.REGISTRY_SUPERVISOR: "審査（管理者）",
    Role.OPERATIONS_MANAGER: "住基ネット運用管理者",
    Role.AUDITOR: "監査",
    Role.SYSTEM: "システム",
    Role.GENERAL_SUPERVISOR: "統括者",
    Role.PIN_MANAGER: "暗証番号管理者",
    Role.SECURITY_CHIEF: "セキュリティ統括責任者",
    Role.SECURITY_OFFICER: "セキュリティ責任者",
    Role.SYSTEM_ADMINISTRATOR: "システム管理者",
    Role.ACCESS_MANAGER: "アクセス管理責任者",
    Role.IDENTITY_INFO_MANAGER: "本人確認情報管理責任者",
    Role.INFO_ASSET_MANAGER: "情報資産管理責任者",
    Role.PREFECTURE_OPERATOR: "都道府県サーバ操作者",
    Role.NATIONAL_OPERATOR: "全国サーバ操作者",
    Role.KIOSK_RELAY: "証明書交付センター（コンビニ交付）",
}


class LoginRequired(Exception):
    """No live session: the handler sends the browser to the sign-in form (saying why when
    the session ended by idleness)."""

    def __init__(self, reason: str = "none") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Session:
    actor: Actor
    csrf: str

    @property
    def role_ja(self) -> str:
        return ROLE_JA.get(self.actor.role, self.actor.role.value)

    def can(self, permission: Permission) -> bool:
        return is_allowed(self.actor.role, permission)


def same_secret(posted: str, expected: str) -> bool:
    """A constant-time comparison of any two strings: `hmac.compare_digest` refuses `str`s with
    non-ASCII characters (a TypeError, a 500), so both are compared as their UTF-8 bytes."""
    return hmac.compare_digest(
        posted.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def csrf_for(secret: str) -> str:
    """Bound to the session's secret, so a page of another session cannot post here."""
    key = bytes.fromhex(token_sha256(secret))
    return hmac.new(key, b"juki-terminal-csrf", hashlib.sha256).hexdigest()


def desk_of(request: Request) -> CertificateDesk:
    """The terminal app's desk (set by `terminal_app`): its engine authenticates operators."""
    desk: Callable[[], CertificateDesk] = request.app.state.desk
    return desk()


def terminal_operator(request: Request) -> Session:
    """Marker and dependency: the operator signed in at this terminal, or a redirect to sign in."""
    secret = request.cookies.get(SESSION_COOKIE, "")
    if not secret or len(secret) > MAX_SECRET_LEN:
        raise LoginRequired()
    desk = desk_of(request)
    policy = verification_of(desk.settings).policy
    try:
        actor = session_actor(SqlUnitOfWork(desk.engine, clock=desk.clock), policy, secret)
    except SessionEnded as ended:
        raise LoginRequired(ended.reason) from None
    return Session(actor=actor, csrf=csrf_for(secret))


TerminalSession = Annotated[Session, Depends(terminal_operator)]


def session_key(request: Request) -> str | None:
    """The stored key of this request's session (the hash of its secret): an edit lock taken
    in it lives no longer than the session (logout, idleness, transfer)."""
    secret = request.cookies.get(SESSION_COOKIE, "")
    return token_sha256(secret) if secret and len(secret) <= MAX_SECRET_LEN else None


class CsrfRejected(JukiError):
    message_en = "the form's CSRF token does not match this session"
    message_ja = "画面の有効期限が切れました。もう一度操作してください"


def csrf_checked(
    session: TerminalSession, csrf: Annotated[CleanStr, Form(max_length=128)]
) -> Session:
    if not same_secret(csrf, session.csrf):
        raise CsrfRejected()
    return session


FormSession = Annotated[Session, Depends(csrf_checked)]


def mount_base(request: Request) -> str:
    """The path the terminal is reached under for this request: its ASGI root_path, which
    includes every mount above it (`/registry/terminal` on a municipality node)."""
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    """A terminal cookie: HttpOnly, SameSite=Strict, scoped to the terminal, for a work day."""
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=mount_base(request) or "/",
        max_age=12 * 3600,
    )


def delete_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path=mount_base(request) or "/")
