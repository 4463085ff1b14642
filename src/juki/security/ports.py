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


class OperatorRepository(Protocol):
    def add(
        self, *, operator_id: str, display_name: str, role: Role, token_sha256: str, created_at: str
    ) -> None: ...

    def find(self, operator_id: str) -> StoredOperator | None: ...

    def find_active_by_token_hash(self, token_sha256: str) -> StoredOperator | None: ...

    def set_active(self, operator_id: str, active: bool) -> None: ...


class OperatorUnitOfWork(UnitOfWork, Protocol):
    @property
    def operators(self) -> OperatorRepository: ...
