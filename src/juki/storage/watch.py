"""Waking a node when another process writes to its database.

A node's stepper sleeps while there is nothing to send. Requests to the node wake it
(`juki.nodes.runner.WakeOnWrite`), but a `juki` command writing straight into the same
database (a registry change, a seeding) does not pass through the node. This module lets such
a commit wake it at once, so the stepper's fallback poll can be long:

- **PostgreSQL**: whoever queues work (the registry's outbox, the network outbox) calls
  `announce` in its transaction, a `pg_notify` that PostgreSQL delivers only when the
  transaction commits (and drops if it rolls back); the node's `DatabaseWatch` holds a
  connection that LISTENs and blocks on its socket, waking no one until a notification comes.
- **SQLite** has no notifications. `DatabaseWatch` reads `PRAGMA data_version` on a connection
  of its own every `poll` seconds: a read of the shared WAL index in memory, no file I/O, that
  changes whenever any other connection (in any process) has committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Final

import sqlalchemy as sa

CHANNEL: Final = "juki_work"  # one channel per database: each node has a database of its own
NOTIFY_SQL: Final = f"SELECT pg_notify('{CHANNEL}', '')"
SQLITE_POLL: Final = 0.2  # seconds between two reads of data_version
LISTEN_TIMEOUT: Final = 1.0  # seconds a listener blocks before it checks whether to stop
RECONNECT_WAIT: Final = 5.0  # after the listening connection failed

_ANNOUNCED: Final = "juki_announced"  # conn.info: the transaction already announced

log = logging.getLogger("juki.storage.watch")


def announce(conn: sa.Connection) -> None:
    """There is work for the node once this transaction commits. PostgreSQL: one NOTIFY per
    transaction (a savepoint counts apart: a rolled-back one takes its NOTIFY with it);
    SQLite: nothing — the watch sees the commit itself."""
    if conn.dialect.name != "postgresql":
        return
    transaction = conn.get_nested_transaction() or conn.get_transaction()
    if transaction is not None and conn.info.get(_ANNOUNCED) is transaction:
        return
    conn.exec_driver_sql(NOTIFY_SQL)
    conn.info[_ANNOUNCED] = transaction


def _raw_connection(engine: sa.Engine) -> Any:
    """A DBAPI connection of its own, with the engine's connect arguments, outside its pool."""
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    return engine.dialect.connect(*cargs, **cparams)


class DatabaseWatch:
    """A daemon thread that calls `wake` when the database may hold new work."""

    def __init__(
        self,
        engine: sa.Engine,
        wake: Callable[[], None],
        *,
        poll: float = SQLITE_POLL,
        listen_timeout: float = LISTEN_TIMEOUT,
    ) -> None:
        self.engine = engine
        self.wake = wake
        self.poll = poll
        self.listen_timeout = listen_timeout
        self.stop = threading.Event()
        self.ready = threading.Event()  # listening (or watching) from now on
        target = self._listen if engine.dialect.name == "postgresql" else self._poll
        self.thread = threading.Thread(target=target, name="database-watch", daemon=True)

    @staticmethod
    def supported(engine: sa.Engine) -> bool:
        """An in-memory SQLite database has no other process to watch for."""
        if engine.dialect.name == "postgresql":
            return True
        database = engine.url.database or ""
        return database not in ("", ":memory:") and "mode=memory" not in database

    def start(self) -> None:
        self.thread.start()

    def join(self, timeout: float | None = None) -> None:
        self.stop.set()
        self.thread.join(timeout)

    def _poll(self) -> None:
        conn = _raw_connection(self.engine)
        conn.isolation_level = None  # autocommit: a PRAGMA must not hold a read transaction
        try:
            last = conn.execute("PRAGMA data_version").fetchone()[0]
            self.ready.set()
            while not self.stop.wait(self.poll):
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if version != last:
                    last = version
                    self.wake()
        finally:
            conn.close()

    def _listen(self) -> None:
        while not self.stop.is_set():
            try:
                self._listen_once()
            except Exception as exc:  # the server restarted, the network failed: try again
                log.warning("database watch lost its connection: %s", exc)
                self.wake()  # what was notified meanwhile is lost: look once
                self.stop.wait(RECONNECT_WAIT)

    def _listen_once(self) -> None:
        conn = _raw_connection(self.engine)
        try:
            conn.autocommit = True
            conn.execute(f"LISTEN {CHANNEL}")
            self.ready.set()
            while not self.stop.is_set():
                if any(True for _ in conn.notifies(timeout=self.listen_timeout, stop_after=1)):
                    self.wake()
        finally:
            conn.close()
