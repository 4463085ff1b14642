"""What the security services need from storage: operators, as a protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from juki.core.ports import UnitOfWork
from juki.security.permissions import Role


@dataclass(frozen=True, slots=True)
class StoredOperator:
    operator_id: str
    display_name: str
    role: Role
    active: bool
    created_at: str
    token_expires_at: str = ""
    token_revoked_at: str | None = None
    token_purpose: str | None = None
    status: str = "active"  # active | suspended | withdrawn
    enrolment_sha256: str | None = None
    enrolment_expires_at: str | None = None
    failed_logins: int = 0
    locked_at: str | None = None


class OperatorRepository(Protocol):
    def add(
        self,
        *,
        operator_id: str,
        display_name: str,
        role: Role,
        created_at: str,
        token_sha256: str | None = None,
        token_expires_at: str = "",
        token_purpose: str | None = None,
    ) -> None: ...

    def find(self, operator_id: str) -> StoredOperator | None: ...

    def find_by_token_hash(self, token_sha256: str) -> StoredOperator | None: ...

    def set_token(
        self, operator_id: str, token_sha256: str, token_expires_at: str, purpose: str
    ) -> None:
        """A new token replaces the old one (which stops working) and clears a revocation."""

    def revoke_token(self, operator_id: str, revoked_at: str) -> None: ...

    def set_active(self, operator_id: str, active: bool) -> None: ...

    def set_status(self, operator_id: str, status: str) -> None:
        """active | suspended | withdrawn; `active` follows it."""

    def set_role(self, operator_id: str, role: Role) -> None: ...

    def set_enrolment(self, operator_id: str, code_sha256: str | None, expires_at: str) -> None: ...

    def count_failure(self, operator_id: str) -> int:
        """One more failed sign-in; the count after it."""

    def set_lock(self, operator_id: str, locked_at: str | None) -> None:
        """Lock (with the time) or unlock (None); either resets the failure count."""


class OperatorUnitOfWork(UnitOfWork, Protocol):
    @property
    def operators(self) -> OperatorRepository: ...
