"""SQLite transactions begin with BEGIN IMMEDIATE, reads too, issued on the DBAPI connection
(not through SQLAlchemy's statement path, which cost every transaction a whole execution): a
reader holds the write lock, and a lock that cannot be had is still SQLAlchemy's
OperationalError "database is locked", which the web maps to 503 and the receiver retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from juki.storage.engine import make_engine
from juki.web.errors import is_transient


def _impatient(engine: sa.Engine) -> sa.Engine:
    """busy_timeout 0: a held lock fails at once instead of after 30 s."""

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    sa.event.listen(engine, "connect", on_connect)
    return engine


def test_a_reading_transaction_holds_the_write_lock_and_a_second_one_is_refused_as_locked(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    first, second = make_engine(url), _impatient(make_engine(url))
    try:
        with first.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        with first.connect() as reader:
            assert reader.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 0
            with pytest.raises(sa.exc.OperationalError) as info, second.begin():
                pass
            assert "database is locked" in str(info.value.orig)
            assert info.value.statement == "BEGIN IMMEDIATE"
            assert is_transient(info.value)  # the web answers 503, not 500
        with second.begin() as conn:  # released with the reader's transaction
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    finally:
        first.dispose()
        second.dispose()
