"""The commands take a database URL as people write it, and a wrong one gets one line, never a
traceback (issue 10 §3): `postgresql://` and `postgres://` mean psycopg, other databases and
malformed URLs are refused with the two supported forms, an unreachable server or an uncreatable
SQLite file says why, and a password in the URL is never printed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import make_url

from juki.cli import main
from juki.storage.engine import DatabaseUrlError, database_url, make_engine
from support.console_tokens import ConsoleTokens


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://juki@db.example/juki", "postgresql+psycopg"),
        ("postgres://juki@db.example/juki", "postgresql+psycopg"),
        ("postgresql+psycopg://juki@db.example/juki", "postgresql+psycopg"),
        ("sqlite:///var/juki.db", "sqlite"),
    ],
)
def test_the_spellings_of_postgresql_mean_psycopg(given: str, driver: str) -> None:
    url = database_url(given)
    assert url.drivername == driver
    assert url.database == make_url(given).database


@pytest.mark.parametrize(
    "given", ["nonsense", "", "mysql://u@h/db", "http://example.org", "postgresql+psycopg2://h/d"]
)
def test_other_urls_are_refused_with_the_supported_forms(given: str) -> None:
    with pytest.raises(DatabaseUrlError) as info:
        database_url(given)
    assert "sqlite:///PATH or postgresql://USER@HOST/DB" in str(info.value)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("nonsense", "not a database URL"),
        ("mysql://u:secret@h/db", "not 'mysql'"),
        ("postgresql://u:secret@127.0.0.1:1/juki", "cannot open the database"),
        ("sqlite:////proc/no/such/dir/juki.db", "does not exist"),
    ],
)
@pytest.mark.parametrize("command", [["registry", "stats"], ["db", "upgrade"]])
def test_a_wrong_url_is_one_line_and_no_traceback(
    url: str, says: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    token = ["--token", "juki_not-checked-before-the-database"] if command[0] == "registry" else []
    code = main([*command, "--db", url, *token])
    err = capsys.readouterr().err.strip()
    if command == ["db", "upgrade"] and url.startswith("sqlite"):
        says = "cannot create the SQLite database"  # upgrade creates; stats needs it to exist
    assert code == 1
    assert len(err.splitlines()) == 1, err
    assert err.startswith("db: ") and says in err
    assert "secret" not in err and "Traceback" not in err


@pytest.mark.postgres
def test_postgresql_spelling_works_end_to_end(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    assert plain.startswith("postgresql://")
    assert main(["db", "upgrade", "--db", plain]) == 0
    assert "at revision" in capsys.readouterr().out
    engine = make_engine(plain)
    try:
        assert main(ConsoleTokens(engine).argv(["registry", "stats", "--db", plain])) == 0
    finally:
        engine.dispose()
    assert json.loads(capsys.readouterr().out)["residents"] == 0
