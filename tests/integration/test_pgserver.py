"""The throwaway PostgreSQL server and the database URL fixtures work."""

from __future__ import annotations

import subprocess

import psycopg
import pytest
from sqlalchemy import create_engine, text

from support.pgserver import OWNER_FILE, PostgresServer, find_bindir


@pytest.mark.postgres
def test_pg_url_is_a_fresh_postgres_15_database(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+psycopg://juki@127.0.0.1:")
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            assert str(version).startswith("15")
            tables = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
            assert tables == 0
            conn.execute(text("CREATE TABLE person (id serial PRIMARY KEY, name text NOT NULL)"))
            conn.execute(
                text("INSERT INTO person (name) VALUES (:a), (:b)"),
                [{"a": "山田太郎", "b": "佐藤花子"}],
            )
        with engine.connect() as conn:
            names = conn.execute(text("SELECT name FROM person ORDER BY id")).scalars().all()
        assert names == ["山田太郎", "佐藤花子"]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_pg_url_gives_each_test_its_own_database(
    pg_url: str, postgres_server: PostgresServer
) -> None:
    other = postgres_server.create_database("t_other_for_isolation_check")
    try:
        assert other != pg_url
        assert pg_url.rsplit("/", 1)[1].startswith("t_")
    finally:
        postgres_server.drop_database("t_other_for_isolation_check")


def test_db_url_select_1(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_server_left_by_a_killed_run_is_stopped_by_the_next() -> None:
    killed = PostgresServer(dbname="postgres").start()
    base, port = killed.base_dir, killed.port
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id no run holds any more: the killed run's
    (base / OWNER_FILE).write_text(str(gone.pid))
    try:
        PostgresServer().stop_abandoned(find_bindir())
        assert not base.exists()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(host="127.0.0.1", port=port, user="juki", connect_timeout=5).close()
    finally:
        killed.stop()
