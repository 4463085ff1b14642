"""Reading on a hot standby (`juki.storage.standby`), against a real streaming replica: a read
sees every commit the primary had when it was asked for, however far behind the standby was;
a standby that cannot catch up in time, cannot be reached or was promoted is not read, with the
reason; and only a standby of this very primary is accepted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from juki.storage.engine import make_engine
from juki.storage.standby import Standby, StandbyError
from support.pgserver import PostgresServer
from support.standby import StandbyPair, standby_pair

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pair() -> Iterator[StandbyPair]:
    with standby_pair(migrated=False) as made:
        primary = make_engine(made.primary_url)
        with primary.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE counted (n integer)")
        primary.dispose()
        yield made


@pytest.fixture
def engines(pair: StandbyPair) -> Iterator[tuple[sa.Engine, Standby]]:
    # a busy machine may take a while to stream the WAL: the wait is not what is tested here
    standby = Standby(make_engine(pair.standby_url), max_wait_s=30)
    primary = make_engine(pair.primary_url)
    try:
        yield primary, standby
    finally:
        pair.resume_replay()
        primary.dispose()
        standby.engine.dispose()


def _count(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM counted").scalar_one())


def test_a_read_on_the_standby_sees_what_the_primary_had_committed(
    engines: tuple[sa.Engine, Standby],
) -> None:
    primary, standby = engines
    standby.check(primary)
    for _ in range(5):
        # committed and asked for at once: the standby is read only once it has replayed it
        with primary.begin() as conn:
            conn.exec_driver_sql("INSERT INTO counted VALUES (1)")
        with primary.connect() as conn:
            expected = _count(conn)
            read = standby.caught_up(conn)
        assert read.connection is not None, read.why_not
        try:
            assert _count(read.connection) == expected
            assert read.describe().startswith("read on the standby, replayed to ")
            with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
                read.connection.exec_driver_sql("INSERT INTO counted VALUES (2)")
        finally:
            read.connection.close()


def test_a_standby_behind_for_longer_than_the_wait_is_not_read(
    pair: StandbyPair, engines: tuple[sa.Engine, Standby]
) -> None:
    primary, standby = engines
    standby.max_wait_s = 0.3
    pair.pause_replay()
    with primary.begin() as conn:
        conn.exec_driver_sql("INSERT INTO counted VALUES (1)")
    with primary.connect() as conn:
        read = standby.caught_up(conn)
    assert read.connection is None
    assert read.why_not == f"the standby had not replayed {read.lsn} within 0.3 s"
    assert read.describe() == f"read on the primary: {read.why_not}"
    pair.resume_replay()
    standby.max_wait_s = 30
    with primary.connect() as conn:
        expected = _count(conn)
        read = standby.caught_up(conn)
    assert read.connection is not None, read.why_not
    assert _count(read.connection) == expected
    read.connection.close()


def test_an_unreachable_standby_is_not_read(pair: StandbyPair) -> None:
    primary = make_engine(pair.primary_url)
    gone = Standby(make_engine("postgresql://juki@127.0.0.1:1/juki"))
    try:
        with primary.connect() as conn:
            read = gone.caught_up(conn)
        assert read.connection is None
        assert read.why_not.startswith("standby unreachable")
        with pytest.raises(StandbyError, match="cannot reach it"):
            gone.check(primary)
    finally:
        primary.dispose()
        gone.engine.dispose()


def test_only_a_standby_of_this_primary_is_accepted(
    pair: StandbyPair, postgres_server: PostgresServer, engines: tuple[sa.Engine, Standby]
) -> None:
    primary, standby = engines
    itself = Standby(make_engine(pair.primary_url))
    with pytest.raises(StandbyError, match="not in recovery"):
        itself.check(primary)
    itself.engine.dispose()
    # this standby checked against another cluster (the session's server)
    other = make_engine(postgres_server.url)
    with pytest.raises(StandbyError, match="a copy of another cluster"):
        standby.check(other)
    other.dispose()
    with pytest.raises(StandbyError, match="only a PostgreSQL standby"):
        Standby(make_engine("sqlite://"))
    with pytest.raises(StandbyError, match="not PostgreSQL"):
        standby.check(make_engine("sqlite://"))


def test_a_promoted_standby_is_read_no_more() -> None:
    """Failover made the standby a primary of its own: what it holds is no longer this
    primary's, so no read goes there, and the check at start refuses it."""
    with standby_pair(migrated=False) as made:
        primary, standby = make_engine(made.primary_url), Standby(make_engine(made.standby_url))
        try:
            with made.standby.connect() as conn:
                conn.execute("SELECT pg_promote(wait => true)")
            with primary.connect() as conn:
                read = standby.caught_up(conn)
            assert (read.connection, read.why_not) == (None, "the standby was promoted")
            with pytest.raises(StandbyError, match="not in recovery"):
                standby.check(primary)
        finally:
            primary.dispose()
            standby.engine.dispose()
