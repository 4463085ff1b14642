"""`juki ledger …` on one SQLite registry: a day of the ledgers from the console (a permission,
the entry and exit, an item and its change, a contract lacking clauses, an incident through
its steps), `--json`, bad input as one line naming the field, and every change in the oplog
under the operator whose token was given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from juki import cli
from juki.core.clock import SystemClock
from juki.governance.ledgers.model import STEPS, IncidentKind
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.storage.engine import make_engine
from juki.storage.migrate import create_migrated
from support.console_tokens import ConsoleTokens


class Console:
    """`juki …` on one registry, as an operator of the role given (one per role)."""

    def __init__(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self._tokens = ConsoleTokens(make_engine(url))
        self._capsys = capsys

    def __call__(self, *argv: str, role: Role = Role.SYSTEM_ADMINISTRATOR) -> tuple[int, str, str]:
        code = cli.main([*argv, "--db", self.url, "--token", self._tokens.token(role)])
        out = self._capsys.readouterr()
        return code, out.out, out.err


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Console:
    url = f"sqlite:///{tmp_path}/registry.db"
    create_migrated(url)
    return Console(url, capsys)


def test_a_day_of_the_ledgers_from_the_console(run: Console) -> None:
    today = SystemClock().now().date().isoformat()
    assert run(
        "ledger", "room", "permit", "--room", "server_room", "--name", "保守 次郎",
        "--org", "株式会社保守", "--purpose", "CS保守点検", "--on", today,
    )[:2] == (0, f"room access 1 permitted: server_room on {today}\n")  # fmt: skip
    assert run("ledger", "room", "enter", "1", role=Role.OPERATIONS_MANAGER)[0] == 0
    assert run("ledger", "room", "exit", "1", role=Role.OPERATIONS_MANAGER)[0] == 0
    code, out, _ = run("ledger", "room", "list", "--json", role=Role.AUDITOR)
    (line,) = json.loads(out)
    assert (code, line["state"], line["approved_by"]) == (0, "exited", "cli-system-administrator")

    code, _, err = run(
        "ledger", "config", "add", "--kind", "device", "--name", "CS", "--model", "XS-100",
        "--version", "1.0", "--location", "電算室", "--reason", "導入",
    )  # fmt: skip
    assert code == 0, err
    assert run("ledger", "config", "change", "1", "--version", "1.1", "--reason", "更新")[0] == 0
    code, out, _ = run("ledger", "config", "history", "1", "--json", role=Role.AUDITOR)
    assert [h["detail"] for h in json.loads(out)][1] == "version: 1.0 → 1.1"

    contract = ["ledger", "contract", "add", "--id", "K-1", "--contractor", "保守会社",
                "--subject", "CS保守", "--from", "2026-04-01", "--to", "2027-03-31",
                "--clause", "confidentiality"]  # fmt: skip
    code, out, err = run(*contract, role=Role.OPERATIONS_MANAGER)
    assert (code, out) == (1, "")
    assert err.startswith("clauses: missing mandatory clauses: no_subcontracting")
    code, out, _ = run(*contract, "--non-compliant", role=Role.OPERATIONS_MANAGER)
    assert code == 0 and "non_compliant; missing: no_subcontracting" in out
    code, out, _ = run("ledger", "contract", "list", "--json", role=Role.AUDITOR)
    assert json.loads(out)[0]["missing"][0] == "no_subcontracting"

    code, out, _ = run("ledger", "incident", "open", "--kind", "failure", "--title", "CS停止")
    assert code == 0 and out.endswith("next step: respond\n")
    code, _, err = run("ledger", "incident", "close", "1", "--note", "復旧")
    assert (code, err.split(":")[0]) == (1, "incident_id")
    for step in STEPS[IncidentKind.FAILURE]:
        assert run("ledger", "incident", "step", "1", "--step", step.code, "--note", "済")[0] == 0
    assert run("ledger", "incident", "close", "1", "--note", "復旧")[0] == 0
    code, out, _ = run("ledger", "incident", "show", "1", role=Role.AUDITOR)
    assert "終結" in out and "障害対策マニュアルの作業手順による対処" in out

    code, _, err = run("ledger", "incident", "open", "--kind", "failure", "--title", "x",
                       role=Role.COUNTER_CLERK)  # fmt: skip
    assert (code, err) == (
        1,
        "error: actor cli-counter-clerk is not permitted to report_incident\n",
    )

    engine = make_engine(run.url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(oplog.c.action, oplog.c.outcome).where(oplog.c.action.in_(
                ["approve_room_access", "record_room_access", "manage_config_ledger",
                 "manage_contracts", "report_incident", "handle_incident"]))
        ).all()  # fmt: skip
    engine.dispose()
    ok = [a for a, o in rows if o == "ok"]
    assert ok.count("record_room_access") == 2 and ok.count("manage_config_ledger") == 2
    assert ok.count("handle_incident") == len(STEPS[IncidentKind.FAILURE]) + 1
    assert ("manage_contracts", "rejected") in rows and ("report_incident", "denied") in rows
