"""`juki oplog verify --db`: any oplog row changed, deleted or inserted is found and named, on
SQLite and PostgreSQL; and two transactions appending at once never fork the chain."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.cli import main
from juki.core.clock import JST
from juki.core.ports import OpLogEntry
from juki.security.chain import HASHED, link
from juki.security.permissions import Role
from juki.security.store import append_entry
from juki.security.tables import oplog
from juki.storage.engine import make_engine
from support.console_tokens import ConsoleTokens

START = datetime(2025, 4, 1, 9, 0, tzinfo=JST)
ENTRIES = 8
# Every stored field an editor could change (the chain's own columns too).
FIELDS = [f for f in HASHED if f != "seq"] + ["entry_hash"]


def entry(i: int, detail: str = "") -> OpLogEntry:
    return OpLogEntry(
        at=START + timedelta(minutes=i),
        actor_id=f"clerk{i % 3}",
        role="counter_clerk",
        terminal_id="T1",
        action="view_record",
        target=f"record-{i}",
        outcome="ok",
        detail=detail,
        purpose="相談番号 12" if i % 2 else "",
        my_number_shown=i % 3 == 0,
    )


@pytest.fixture
def logged(migrated_db_url: str) -> Iterator[tuple[str, sa.Engine, str]]:
    """The entries, then an auditor to run `juki oplog verify` (registered after them)."""
    engine = make_engine(migrated_db_url)
    with engine.begin() as conn:
        for i in range(ENTRIES):
            append_entry(conn, entry(i))
    yield migrated_db_url, engine, ConsoleTokens(engine).token(Role.AUDITOR)
    engine.dispose()


def verify(url: str, token: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """`juki oplog verify` as the auditor; each run appends its own `view_oplog` entry after
    the check."""
    code = main(["oplog", "verify", "--db", url, "--json", "--token", token])
    return code, json.loads(capsys.readouterr().out)["nodes"][0]


def _row(conn: sa.Connection, seq: int) -> dict[str, Any]:
    return dict(conn.execute(sa.select(oplog).where(oplog.c.seq == seq)).mappings().one())


def _changed(value: Any) -> Any:
    return (not value) if isinstance(value, bool) else f"{value}x"[-64:]


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seq=st.integers(1, ENTRIES),
    name=st.sampled_from(FIELDS),
    how=st.sampled_from(["change", "delete", "insert"]),
)
def test_a_row_changed_deleted_or_inserted_is_named_by_verify(
    logged: tuple[str, sa.Engine, str],
    capsys: pytest.CaptureFixture[str],
    seq: int,
    name: str,
    how: str,
) -> None:
    url, engine, token = logged
    with engine.begin() as conn:
        original = _row(conn, seq)
        newest = conn.execute(sa.select(sa.func.max(oplog.c.seq))).scalar_one()
        last = _row(conn, newest)
        if how == "change":
            conn.execute(
                oplog.update().where(oplog.c.seq == seq).values({name: _changed(original[name])})
            )
        elif how == "delete":
            conn.execute(oplog.delete().where(oplog.c.seq == seq))
        else:  # a well-formed entry after the last one, the chain head left as it was
            fields = {k: original[k] for k in HASHED if k not in ("seq", "prev_hash")}
            conn.execute(oplog.insert().values(link(fields, newest + 1, last["entry_hash"])))

    code, found = verify(url, token, capsys)

    assert code == 1
    expected = {"change": seq, "delete": seq, "insert": newest + 1}[how]
    assert found["first_break"]["seq"] == expected, found
    with engine.begin() as conn:  # put it back: the chain holds again
        if how == "change":
            conn.execute(oplog.update().where(oplog.c.seq == seq).values({name: original[name]}))
        elif how == "delete":
            conn.execute(oplog.insert().values(original))
        else:
            conn.execute(oplog.delete().where(oplog.c.seq == newest + 1))
    assert verify(url, token, capsys)[0] == 0


@pytest.mark.postgres
def test_two_transactions_appending_at_once_do_not_fork_the_chain(
    migrated_pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The second waits for the first's lock on the chain head, then chains to its entry."""
    engine = make_engine(migrated_pg_url)
    errors: list[BaseException] = []
    try:
        with engine.begin() as conn:  # a log with an entry already (and so its head row)
            append_entry(conn, entry(0, "before"))
        first = engine.connect()
        tx = first.begin()
        append_entry(first, entry(1, "first"))
        first_pid = first.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()

        def second() -> None:
            try:
                with engine.begin() as conn:
                    append_entry(conn, entry(2, "second"))
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        with engine.connect() as watcher:  # until the second is waiting for the first's lock
            blocked = sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
            )
            limit = time.monotonic() + 120  # a generous limit for a busy machine, not a timing
            while True:
                waiting = watcher.execute(blocked, {"pid": first_pid}).scalar_one()
                # pg_stat_activity is read once per transaction: each look is a new one
                watcher.rollback()
                if waiting:
                    break
                assert thread.is_alive(), errors
                assert time.monotonic() < limit, "the second append never waited for the first"
                time.sleep(0.01)
        tx.commit()
        first.close()
        thread.join()
        token = ConsoleTokens(engine).token(Role.AUDITOR)  # its registration adds entries
    finally:
        engine.dispose()
    assert errors == []
    code, found = verify(migrated_pg_url, token, capsys)
    assert code == 0
    assert found["entries"] == found["head"]["seq"] > 3
