"""`juki operator card|terminal|transfer|unlock|ledger` from the console, on SQLite and
PostgreSQL: the card's key is made on a SoftHSM2 card and registered by the 暗証番号管理者 (whose
token it takes: the console alone may not), a terminal is registered for its municipality, a
transfer takes the card back, and the ledger shows each with who did it."""

from __future__ import annotations

import json
import uuid

import pytest

from juki.cli import main
from juki.security.permissions import Role
from juki.storage.engine import make_engine
from support.console_tokens import ConsoleTokens
from support.softhsm import new_card


def test_card_terminal_transfer_and_the_ledger(
    migrated_db_url: str,
    softhsm: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = ["--db", migrated_db_url]
    label = f"cli-{uuid.uuid4().hex[:10]}"
    new_card(label, "8642")
    monkeypatch.setenv("JUKI_PKCS11_MODULE", softhsm)
    monkeypatch.setenv("JUKI_CARD_PIN", "8642")
    monkeypatch.delenv("JUKI_TOKEN", raising=False)
    assert (
        main(
            ["operator", "add", *db, "--id", "c1", "--name", "窓口 一郎", "--role", "counter_clerk"]
        )
        == 0
    )
    card = ["operator", "card", *db, "--id", "c1", "--label", label]
    assert main(card) == 1  # the console is no 暗証番号管理者
    assert "not permitted to issue_operator_card" in capsys.readouterr().err
    engine = make_engine(migrated_db_url)
    try:
        pin_manager = ConsoleTokens(engine).token(Role.PIN_MANAGER)
    finally:
        engine.dispose()
    assert main([*card, "--token", pin_manager]) == 0
    assert "card 1 issued to c1" in capsys.readouterr().out
    terminal = ["operator", "terminal", *db, "--terminal-id", "T01", "--description", "窓口1"]
    assert main([*terminal, "--municipality", "132251"]) == 1
    assert "[check_digit]" in capsys.readouterr().err
    assert main([*terminal, "--municipality", "132250"]) == 0
    assert main(["operator", "unlock", *db, "--id", "c1", "--reason", "x"]) == 1
    assert "[not_locked]" in capsys.readouterr().err
    transfer = ["operator", "transfer", *db, "--id", "c1", "--role", "registry_supervisor"]
    assert main([*transfer, "--reason", "4月1日付 異動"]) == 0
    assert capsys.readouterr().out.strip()  # the new enrolment code
    assert main(["operator", "ledger", *db, "--id", "c1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["event"], r["by_role"]) for r in rows] == [
        ("registered", "access_manager"),
        ("card_issued", "pin_manager"),
        ("transferred", "access_manager"),
    ]
    assert "cards withdrawn 1" in rows[-1]["detail"]
