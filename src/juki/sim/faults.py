"""The faults the simulator injects, their rates, and the hooks that make a node's disk fail.

Message faults are per attempt (a probability each time a worker sends); node and link faults
are per simulated day (an expected count). Every fault class can be switched off or given its
own rate (`--fault drop=0.1`); the presets group them as the command line names them:
`network` (what the wire and the clocks do), `crash` (what a node's process and disk do), `all`.

A crash is never simulated by editing a database: the node's Python objects and its engine's
pool are dropped and rebuilt from the same SQLite file, so what was committed survives and
nothing else does. A crash can hit between steps, at a node's next commit (the transaction is
lost), or right after a message went out and before the sender recorded the acknowledgement.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any, Final

import sqlalchemy as sa

from juki.network.batch_receiver import APPLYING_BATCH


class SimCrash(BaseException):
    """The node's process dies here. A BaseException, so no `except Exception` in node code
    can swallow it; the simulator catches it and rebuilds the node."""

    def __init__(self, node_id: str, where: str) -> None:
        super().__init__(f"{node_id} crashed at {where}")
        self.node_id = node_id
        self.where = where


@dataclass(frozen=True, slots=True)
class Forgery:
    """A message a municipality sent without authority (the `forge` fault), by its id."""

    sender: str
    peer: str
    message_type: str


@dataclass(frozen=True, slots=True)
class FaultRates:
    # per send attempt
    drop: float = 0.0  # the request is lost
    drop_reply: float = 0.0  # delivered, but the reply is lost
    duplicate: float = 0.0  # delivered now and once more later
    reorder: float = 0.0  # held back until after later traffic to the same node
    delay: float = 0.0  # arrives later (sometimes past the 5-minute freshness window)
    # expected events per simulated day (whole network)
    partition: float = 0.0  # two nodes cannot reach each other for a while
    disconnect: float = 0.0  # 離脱 of a municipality or prefecture, then reconnect
    skew: float = 0.0  # a node's clock off by up to ±2 minutes for hours
    skew_beyond: float = 0.0  # a node's clock off past the freshness window, then corrected
    crash: float = 0.0  # a node's process dies and restarts
    disk_full: float = 0.0  # a node's writes fail for a while
    forge: float = 0.0  # a municipality sends what it has no authority to send (validly signed)
    crash_mid_batch: float = 0.0  # a node dies while applying a batch, before it commits

    def any(self) -> bool:
        return any(getattr(self, f.name) > 0 for f in fields(self))

    def network_only(self) -> bool:
        return self.crash == 0 and self.disk_full == 0 and self.crash_mid_batch == 0

    def as_json(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


NETWORK: Final = FaultRates(
    drop=0.04,
    drop_reply=0.03,
    duplicate=0.03,
    reorder=0.03,
    delay=0.04,
    partition=3.0,
    disconnect=0.7,
    skew=1.5,
)
CRASH: Final = FaultRates(crash=6.0, disk_full=1.0, crash_mid_batch=3.0)
PRESETS: Final[Mapping[str, FaultRates]] = {
    "none": FaultRates(),
    "network": NETWORK,
    "crash": CRASH,
    "all": replace(
        NETWORK,
        crash=CRASH.crash,
        disk_full=CRASH.disk_full,
        crash_mid_batch=CRASH.crash_mid_batch,
        skew_beyond=0.3,
        forge=1.0,
    ),
}


def rates_for(preset: str, overrides: Mapping[str, float] | None = None) -> FaultRates:
    """A preset with some rates replaced; unknown names are an error, not a silent no-op."""
    try:
        base = PRESETS[preset]
    except KeyError:
        raise ValueError(f"unknown fault preset {preset!r}; one of {sorted(PRESETS)}") from None
    known = {f.name for f in fields(FaultRates)}
    for name, value in (overrides or {}).items():
        if name not in known:
            raise ValueError(f"unknown fault {name!r}; one of {sorted(known)}")
        if value < 0:
            raise ValueError(f"fault rate {name} must not be negative")
    return replace(base, **dict(overrides or {}))


def parse_override(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"expected NAME=RATE, got {text!r}")
    return name.strip(), float(value)


# -- durations ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Durations:
    """How long each fault lasts, as (shortest, longest)."""

    partition: tuple[timedelta, timedelta] = (timedelta(minutes=5), timedelta(hours=2))
    disconnect: tuple[timedelta, timedelta] = (timedelta(hours=1), timedelta(hours=14))
    skew: tuple[timedelta, timedelta] = (timedelta(hours=1), timedelta(hours=8))
    skew_beyond: tuple[timedelta, timedelta] = (timedelta(minutes=20), timedelta(hours=3))
    disk_full: tuple[timedelta, timedelta] = (timedelta(minutes=10), timedelta(hours=3))
    delay: tuple[timedelta, timedelta] = (timedelta(milliseconds=50), timedelta(minutes=8))


SKEW_WITHIN: Final = timedelta(minutes=2)  # two skewed nodes stay within 4 minutes: inside 5
SKEW_BEYOND: Final = (timedelta(minutes=6), timedelta(minutes=40))  # past the 5-minute window


# -- a node's disk ----------------------------------------------------------------------------

_WRITES: Final = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@dataclass
class DiskState:
    """What the simulator has done to one node's storage."""

    full: bool = False
    crash_at_commit: bool = False
    writes_refused: int = 0
    # armed: the node dies at this many writes into the batches it applies next (1: the first)
    crash_mid_batch: int = 0


DISK_FULL: Final = "database or disk is full"


def is_disk_full(exc: BaseException) -> bool:
    """A storage error the simulator caused on purpose; any other one is a finding."""
    return DISK_FULL in str(exc)


def never_wait_for_locks(engine: sa.Engine) -> None:
    """busy_timeout 0 on this engine's connections: one thread runs every node, so a lock wait
    can only be a node waiting on itself (a second connection inside its own transaction),
    which would stall 30 s and then fail; here it fails at once and is reported."""

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=0")
        cur.close()

    sa.event.listen(engine, "connect", on_connect)
    engine.dispose()  # connections made before the listener go; new ones get it


def install_disk_hooks(
    engine: sa.Engine,
    node_id: str,
    disk: DiskState,
    *,
    full: bool = True,
    crash: bool = True,
    mid_batch: bool = False,
) -> None:
    """Make `engine` refuse writes while the disk is full, and die at a commit when armed.

    The write fails inside the DBAPI call, so SQLAlchemy wraps it as it would a real
    `sqlite3.OperationalError("database or disk is full")` and the transaction rolls back.
    Hooks cost every statement an event dispatch, so only the fault classes in use get one.
    """

    def refuse(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        if disk.full and statement.lstrip()[:7].upper().startswith(_WRITES):
            disk.writes_refused += 1
            raise sqlite3.OperationalError(DISK_FULL)
        return False

    def die(conn: sa.Connection) -> None:
        if disk.crash_at_commit:
            disk.crash_at_commit = False
            raise SimCrash(node_id, "commit")

    def die_in_batch(
        conn: sa.Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        """Armed, at the chosen write of a batch being applied: the process dies with the
        batch's earlier writes done and nothing committed."""
        if not disk.crash_mid_batch or APPLYING_BATCH not in conn.info:
            return
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            disk.crash_mid_batch -= 1
            if disk.crash_mid_batch == 0:
                raise SimCrash(node_id, f"in the middle of batch {conn.info[APPLYING_BATCH]}")

    if mid_batch:
        sa.event.listen(engine, "before_cursor_execute", die_in_batch)
    if full:
        sa.event.listen(engine, "do_execute", refuse)
        sa.event.listen(engine, "do_executemany", refuse)
    if crash:
        sa.event.listen(engine, "commit", die)
