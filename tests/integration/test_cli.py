"""`juki seed` and `juki registry stats`: the contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from juki.cli import main
from juki.registry.tables import resident_records
from juki.security.tables import oplog
from juki.storage.engine import make_engine
from support.console_tokens import ConsoleTokens


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_seed_then_stats(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["seed", "--db", db_url, "--municipality", "132250", "--residents", "60", "--seed", "5"],
        capsys,
    )
    assert code == 0
    seeded = json.loads(out)
    assert seeded["residents"] == 60
    engine = make_engine(db_url)
    tokens = ConsoleTokens(engine)
    code, _, err = run(["registry", "stats", "--db", db_url], capsys)
    assert code == 1 and err.startswith("token: ")  # no implicit operator
    code, out, _ = run(tokens.argv(["registry", "stats", "--db", db_url]), capsys)
    assert code == 0
    stats = json.loads(out)
    assert stats["residents"] == 60
    assert stats["households"] == seeded["households"]
    assert {"residents", "households", "foreign_residents", "removed_records"} <= set(stats)
    try:
        with engine.connect() as conn:
            actions = conn.execute(
                sa.select(oplog.c.action, oplog.c.outcome, oplog.c.actor_id, oplog.c.role)
            ).all()
    finally:
        engine.dispose()
    assert ("seed_population", "ok", "seed", "system") in actions  # the system seeds
    assert ("view_stats", "ok", "cli-operations-manager", "operations_manager") in actions


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--municipality", "132251", "--residents", "10"], "[check_digit]"),
        (["--municipality", "13225", "--residents", "10"], "[length]"),
        (["--municipality", "132250", "--residents", "0"], "[range]"),
        (["--municipality", "132250", "--residents", "3000000"], "[range]"),
    ],
)
def test_seed_refuses_bad_input_and_creates_nothing(
    tmp_path: Path, args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "registry.db"
    code, _, err = run(["seed", "--db", f"sqlite:///{db}", *args], capsys)
    assert code == 1
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert not db.exists()


def test_seed_with_unknown_municipality_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    code, _, err = run(["seed", "--db", db, "--municipality", "999997", "--residents", "5"], capsys)
    assert code == 1
    assert "lg_code" in err
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            if sa.inspect(conn).has_table("resident_records"):
                assert (
                    conn.execute(
                        sa.select(sa.func.count()).select_from(resident_records)
                    ).scalar_one()
                    == 0
                )
    finally:
        engine.dispose()


def test_stats_of_a_missing_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.db"
    assert main(["registry", "stats", "--db", f"sqlite:///{missing}", "--token", "juki_x"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not missing.exists()


def test_console_script_is_installed() -> None:
    juki = Path(sys.executable).with_name("juki")
    done = subprocess.run(
        [str(juki), "id", "validate", "lg-code", "132250"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "valid\n")
