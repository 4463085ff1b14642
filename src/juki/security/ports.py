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


class OperatorRepository(Protocol):
    def add(
        self,
        *,
        operator_id: str,
        display_name: str,
        role: Role,
        token_sha256: str,
        created_at: str,
        token_expires_at: str,
    ) -> None: ...

    def find(self, operator_id: str) -> StoredOperator | None: ...

    def find_by_token_hash(self, token_sha256: str) -> StoredOperator | None: ...

    def set_token(self, operator_id: str, token_sha256: str, token_expires_at: str) -> None:
        """A new token replaces the old one (which stops working) and clears a revocation."""

    def revoke_token(self, operator_id: str, revoked_at: str) -> None: ...

    def set_active(self, operator_id: str, active: bool) -> None: ...


class OperatorUnitOfWork(UnitOfWork, Protocol):
    @property
    def operators(self) -> OperatorRepository: ...
