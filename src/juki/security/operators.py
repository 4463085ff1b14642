"""Operators (操作者) and their bearer tokens.

A stand-in for operator verification: a later issue replaces the token with a WebAuthn
credential (照合情報), and everything downstream only sees the `Actor` that `authenticate`
returns. Managing operators is an action like any other, so it goes through `perform`: it is
authorised by `Permission.MANAGE_OPERATORS` and written to the oplog in the same transaction,
and a refused call is logged too.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Final, Literal

from juki.core.errors import DomainRuleError, JukiError, NotFoundError, ValidationError
from juki.core.ports import OpLogEntry
from juki.core.text import validate_name
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import NODE_ROLES, Permission, Role
from juki.security.ports import StoredOperator
from juki.security.verification.events import OperatorEvent, note
from juki.security.verification.ports import VerificationUnitOfWork as OperatorUnitOfWork

OPERATOR_ID_RE: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_TOKEN_LEN: Final = 256  # a new token is 48 characters; anything far longer is not ours
# Every token starts with this: recognisable in a leaked file or log, and never with "-", which
# a command line would take for an option (`--operator-token -x…` failed for 1 token in 64).
TOKEN_PREFIX: Final = "juki_"  # noqa: S105 (a prefix, not a secret)
# `Settings.operator_token_days` by default (a test holds them equal; settings import SQLAlchemy).
DEFAULT_TOKEN_VALIDITY: Final = timedelta(days=90)
MAX_TOKEN_VALIDITY: Final = timedelta(days=366)
MAX_PURPOSE_LEN: Final = 200

RefusalReason = Literal["unknown", "inactive", "locked", "expired", "revoked"]
# The oplog action of a refused token (a failed sign-in from the command line or the API: the
# report counts it with the terminal's failed logins).
TOKEN_LOGIN: Final = "token_login"  # noqa: S105 (an action name, not a secret)


class TokenRefused(JukiError):
    """A bearer token that stands for no one now, and why: the 401 says it."""

    _MESSAGES: Final = {
        "unknown": (
            "the bearer token is not valid",
            "操作者の認証が必要です。再度ログインしてください",
        ),
        "inactive": (
            "the operator is suspended or withdrawn",
            "この照合IDは停止または廃止されています",
        ),
        "locked": (
            "the operator is locked out after repeated failed sign-ins; ask for the lockout "
            "to be cleared",
            "認証の失敗が続いたためロックされています。"
            "アクセス管理責任者または暗証番号管理者に解除を依頼してください",
        ),
        "expired": (
            "the bearer token has expired; ask for a new one",
            "操作者トークンの有効期限が切れています。新しいトークンの発行を受けてください",
        ),
        "revoked": (
            "the bearer token has been revoked; ask for a new one",
            "操作者トークンは失効しています。新しいトークンの発行を受けてください",
        ),
    }

    def __init__(self, reason: RefusalReason) -> None:
        self.reason: RefusalReason = reason
        self.message_en, self.message_ja = self._MESSAGES[reason]
        super().__init__(self.message_en)


def new_token() -> str:
    """A bearer token: 256 random bits, URL-safe, behind `TOKEN_PREFIX`."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def validate_operator_id(operator_id: str) -> str:
    """照合ID: a short ASCII id, because it is written into every oplog entry and header."""
    if not OPERATOR_ID_RE.fullmatch(operator_id):
        raise ValidationError(
            "operator_id",
            "format",
            "operator_id must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', '-'",
            "照合IDは半角英数字と「_」「.」「-」の1〜64文字で入力してください",
        )
    return operator_id


def _target(operator_id: str) -> str:
    return f"operator:{operator_id[:64]}"


def validate_validity(valid_for: timedelta) -> timedelta:
    """A token lives at least a day and at most a year: a token is a stand-in for the operator's
    verification, so it must end, and one that outlives a year is a password by another name."""
    if not timedelta(days=1) <= valid_for <= MAX_TOKEN_VALIDITY:
        raise ValidationError(
            "days",
            "token_validity",
            "a token is valid for 1 to 366 days",
            "トークンの有効期間は1日以上366日以内で指定してください",
        )
    return valid_for


def validate_purpose(purpose: str) -> str:
    """A token is issued for a stated purpose (what the command line will be used for)."""
    text = purpose.strip()
    if not text or len(text) > MAX_PURPOSE_LEN:
        raise ValidationError(
            "purpose",
            "purpose",
            f"state the token's purpose in 1 to {MAX_PURPOSE_LEN} characters",
            f"トークンの利用目的を1〜{MAX_PURPOSE_LEN}文字で入力してください",
        )
    return text


def check_new_operator(
    uow: OperatorUnitOfWork, operator_id: str, display_name: str, role: Role
) -> tuple[str, str]:
    """The validated 照合ID and name of an operator to register; refused when taken."""
    oid = validate_operator_id(operator_id)
    name = validate_name("display_name", display_name)
    if Role(role) in NODE_ROLES:
        # The node acts as itself (and the kiosk relay is a node too); a person holding its
        # role could assign 個人番号 by hand, or answer for any card holder.
        raise DomainRuleError(
            "role",
            "system_role",
            "the system role belongs to the node, not to an operator",
            "システム権限は操作者に付与できません",
        )
    if uow.operators.find(oid) is not None:
        raise DomainRuleError(
            "operator_id",
            "duplicate",
            f"operator {oid} already exists",
            f"照合ID「{oid}」は既に登録されています",
        )
    return oid, name


def create_operator(
    uow: OperatorUnitOfWork,
    by: Actor,
    operator_id: str,
    display_name: str,
    role: Role,
    valid_for: timedelta = DEFAULT_TOKEN_VALIDITY,
    purpose: str = "API",
) -> str:
    """Register an operator together with a token for `purpose`, and return the token (only its
    hash is kept, so show it once). For services and API clients that act as a named operator;
    `juki operator add` registers without a token (`verification.ledger.register_operator`)."""
    token = new_token()

    def run(uow: OperatorUnitOfWork) -> str:
        validate_validity(valid_for)
        stated = validate_purpose(purpose)
        oid, name = check_new_operator(uow, operator_id, display_name, role)
        now = uow.clock.now()
        uow.operators.add(
            operator_id=oid,
            display_name=name,
            role=Role(role),
            token_sha256=token_sha256(token),
            created_at=now.isoformat(),
            token_expires_at=(now + valid_for).isoformat(),
            token_purpose=stated,
        )
        note(uow, by, oid, OperatorEvent.REGISTERED, "registered", f"role {Role(role).value}")
        note(uow, by, oid, OperatorEvent.TOKEN_ISSUED, stated, f"{valid_for.days} days")
        return token

    return perform(
        uow,
        by,
        Permission.MANAGE_OPERATORS,
        _target(operator_id),
        run,
        describe=lambda _: f"created with role {Role(role).value}",
    )


def deactivate_operator(uow: OperatorUnitOfWork, by: Actor, operator_id: str) -> None:
    """Stop an operator's token from working; the row stays so the oplog keeps its meaning."""

    def run(uow: OperatorUnitOfWork) -> None:
        current = uow.operators.find(operator_id)
        if current is None:
            raise NotFoundError("operator", operator_id[:64])
        if current.operator_id == by.actor_id:
            raise DomainRuleError(
                "operator_id",
                "self_deactivation",
                "an operator cannot deactivate themselves",
                "自分自身の照合IDは無効にできません",
            )
        if not current.active:
            raise DomainRuleError(
                "operator_id",
                "already_inactive",
                f"operator {operator_id} is already inactive",
                f"照合ID「{operator_id}」は既に無効です",
            )
        uow.operators.set_active(operator_id, False)
        note(uow, by, current.operator_id, OperatorEvent.SUSPENDED, "deactivated")

    perform(uow, by, Permission.MANAGE_OPERATORS, _target(operator_id), run, describe=_deactivated)


def _deactivated(_: None) -> str:
    return "deactivated"


def issue_token(
    uow: OperatorUnitOfWork,
    by: Actor,
    operator_id: str,
    valid_for: timedelta = DEFAULT_TOKEN_VALIDITY,
    purpose: str = "API",
) -> str:
    """A new token for an operator, for a stated purpose, replacing (and so ending) the old
    one; shown once, kept as its hash with its purpose and expiry."""
    token = new_token()

    def run(uow: OperatorUnitOfWork) -> str:
        validate_validity(valid_for)
        stated = validate_purpose(purpose)
        current = _active_operator(uow, operator_id)
        expires = uow.clock.now() + valid_for
        uow.operators.set_token(
            current.operator_id, token_sha256(token), expires.isoformat(), stated
        )
        note(
            uow,
            by,
            current.operator_id,
            OperatorEvent.TOKEN_ISSUED,
            stated,
            f"valid until {expires.isoformat()}",
        )
        return token

    return perform(
        uow,
        by,
        Permission.MANAGE_OPERATORS,
        _target(operator_id),
        run,
        describe=lambda _: f"new token for {purpose[:100]!r}, valid for {valid_for.days} days",
    )


def revoke_token(uow: OperatorUnitOfWork, by: Actor, operator_id: str) -> None:
    """失効: the operator's token stops working at once (lost, leaked, or the person left the
    desk); the operator stays, and `issue_token` gives them a new one."""

    def run(uow: OperatorUnitOfWork) -> None:
        current = _active_operator(uow, operator_id)
        if current.token_revoked_at is not None:
            raise DomainRuleError(
                "operator_id",
                "already_revoked",
                f"the token of operator {operator_id} is already revoked",
                f"照合ID「{operator_id}」のトークンは既に失効しています",
            )
        uow.operators.revoke_token(current.operator_id, uow.clock.now().isoformat())
        note(uow, by, current.operator_id, OperatorEvent.TOKEN_REVOKED, "revoked")

    perform(uow, by, Permission.MANAGE_OPERATORS, _target(operator_id), run, describe=_revoked)


def _revoked(_: None) -> str:
    return "token revoked"


def _active_operator(uow: OperatorUnitOfWork, operator_id: str) -> StoredOperator:
    current = uow.operators.find(operator_id)
    if current is None:
        raise NotFoundError("operator", operator_id[:64])
    if not current.active:
        raise DomainRuleError(
            "operator_id",
            "inactive",
            f"operator {operator_id} is inactive",
            f"照合ID「{operator_id}」は無効です",
        )
    return current


def refusal(found: StoredOperator | None, now: datetime) -> RefusalReason | None:
    """Why a token's operator may not act now, or None when they may."""
    if found is None:
        return "unknown"
    if not found.active or found.status != "active":
        return "inactive"
    if found.locked_at is not None:
        return "locked"
    if found.token_revoked_at is not None:
        return "revoked"
    if not found.token_expires_at or datetime.fromisoformat(found.token_expires_at) <= now:
        return "expired"
    return None


def check_token(uow: OperatorUnitOfWork, token: str, terminal_id: str) -> Actor:
    """The actor a bearer token stands for; `TokenRefused` with the reason when it stands for
    no one now (unknown; suspended, withdrawn or locked-out operator; expired or revoked
    token). A refused token of a known operator is written to the oplog (`token_login`,
    `denied`, the reason), as a refused sign-in at the terminal is."""
    if not token or len(token) > MAX_TOKEN_LEN:
        raise TokenRefused("unknown")
    with uow:
        found = uow.operators.find_by_token_hash(token_sha256(token))
        now = uow.clock.now()
        reason = refusal(found, now)
        if reason is not None and found is not None:
            uow.oplog.append(_token_refused(found, terminal_id, now, reason))
            uow.commit()
    if reason is not None or found is None:
        raise TokenRefused(reason or "unknown")
    return Actor(actor_id=found.operator_id, role=found.role, terminal_id=terminal_id)


def _token_refused(
    found: StoredOperator, terminal_id: str, now: datetime, reason: RefusalReason
) -> OpLogEntry:
    return OpLogEntry(
        at=now,
        actor_id=found.operator_id,
        role=found.role.value,
        terminal_id=terminal_id[:64],
        action=TOKEN_LOGIN,
        target=_target(found.operator_id),
        outcome="denied",
        detail=f"token refused: {reason}",
    )


def authenticate(uow: OperatorUnitOfWork, token: str, terminal_id: str) -> Actor | None:
    """The actor a bearer token stands for, or None when `check_token` refuses it."""
    try:
        return check_token(uow, token, terminal_id)
    except TokenRefused:
        return None
