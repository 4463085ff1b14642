"""What the review services need: the review store and a unit of work that can apply a command
inside its own transaction (本登録) or try one and undo it (the check when a change is entered)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from juki.registry.ports import RegistryUnitOfWork
from juki.registry.review.model import ChangeStatus, EditLock, LockHolder, ProvisionalChange


class ReviewStore(Protocol):
    def add(self, change: ProvisionalChange) -> None: ...

    def get(self, change_id: str) -> ProvisionalChange: ...

    def decide(self, change: ProvisionalChange) -> None: ...

    def listed(
        self, status: ChangeStatus | None, limit: int, newest_first: bool = False
    ) -> Sequence[ProvisionalChange]: ...

    def versions(self, record_ids: Iterable[str]) -> dict[str, int]: ...

    def members(self, household_ids: Iterable[str]) -> list[str]: ...

    def households_of(self, record_ids: Iterable[str]) -> list[str]: ...

    def locks(self, targets: Iterable[str]) -> list[EditLock]: ...

    def take(
        self,
        targets: Iterable[str],
        operator_id: str,
        holder: LockHolder,
        change_id: str | None,
        now: datetime,
        expires_at: datetime,
    ) -> None: ...

    def release(self, change_id: str) -> int: ...


class ReviewUnitOfWork(RegistryUnitOfWork, Protocol):
    @property
    def review(self) -> ReviewStore: ...

    def inner(self) -> RegistryUnitOfWork:
        """A unit of work whose transaction is a savepoint inside this one's."""
        ...

    def trial(self) -> AbstractContextManager[None]:
        """A savepoint rolled back at its end, whatever happened inside."""
        ...
