"""A PostgreSQL hot standby that serves reads no older than the primary they are asked of.

A streaming replica applies the primary's WAL a little behind it. Reads that must answer for
the registry as it stands (provision: an agency is told what the national index holds) may go
to the standby only once it has replayed everything committed before the request: the primary's
WAL insert position is read inside the request's own transaction (it is past every commit
record, flushed or not under `synchronous_commit=off`), and the standby is read when its
replay position has reached it — then in one REPEATABLE READ, READ ONLY transaction,
so every chunk of a batch sees the same state. A standby that is unreachable, promoted, or
still behind after `max_wait_s` is not read: the caller reads on the primary and says why
(`StandbyRead.why_not`). Nothing is ever written on the standby; it cannot be.

`Standby.check` is the start-up check: the standby is in recovery and is a copy of this
primary (the same system identifier), so a mistyped URL never serves another database's data.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa

from juki.core.errors import JukiError

DEFAULT_MAX_WAIT_S: Final = 1.0
_POLL_S: Final = 0.002
_SYSTEM_ID: Final = "SELECT system_identifier::text FROM pg_control_system()"
_REPLAYED: Final = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %(lsn)s::pg_lsn"
_BEHIND: Final = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text"
_DIFF: Final = "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %(lsn)s::pg_lsn)"


class StandbyError(JukiError):
    """A standby juki must not read: not one, or not of this primary."""


@dataclass(frozen=True, slots=True)
class StandbyRead:
    """Where a request's reads go: `connection` on the standby (caller closes it), or None and
    `why_not` the reason the primary reads instead; `lsn` the primary's position it waited for."""

    connection: sa.Connection | None
    lsn: str
    why_not: str = ""
    reason: str = "standby"  # or why not, in a word: unreachable, promoted, behind, failed

    def describe(self) -> str:
        if self.connection is not None:
            return f"read on the standby, replayed to {self.lsn}"
        return f"read on the primary: {self.why_not}"


class Standby:
    """A hot standby of the node's database, for reads (`docs/scale.md`)."""

    def __init__(self, engine: sa.Engine, *, max_wait_s: float = DEFAULT_MAX_WAIT_S) -> None:
        if engine.dialect.name != "postgresql":
            raise StandbyError("standby: only a PostgreSQL standby (streaming replication)")
        self.engine = engine
        self.max_wait_s = max_wait_s
        # Where requests' reads went since start: "standby", or why the primary read instead
        # (unreachable, promoted, behind, failed), for the node's metrics.
        self._counted: Counter[str] = Counter()
        self._counting = threading.Lock()

    def reads(self) -> dict[str, int]:
        """How many requests were read where (`juki_standby_reads_total`)."""
        with self._counting:
            return dict(self._counted)

    def _count(self, where: str) -> None:
        with self._counting:
            self._counted[where] += 1

    def check(self, primary: sa.Engine) -> None:
        """Refuse a standby that is not in recovery or not a copy of `primary`."""
        if primary.dialect.name != "postgresql":
            raise StandbyError("standby: the node's own database is not PostgreSQL")
        try:
            with primary.connect() as p, self.engine.connect() as s:
                mine = p.exec_driver_sql(_SYSTEM_ID).scalar_one()
                theirs = s.exec_driver_sql(_SYSTEM_ID).scalar_one()
                recovering = s.exec_driver_sql("SELECT pg_is_in_recovery()").scalar_one()
        except sa.exc.DBAPIError as exc:
            raise StandbyError(f"standby: cannot reach it or the primary: {exc.orig}") from None
        if not recovering:
            raise StandbyError("standby: the server is not in recovery (not a hot standby)")
        if mine != theirs:
            raise StandbyError(
                f"standby: a copy of another cluster (system identifier {theirs}, not {mine})"
            )

    def behind(self, primary: sa.Engine) -> int | None:
        """How many bytes of the primary's WAL the standby has not replayed yet (what an
        operator watches: `juki_standby_replay_lag_bytes`), or None when it cannot be read or
        is no standby any more."""
        try:
            with self.engine.connect() as s:
                recovering, replayed = s.exec_driver_sql(_BEHIND).one()
            if not recovering or replayed is None:
                return None
            with primary.connect() as p:
                return max(0, int(p.exec_driver_sql(_DIFF, {"lsn": replayed}).scalar_one()))
        except sa.exc.DBAPIError:
            return None

    def caught_up(self, primary: sa.Connection) -> StandbyRead:
        """A standby connection in a read-only snapshot that holds every commit the primary had
        when this was called, or the reason there is none (the primary reads instead)."""
        read = self._caught_up(primary)
        self._count(read.reason)
        return read

    def _caught_up(self, primary: sa.Connection) -> StandbyRead:
        lsn = str(primary.exec_driver_sql("SELECT pg_current_wal_insert_lsn()::text").scalar_one())
        try:
            conn = self.engine.connect()
        except sa.exc.DBAPIError as exc:
            why = f"standby unreachable ({type(exc.orig).__name__})"
            return StandbyRead(None, lsn, why, "unreachable")
        try:
            reason, why_not = self._wait(conn, lsn)
            if why_not:
                conn.close()
                return StandbyRead(None, lsn, why_not, reason)
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        except sa.exc.DBAPIError as exc:
            conn.close()
            return StandbyRead(None, lsn, f"standby failed ({type(exc.orig).__name__})", "failed")
        return StandbyRead(conn, lsn)

    def _wait(self, conn: sa.Connection, lsn: str) -> tuple[str, str]:
        """Poll the standby's replay position until it reaches `lsn` (PostgreSQL 15 has no
        statement that waits for it); ('', '') when it has, else why it will not be read (a
        word, a sentence)."""
        deadline = time.monotonic() + self.max_wait_s
        while True:
            recovering, replayed = conn.exec_driver_sql(_REPLAYED, {"lsn": lsn}).one()
            conn.commit()  # the snapshot the reads take must start after the wait
            if not recovering:
                return "promoted", "the standby was promoted"
            if replayed:
                return "", ""
            if time.monotonic() >= deadline:
                return "behind", f"the standby had not replayed {lsn} within {self.max_wait_s:g} s"
            time.sleep(_POLL_S)
