"""The ports every feature's services use, owned by the domain: a unit of work, the operation
log and a source of ids.

Services take a unit of work and never commit behind the caller's back; the action runner
(`juki.security.actions`) opens it, writes the oplog entry in the same transaction and
commits. Adapters implement these protocols: SQL in each feature's store, an in-memory fake in
`tests/support`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Literal, Protocol, Self

from juki.core.clock import Clock

# ok | denied | rejected | failed (an allowed action whose I/O failed after it began)
Outcome = Literal["ok", "denied", "rejected", "failed"]


@dataclass(frozen=True, slots=True)
class OpLogEntry:
    """One operation: who (operator and role) did what to which target, from where, why
    (`purpose`: the case or stated purpose, empty when none was given), whether a 個人番号 was
    shown, and how it ended (seed 001 第16, seed 002: 操作履歴). The store chains it
    (`juki.security.chain`)."""

    at: datetime
    actor_id: str
    role: str
    terminal_id: str
    action: str
    target: str
    outcome: Outcome
    detail: str = ""
    purpose: str = ""
    my_number_shown: bool = False


class OpLog(Protocol):
    def append(self, entry: OpLogEntry) -> None: ...


class IdSource(Protocol):
    def new_id(self) -> str: ...


class UnitOfWork(Protocol):
    """One transaction. `with uow:` begins it; leaving without `commit()` rolls it back."""

    @property
    def oplog(self) -> OpLog: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def ids(self) -> IdSource: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
