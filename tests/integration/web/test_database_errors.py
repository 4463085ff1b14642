"""A transaction that lost a race is a 409 the client may retry; a database that did not answer
(a statement timeout, a lost connection) a 503 to try again later; any other database error is
a 500. None names SQL. The errors are real ones, raised by real databases."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from juki.web.errors import install_error_handlers, is_transient, is_unavailable


def _client(exc: Exception) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


def _deadlock(url: str) -> sa.exc.DBAPIError:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id int PRIMARY KEY, v int)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1, 0), (2, 0)"))
    a, b = engine.connect(), engine.connect()
    errors: list[sa.exc.DBAPIError] = []
    try:
        a.begin()
        b.begin()
        a.execute(sa.text("UPDATE t SET v = 1 WHERE id = 1"))
        b.execute(sa.text("UPDATE t SET v = 1 WHERE id = 2"))

        def cross(conn: sa.Connection, row: int) -> None:
            try:
                conn.execute(sa.text(f"UPDATE t SET v = 2 WHERE id = {row}"))
            except sa.exc.DBAPIError as exc:
                errors.append(exc)
                conn.rollback()

        t = threading.Thread(target=cross, args=(a, 2))
        t.start()
        cross(b, 1)
        t.join(timeout=30)
    finally:
        a.close()
        b.close()
        engine.dispose()
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.postgres
def test_a_real_postgres_deadlock_is_a_409(pg_url: str) -> None:
    exc = _deadlock(pg_url)
    assert is_transient(exc)
    response = _client(exc).get("/boom")
    assert response.status_code == 409
    assert response.json()["type"] == "concurrent_change"
    assert "やり直して" in response.json()["msg_ja"]


def test_a_locked_sqlite_database_is_a_409(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/locked.db"
    holder = sa.create_engine(url)
    waiter = sa.create_engine(url, connect_args={"timeout": 0})
    with holder.connect() as first:
        first.exec_driver_sql("BEGIN IMMEDIATE")
        with waiter.connect() as second, pytest.raises(sa.exc.OperationalError) as caught:
            second.exec_driver_sql("BEGIN IMMEDIATE")
        first.exec_driver_sql("ROLLBACK")
    holder.dispose()
    waiter.dispose()
    assert is_transient(caught.value)
    assert _client(caught.value).get("/boom").status_code == 409


def test_any_other_database_error_is_a_500_without_the_sql(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as caught:
        conn.execute(sa.text("SELECT secret_column FROM no_such_table"))
    engine.dispose()
    assert not is_transient(caught.value)
    response = _client(caught.value).get("/boom")
    assert response.status_code == 500
    assert response.json()["type"] == "storage_error"
    assert "no_such_table" not in response.text


def _cancelled(url: str) -> sa.exc.DBAPIError:
    """A statement past its statement_timeout, as on a hot standby that stalled."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SET statement_timeout = '10ms'"))
            with pytest.raises(sa.exc.DBAPIError) as info:
                conn.execute(sa.text("SELECT pg_sleep(5)"))
        return info.value
    finally:
        engine.dispose()


def _connection_lost(url: str) -> sa.exc.DBAPIError:
    """The server ended the connection under a request (a restart, a host gone)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as victim, engine.connect() as killer:
            pid = victim.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            victim.commit()
            killer.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(sa.exc.DBAPIError) as info:
                victim.execute(sa.text("SELECT 1"))
        return info.value
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("make", [_cancelled, _connection_lost])
def test_a_database_that_did_not_answer_is_a_503_to_try_again(pg_url: str, make: object) -> None:
    exc = make(pg_url)  # type: ignore[operator]
    assert is_unavailable(exc) and not is_transient(exc)
    response = _client(exc).get("/boom")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.json()
    assert body["type"] == "database_unavailable"
    assert "やり直して" in body["msg_ja"]
    assert "SELECT" not in response.text  # no SQL in the answer
