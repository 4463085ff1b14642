"""`juki agency add|list|withdraw` and `juki task load|list` on a network's national node, once:
the credential issued, a register file loaded and amended, bad input one line, and each use
(refused ones included) in the national oplog."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography import x509

from juki import cli
from juki.network import pki
from juki.network.pki import fingerprint
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.nodes.netinit import free_ports, init_network
from juki.provision.register_file import FORMAT
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.storage.engine import make_engine
from support.console_tokens import ConsoleTokens

TASK = {
    "table": "第一",
    "row": "九十一",
    "title": "年金給付",
    "items": ["name", "birth_date", "sex", "address", "my_number"],
    "my_number_task": True,
    "agencies": ["nenkin"],
    "effective_from": "2016-01-01",
}


def register_file(path: Path, **task: object) -> str:
    agency = {"id": "nenkin", "name": "日本年金機構", "kind": "corporation"}
    doc = {"format": FORMAT, "agencies": [agency], "tasks": [{**TASK, **task}]}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_a_national_operator_registers_an_agency_and_loads_and_amends_its_tasks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "net"
    init_network(root, layout="small", base_port=free_ports(29600, 1)[0])
    files = NetworkFiles(root.resolve())
    config = NodeConfig.load(files.node_file("national"))
    engine = make_engine(config.db)
    tokens = ConsoleTokens(engine)
    operator, auditor = tokens.token(Role.NATIONAL_OPERATOR), tokens.token(Role.AUDITOR)
    out = tmp_path / "agencies"
    d = ["--dir", str(root)]
    add = [
        "agency",
        "add",
        *d,
        "--name",
        "日本年金機構",
        "--kind",
        "corporation",
        "--out",
        str(out),
    ]

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        got = capsys.readouterr()
        return code, got.out, got.err

    code, _, err = run(*add, "--agency-id", "nenkin", "--token", auditor)
    assert code == 1 and "権限がありません" in err and not out.exists()
    code, _, err = run(*add, "--agency-id", "年金", "--token", operator)
    assert code == 1 and err.startswith("agency_id:") and "機関ID" in err
    code, printed, _ = run(*add, "--agency-id", "nenkin", "--token", operator)
    assert code == 0
    assert stat.S_IMODE((out / "nenkin.key").stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate((out / "nenkin.pem").read_bytes())
    assert json.loads(printed)["certificate_sha256"] == fingerprint(cert)
    named = pki.check_issued_by(
        cert, pki.cert_from_pem(files.root_certificate.read_bytes()), cert.not_valid_before_utc
    )
    assert (named.node_id, named.kind) == ("nenkin", "agency")

    bad = register_file(tmp_path / "bad.json", items=["name", "my_number"], my_number_task=False)
    code, _, err = run("task", "load", *d, bad, "--token", operator)
    assert (
        code == 1 and err.startswith("tasks[0] (別表第一 の 九十一).items:") and "個人番号" in err
    )
    good = register_file(tmp_path / "good.json")
    code, printed, _ = run("task", "load", *d, good, "--token", operator)
    assert code == 0 and json.loads(printed)["added"] == ["別表第一 の 九十一 from 2016-01-01"]
    amended = register_file(tmp_path / "amended.json", withdrawn_on="2025-04-01")
    code, printed, _ = run("task", "load", *d, amended, "--token", operator)
    assert code == 0 and json.loads(printed)["withdrawn"] == ["別表第一 の 九十一 from 2016-01-01"]
    code, printed, _ = run("task", "list", *d, "--on", "2026-01-01", "--json", "--token", auditor)
    assert code == 0 and json.loads(printed) == []
    code, printed, _ = run("task", "list", *d, "--on", "2020-01-01", "--json", "--token", auditor)
    assert [(t["withdrawn_on"], t["fuhyo"]) for t in json.loads(printed)] == [("2025-04-01", False)]
    # 住基法30条の44の6: a 別表第一 row may not use the 附票, and the load says which article
    abroad = register_file(tmp_path / "abroad.json", fuhyo=True)
    code, _, err = run("task", "load", *d, abroad, "--token", operator)
    assert code == 1 and err.startswith("tasks[0] (別表第一 の 九十一).fuhyo:")
    assert "30条の44の6" in err

    assert run("agency", "withdraw", *d, "--agency-id", "nenkin", "--token", operator)[0] == 0
    code, _, err = run("agency", "withdraw", *d, "--agency-id", "nenkin", "--token", operator)
    assert code == 1 and "利用中の機関として登録されていません" in err
    code, printed, _ = run("agency", "list", *d, "--json", "--token", auditor)
    assert [(a["agency_id"], a["status"]) for a in json.loads(printed)] == [("nenkin", "withdrawn")]

    o = oplog.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(o.action, o.outcome, o.role)
            .where(o.action.like("%provision_register"))
            .order_by(o.seq)
        ).all()
    engine.dispose()
    manage, view = "manage_provision_register", "view_provision_register"
    assert [tuple(r) for r in rows] == [
        (manage, "denied", "auditor"),
        (manage, "rejected", "national_operator"),  # the agency id
        (manage, "ok", "national_operator"),
        (manage, "ok", "national_operator"),  # loaded (the bad file never reached the service)
        (manage, "ok", "national_operator"),  # amended
        (view, "ok", "auditor"),
        (view, "ok", "auditor"),
        (manage, "ok", "national_operator"),  # withdrawn
        (manage, "rejected", "national_operator"),
        (view, "ok", "auditor"),
    ]
