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
from typing import Final

from juki.core.errors import DomainRuleError, NotFoundError, ValidationError
from juki.core.text import validate_name
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role
from juki.security.ports import OperatorUnitOfWork

OPERATOR_ID_RE: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_TOKEN_LEN: Final = 256  # a new token is 48 characters; anything far longer is not ours
# Every token starts with this: recognisable in a leaked file or log, and never with "-", which
# a command line would take for an option (`--operator-token -x…` failed for 1 token in 64).
TOKEN_PREFIX: Final = "juki_"  # noqa: S105 (a prefix, not a secret)


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


def create_operator(
    uow: OperatorUnitOfWork, by: Actor, operator_id: str, display_name: str, role: Role
) -> str:
    """Register an operator and return their new token; only its hash is kept, so show it once."""
    token = new_token()

    def run(uow: OperatorUnitOfWork) -> str:
        oid = validate_operator_id(operator_id)
        name = validate_name("display_name", display_name)
        if Role(role) is Role.SYSTEM:
            # The node acts as itself; a person holding its role could assign 個人番号 by hand.
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
        uow.operators.add(
            operator_id=oid,
            display_name=name,
            role=Role(role),
            token_sha256=token_sha256(token),
            created_at=uow.clock.now().isoformat(),
        )
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

    perform(uow, by, Permission.MANAGE_OPERATORS, _target(operator_id), run, describe=_deactivated)


def _deactivated(_: None) -> str:
    return "deactivated"


def authenticate(uow: OperatorUnitOfWork, token: str, terminal_id: str) -> Actor | None:
    """The actor a bearer token stands for, or None for an unknown or deactivated operator."""
    if not token or len(token) > MAX_TOKEN_LEN:
        return None
    with uow:
        found = uow.operators.find_active_by_token_hash(token_sha256(token))
    if found is None:
        return None
    return Actor(actor_id=found.operator_id, role=found.role, terminal_id=terminal_id)
