"""The operator ledger's events (照合ID及び操作者IDの管理簿, seed 002 第13条(4)) and the one way
to write a line of it: in the transaction of the change it records, beside its oplog entry."""

from __future__ import annotations

from enum import StrEnum

from juki.security.actors import Actor
from juki.security.verification.ports import LedgerEntry, VerificationUnitOfWork


class OperatorEvent(StrEnum):
    REGISTERED = "registered"  # 照合ID and 操作者ID entered
    ENROLMENT_CODE = "enrolment_code"  # a new code to enrol 照合情報 was handed over
    VERIFIER_REGISTERED = "verifier_registered"  # 照合情報 (WebAuthn credential) enrolled
    CARD_ISSUED = "card_issued"  # 操作識別カード交付
    CARD_WITHDRAWN = "card_withdrawn"  # 操作識別カード回収
    TRANSFERRED = "transferred"  # 異動: a new 操作者ID; card and 照合情報 withdrawn
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    WITHDRAWN = "withdrawn"  # 廃止: the operator leaves for good
    TOKEN_ISSUED = "token_issued"  # noqa: S105 (an event name)
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 (an event name)
    LOCKED_OUT = "locked_out"
    LOCKOUT_CLEARED = "lockout_cleared"


def note(
    uow: VerificationUnitOfWork,
    by: Actor,
    operator_id: str,
    event: OperatorEvent,
    reason: str,
    detail: str = "",
) -> None:
    uow.verification.append_ledger(
        LedgerEntry(
            operator_id=operator_id,
            event=event.value,
            at=uow.clock.now().isoformat(),
            by_actor=by.actor_id,
            by_role=by.role.value,
            reason=reason[:400],
            detail=detail[:400],
        )
    )
