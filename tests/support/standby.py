"""A primary with a hot standby of it, for the tests of reading on a standby: a cluster of its
own (a base backup copies every database of its server, so never the session's shared one),
migrated to the head revision before the backup, so the standby starts with the schema."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from juki.storage.engine import make_engine
from juki.storage.migrate import upgrade
from support.pgserver import PostgresServer


@dataclass(frozen=True)
class StandbyPair:
    primary: PostgresServer
    standby: PostgresServer

    @property
    def primary_url(self) -> str:
        return self.primary.url

    @property
    def standby_url(self) -> str:
        return self.standby.url

    def pause_replay(self) -> None:
        with self.standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with self.standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")


@contextlib.contextmanager
def standby_pair(*, migrated: bool = True) -> Iterator[StandbyPair]:
    with PostgresServer() as primary:
        if migrated:
            engine = make_engine(primary.url)
            try:
                upgrade(engine)
            finally:
                engine.dispose()
        standby = primary.standby()
        try:
            yield StandbyPair(primary, standby)
        finally:
            standby.stop()
