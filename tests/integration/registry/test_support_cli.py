"""`juki registry support …` on SQLite and PostgreSQL: record a 支援措置, ask whether the person
is protected, refuse a second measure with the rule named, terminate, list — as the console."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from juki.cli import main
from juki.registry.support.model import one_year_from
from juki.storage.engine import make_engine
from support.backends import SqlBackend, sql_backend
from support.console_tokens import ConsoleTokens
from support.residents import family, seed

TOKENS: ConsoleTokens | None = None


@pytest.fixture
def backend(migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlBackend]:
    with sql_backend(migrated_db_url) as sql:
        seed(sql)
        engine = make_engine(migrated_db_url)
        # Each command runs as a registry supervisor's token (support.console_tokens).
        monkeypatch.setattr(sys.modules[__name__], "TOKENS", ConsoleTokens(engine))
        try:
            yield sql
        finally:
            engine.dispose()


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    argv = ["registry", "support", *args]
    code = main(TOKENS.argv(argv) if TOKENS is not None else argv)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def test_record_check_refuse_end_and_list(
    backend: SqlBackend, migrated_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, wife, _ = family(backend)
    db = ["--db", migrated_db_url]
    record = [
        "record",
        *db,
        "--record-id",
        wife.record_id,
        "--kind",
        "stalking",
        "--requested-on",
        "2025-04-01",
        "--note",
        "警察署の意見",
        "--against-family-name",
        "山田",
        "--against-given-name",
        "次郎",
        "--against-address",
        "大阪府大阪市北区1番",
    ]
    code, m, _ = run(record, capsys)
    assert code == 0 and m["in_force_today"] is True and m["kind"] == "stalking"
    starts = date.fromisoformat(m["periods"][0]["starts_on"])
    assert m["last_day"] == one_year_from(starts).isoformat()
    assert m["restrained"][0]["address"] == "大阪府大阪市北区1番"

    code, status, _ = run(["status", *db, wife.record_id], capsys)
    assert code == 0 and status["protected"] is True and status["until"] == m["last_day"]

    code, _, err = run(record, capsys)
    assert code == 1 and "[already_protected]" in err

    code, ended, _ = run(
        [
            "end",
            *db,
            m["measure_id"],
            "--on",
            m["periods"][0]["starts_on"],
            "--reason",
            "本人の申出",
        ],
        capsys,
    )
    assert code == 0 and ended["in_force_today"] is False
    code, status, _ = run(["status", *db, wife.record_id], capsys)
    assert status["protected"] is False
    code, listed, _ = run(["show", *db, "--record-id", wife.record_id], capsys)
    assert code == 0 and [x["measure_id"] for x in listed] == [m["measure_id"]]


def test_refused_input_names_the_field(
    backend: SqlBackend, migrated_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, wife, _ = family(backend)
    code, _, err = run(
        [
            "record",
            "--db",
            migrated_db_url,
            "--record-id",
            wife.record_id,
            "--kind",
            "child_abuse",
            "--requested-on",
            "2025-04-01",
            "--note",
            "児童相談所の意見",
            "--against-family-name",
            "山田",
            "--against-given-name",
            "次郎",
            "--against-kana",
            "yamada",
        ],
        capsys,
    )
    assert code == 1 and err.startswith("restrained.0.name_kana:")
    assert backend.rows("support_measures") == []
