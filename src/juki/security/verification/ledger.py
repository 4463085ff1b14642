"""The operator's life as the ledger records it (照合ID及び操作者IDの管理簿, seed 002 第13条):
registration, enrolment codes, operator cards, transfer, suspension, reinstatement, withdrawal,
the lockout's clearing, and terminals. Each is an action through `perform`: authorised by the
one table, written to the ledger and the oplog in the transaction of the change.

Seed 001 第16条: when an operator is transferred the card is taken back (回収) and the PIN
manager (暗証番号管理者) is asked to set or cancel it; here a transfer withdraws the card and
the 照合情報 (bound to the old 操作者ID), ends the operator's sessions and revokes the token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from juki.core.errors import DomainRuleError, NotFoundError, ValidationError
from juki.core.identifiers import LgCode
from juki.core.text import validate_name
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.operators import check_new_operator, validate_operator_id
from juki.security.permissions import NODE_ROLES, Permission, Role
from juki.security.ports import StoredOperator
from juki.security.verification.events import OperatorEvent, note
from juki.security.verification.ports import (
    LedgerEntry,
    StoredTerminal,
    VerificationUnitOfWork,
)
from juki.security.verification.rules import (
    ENROLMENT_TTL,
    new_secret,
    sha256_hex,
    validate_reason,
)

TERMINAL_ID_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-"
)
CARD_LABEL_MAX: Final = 32  # a PKCS#11 token label is 32 bytes


def _target(operator_id: str) -> str:
    return f"operator:{operator_id[:64]}"


def _operator(uow: VerificationUnitOfWork, operator_id: str) -> StoredOperator:
    found = uow.operators.find(operator_id)
    if found is None:
        raise NotFoundError("operator", operator_id[:64])
    return found


def _not_withdrawn(uow: VerificationUnitOfWork, operator_id: str) -> StoredOperator:
    found = _operator(uow, operator_id)
    if found.status == "withdrawn":
        raise DomainRuleError(
            "operator_id",
            "withdrawn",
            f"operator {operator_id} has been withdrawn",
            f"照合ID「{operator_id}」は廃止されています",
        )
    return found


def _not_self(by: Actor, operator_id: str) -> None:
    if by.actor_id == operator_id:
        raise DomainRuleError(
            "operator_id",
            "self",
            "an operator cannot change their own standing",
            "自分自身の照合IDは変更できません",
        )


def _new_code(uow: VerificationUnitOfWork, operator_id: str) -> str:
    code = new_secret()
    expires = uow.clock.now() + ENROLMENT_TTL
    uow.operators.set_enrolment(operator_id, sha256_hex(code), expires.isoformat())
    return code


def _end_sessions(uow: VerificationUnitOfWork, operator_id: str, reason: str) -> int:
    now = uow.clock.now().isoformat()
    live = uow.verification.live_sessions(operator_id)
    for key, _ in live:
        uow.verification.end_session(key, now, reason)
    return len(live)


def register_operator(
    uow: VerificationUnitOfWork, by: Actor, operator_id: str, display_name: str, role: Role
) -> str:
    """Enter an operator (照合ID, name, 操作者ID) and return the one-time code with which they
    enrol their 照合情報 at a terminal within seven days; only its hash is kept."""

    def run(uow: VerificationUnitOfWork) -> str:
        oid, name = check_new_operator(uow, operator_id, display_name, role)
        uow.operators.add(
            operator_id=oid,
            display_name=name,
            role=Role(role),
            created_at=uow.clock.now().isoformat(),
        )
        note(uow, by, oid, OperatorEvent.REGISTERED, "registered", f"role {Role(role).value}")
        return _new_code(uow, oid)

    return perform(
        uow,
        by,
        Permission.MANAGE_OPERATORS,
        _target(operator_id),
        run,
        describe=lambda _: f"registered with role {Role(role).value}",
    )


def new_enrolment_code(
    uow: VerificationUnitOfWork, by: Actor, operator_id: str, reason: str
) -> str:
    """A fresh enrolment code (a new device, after a transfer); the old code stops working."""

    def run(uow: VerificationUnitOfWork) -> str:
        why = validate_reason(reason)
        current = _not_withdrawn(uow, operator_id)
        note(uow, by, current.operator_id, OperatorEvent.ENROLMENT_CODE, why)
        return _new_code(uow, current.operator_id)

    return perform(
        uow,
        by,
        Permission.MANAGE_OPERATORS,
        _target(operator_id),
        run,
        describe=lambda _: "enrolment code issued",
    )


def transfer_operator(
    uow: VerificationUnitOfWork, by: Actor, operator_id: str, role: Role, reason: str
) -> str:
    """異動: a new 操作者ID. The card is withdrawn (seed 001 第16条2), the 照合情報 bound to the
    old role too, sessions end and the token is revoked; returns a new enrolment code."""

    def run(uow: VerificationUnitOfWork) -> str:
        why = validate_reason(reason)
        _not_self(by, operator_id)
        current = _not_withdrawn(uow, operator_id)
        if Role(role) in NODE_ROLES or Role(role) is current.role:
            raise DomainRuleError(
                "role",
                "transfer",
                "transfer to another operator role",
                "異動先の操作者IDを指定してください",
            )
        oid = current.operator_id
        now = uow.clock.now().isoformat()
        uow.operators.set_role(oid, Role(role))
        cards = uow.verification.withdraw_cards(oid, now)
        creds = uow.verification.withdraw_credentials(oid, now)
        _end_sessions(uow, oid, "transferred")
        if current.token_revoked_at is None:
            uow.operators.revoke_token(oid, now)
        note(
            uow,
            by,
            oid,
            OperatorEvent.TRANSFERRED,
            why,
            f"{current.role.value} -> {Role(role).value}; cards withdrawn {cards}, "
            f"credentials withdrawn {creds}",
        )
        return _new_code(uow, oid)

    return perform(
        uow,
        by,
        Permission.MANAGE_OPERATORS,
        _target(operator_id),
        run,
        describe=lambda _: f"transferred to {Role(role).value}",
    )


def _set_standing(
    uow: VerificationUnitOfWork,
    by: Actor,
    operator_id: str,
    reason: str,
    event: OperatorEvent,
) -> None:
    def run(uow: VerificationUnitOfWork) -> None:
        why = validate_reason(reason)
        _not_self(by, operator_id)
        current = _not_withdrawn(uow, operator_id)
        oid = current.operator_id
        now = uow.clock.now().isoformat()
        wanted = {
            OperatorEvent.SUSPENDED: "suspended",
            OperatorEvent.REINSTATED: "active",
            OperatorEvent.WITHDRAWN: "withdrawn",
        }[event]
        if current.status == wanted:
            raise DomainRuleError(
                "operator_id",
                "unchanged",
                f"operator {oid} is already {wanted}",
                f"照合ID「{oid}」は既にその状態です",
            )
        uow.operators.set_status(oid, wanted)
        detail = ""
        if event is not OperatorEvent.REINSTATED:
            ended = _end_sessions(uow, oid, event.value)
            detail = f"sessions ended {ended}"
        if event is OperatorEvent.WITHDRAWN:
            cards = uow.verification.withdraw_cards(oid, now)
            creds = uow.verification.withdraw_credentials(oid, now)
            if current.token_revoked_at is None:
                uow.operators.revoke_token(oid, now)
            detail += f"; cards withdrawn {cards}, credentials withdrawn {creds}"
        note(uow, by, oid, event, why, detail)

    perform(
        uow,
        by,
        Permission.MANAGE_OPERATORS,
        _target(operator_id),
        run,
        describe=lambda _: event.value,
    )


def suspend_operator(uow: VerificationUnitOfWork, by: Actor, operator_id: str, reason: str) -> None:
    """停止: the operator can neither sign in nor use a token until reinstated."""
    _set_standing(uow, by, operator_id, reason, OperatorEvent.SUSPENDED)


def reinstate_operator(
    uow: VerificationUnitOfWork, by: Actor, operator_id: str, reason: str
) -> None:
    _set_standing(uow, by, operator_id, reason, OperatorEvent.REINSTATED)


def withdraw_operator(
    uow: VerificationUnitOfWork, by: Actor, operator_id: str, reason: str
) -> None:
    """廃止: for good; card, 照合情報 and token withdrawn. The row stays for the oplog."""
    _set_standing(uow, by, operator_id, reason, OperatorEvent.WITHDRAWN)


def _card_key(public_key_pem: str) -> str:
    try:
        key = load_pem_public_key(public_key_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        key = None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise ValidationError(
            "public_key",
            "format",
            "the card's public key must be an RSA or EC key in PEM",
            "操作識別カードの公開鍵が正しくありません",
        )
    return public_key_pem


def _card_label(label: str) -> str:
    if not 1 <= len(label) <= CARD_LABEL_MAX or not label.isascii() or not label.isprintable():
        raise ValidationError(
            "card_label",
            "format",
            f"a card label is 1 to {CARD_LABEL_MAX} printable ASCII",
            f"カードのラベルは半角1〜{CARD_LABEL_MAX}文字で入力してください",
        )
    return label


def issue_card(
    uow: VerificationUnitOfWork,
    by: Actor,
    operator_id: str,
    card_label: str,
    public_key_pem: str,
    reason: str = "交付",
) -> int:
    """操作識別カードの交付: the card's public key is registered; a card issued before is
    withdrawn (one card per operator). The key pair was made on the card
    (`cards.Pkcs11Reader.make_key`); the private key never leaves it."""

    def run(uow: VerificationUnitOfWork) -> int:
        why = validate_reason(reason)
        label, pem = _card_label(card_label), _card_key(public_key_pem)
        current = _not_withdrawn(uow, operator_id)
        now = uow.clock.now().isoformat()
        earlier = uow.verification.withdraw_cards(current.operator_id, now)
        card_id = uow.verification.add_card(
            operator_id=current.operator_id,
            card_label=label,
            public_key_pem=pem,
            at=now,
            by=by.actor_id,
        )
        note(
            uow,
            by,
            current.operator_id,
            OperatorEvent.CARD_ISSUED,
            why,
            f"card {card_id} label {label}; earlier cards withdrawn {earlier}",
        )
        return card_id

    return perform(
        uow,
        by,
        Permission.ISSUE_OPERATOR_CARD,
        _target(operator_id),
        run,
        describe=lambda card_id: f"card {card_id} issued",
    )


def withdraw_card(uow: VerificationUnitOfWork, by: Actor, operator_id: str, reason: str) -> None:
    """操作識別カードの回収 (lost, broken, returned)."""

    def run(uow: VerificationUnitOfWork) -> None:
        why = validate_reason(reason)
        current = _operator(uow, operator_id)
        done = uow.verification.withdraw_cards(current.operator_id, uow.clock.now().isoformat())
        if not done:
            raise DomainRuleError(
                "operator_id",
                "no_card",
                f"operator {operator_id} holds no card",
                "操作識別カードは交付されていません",
            )
        note(uow, by, current.operator_id, OperatorEvent.CARD_WITHDRAWN, why)

    perform(
        uow,
        by,
        Permission.ISSUE_OPERATOR_CARD,
        _target(operator_id),
        run,
        describe=lambda _: "card withdrawn",
    )


def clear_lockout(uow: VerificationUnitOfWork, by: Actor, operator_id: str, reason: str) -> None:
    """Let a locked-out operator try again (after the administrator has checked why)."""

    def run(uow: VerificationUnitOfWork) -> None:
        why = validate_reason(reason)
        current = _operator(uow, operator_id)
        if current.locked_at is None:
            raise DomainRuleError(
                "operator_id",
                "not_locked",
                f"operator {operator_id} is not locked out",
                f"照合ID「{operator_id}」はロックされていません",
            )
        uow.operators.set_lock(current.operator_id, None)
        note(
            uow,
            by,
            current.operator_id,
            OperatorEvent.LOCKOUT_CLEARED,
            why,
            f"locked since {current.locked_at}",
        )

    perform(
        uow,
        by,
        Permission.CLEAR_LOCKOUT,
        _target(operator_id),
        run,
        describe=lambda _: "lockout cleared",
    )


def validate_terminal_id(terminal_id: str) -> str:
    if not 1 <= len(terminal_id) <= 64 or not set(terminal_id) <= TERMINAL_ID_CHARS:
        raise ValidationError(
            "terminal_id",
            "format",
            "a terminal id is 1-64 of A-Z a-z 0-9 _ . : -",
            "端末IDは半角英数字と「_ . : -」の1〜64文字で入力してください",
        )
    return terminal_id


def register_terminal(
    uow: VerificationUnitOfWork, by: Actor, terminal_id: str, lg_code: str, description: str
) -> None:
    """統合端末: known by its id and bound to one municipality; no other terminal signs in."""

    def run(uow: VerificationUnitOfWork) -> None:
        tid = validate_terminal_id(terminal_id)
        code = LgCode.parse(lg_code).value
        text = validate_name("description", description)
        if uow.verification.terminal(tid) is not None:
            raise DomainRuleError(
                "terminal_id",
                "duplicate",
                f"terminal {tid} is already registered",
                f"端末ID「{tid}」は既に登録されています",
            )
        uow.verification.add_terminal(
            StoredTerminal(tid, code, text, uow.clock.now().isoformat(), by.actor_id)
        )

    perform(
        uow,
        by,
        Permission.REGISTER_TERMINAL,
        f"terminal:{terminal_id[:64]}",
        run,
        describe=lambda _: f"registered for {lg_code[:6]}",
    )


def operator_ledger(
    uow: VerificationUnitOfWork, by: Actor, operator_id: str | None = None
) -> Sequence[LedgerEntry]:
    """The ledger, of one operator or of all; reading it is logged too."""
    if operator_id is not None:
        validate_operator_id(operator_id)

    def run(uow: VerificationUnitOfWork) -> Sequence[LedgerEntry]:
        return list(uow.verification.ledger(operator_id))

    target = _target(operator_id) if operator_id is not None else "operator:*"
    return perform(
        uow,
        by,
        Permission.VIEW_OPERATOR_LEDGER,
        target,
        run,
        describe=lambda rows: f"{len(rows)} entries",
    )
