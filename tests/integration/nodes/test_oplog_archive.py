"""Closed months sealed as signed archives that verify on their own; pruning only sealed months
past seven years (seed 001 第20第2項, seed 002 第15条: 操作履歴は７年前まで遡って解析できるよう
保管); the chain still verifies from the newest pruned month's seal. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from juki.cli import main
from juki.core.clock import JST
from juki.core.ports import OpLogEntry
from juki.network import pki
from juki.nodes.oplog_archive import ArchiveError, export_month, prune, verify_archive
from juki.security.actors import Actor
from juki.security.oplog_verify import verify_chain
from juki.security.permissions import Role
from juki.security.store import append_entry
from juki.security.tables import oplog, oplog_seals
from juki.storage.engine import make_engine
from support.console_tokens import ConsoleTokens

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=JST)
MANAGER = Actor("manager", Role.OPERATIONS_MANAGER, "console")
MONTHS = ("2019-02", "2019-03", "2026-10", "2026-11")


def _entry(at: datetime, i: int) -> OpLogEntry:
    return OpLogEntry(at, "clerk", "counter_clerk", "T1", "view_record", f"r{i}", "ok")


def test_export_seal_verify_and_prune(
    migrated_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root_key, root_cert = pki.create_root(datetime(2019, 1, 1, tzinfo=JST))
    key, cert = pki.issue_key_pair(
        root_key, root_cert, node_id="132250", kind="municipality", now=NOW
    )
    (tmp_path / "key.pem").write_bytes(pki.key_to_pem(key))
    (tmp_path / "cert.pem").write_bytes(pki.cert_to_pem(cert))
    (tmp_path / "root.pem").write_bytes(pki.cert_to_pem(root_cert))
    engine = make_engine(migrated_db_url)
    try:
        with engine.begin() as conn:
            for i, month in enumerate(MONTHS):
                for day in (3, 20):
                    year, mon = map(int, month.split("-"))
                    append_entry(conn, _entry(datetime(year, mon, day, 10, tzinfo=JST), i))

        with pytest.raises(ArchiveError, match="not closed"):
            export_month(engine, "2026-11", key, cert, MANAGER, NOW)
        data, _ = export_month(engine, "2019-02", key, cert, MANAGER, NOW)
        with pytest.raises(ArchiveError, match="not exported and sealed yet: 2019-03"):
            prune(engine, "2019-04", MANAGER, NOW)
        with pytest.raises(ArchiveError, match="kept seven years"):
            prune(engine, "2020-01", MANAGER, NOW)

        # the command line: export, and the archive verifies alone
        archive = tmp_path / "2019-03.json"
        args = ["--db", migrated_db_url, "--month", "2019-03", "--out", str(archive)]
        keys = ["--key", str(tmp_path / "key.pem"), "--cert", str(tmp_path / "cert.pem")]
        tokens = ConsoleTokens(engine)
        assert main(tokens.argv(["oplog", "export", *args, *keys])) == 0
        root = ["--root", str(tmp_path / "root.pem")]
        assert main(["oplog", "verify", "--archive", str(archive), *root]) == 0
        assert verify_archive(data).holds
        document = json.loads(archive.read_text(encoding="utf-8"))
        assert [e["seq"] for e in document["entries"]] == [3, 4]

        document["entries"][1]["target"] = "someone else"
        tampered = tmp_path / "tampered.json"
        tampered.write_text(json.dumps(document), encoding="utf-8")
        assert main(["oplog", "verify", "--archive", str(tampered)]) == 1
        assert "signature" in capsys.readouterr().out

        assert prune(engine, "2019-04", MANAGER, NOW) == ["2019-02", "2019-03"]
        with engine.connect() as conn:
            kept = conn.execute(sa.select(oplog.c.seq).order_by(oplog.c.seq)).scalars().all()
            sealed = conn.execute(sa.select(oplog_seals.c.month, oplog_seals.c.pruned_at)).all()
            assert verify_chain(conn) is None
        assert kept[:4] == [5, 6, 7, 8]
        assert all(pruned is not None for _m, pruned in sealed)
        assert main(tokens.argv(["oplog", "verify", "--db", migrated_db_url])) == 0
        prune_late = ["oplog", "prune", "--db", migrated_db_url, "--before", "2026-01"]
        assert main(tokens.argv(prune_late)) == 1
    finally:
        engine.dispose()


def test_the_oplog_commands_need_a_token_with_their_permission_and_log_each_use(
    migrated_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify, report, export and prune read or expose the log: without a token they change
    nothing; a role without the permission is refused and the refusal is in the oplog; an
    auditor verifies and reports, and each use is logged."""
    engine = make_engine(migrated_db_url)
    try:
        with engine.begin() as conn:
            append_entry(conn, _entry(datetime(2019, 2, 3, 10, tzinfo=JST), 0))
        tokens = ConsoleTokens(engine)
        auditor, clerk = tokens.token(Role.AUDITOR), tokens.token(Role.COUNTER_CLERK)
        db = ["--db", migrated_db_url]
        export = ["oplog", "export", *db, "--month", "2019-02", "--out", str(tmp_path / "a.json")]
        root_key, root_cert = pki.create_root(datetime(2019, 1, 1, tzinfo=JST))
        key, cert = pki.issue_key_pair(
            root_key, root_cert, node_id="132250", kind="municipality", now=NOW
        )
        (tmp_path / "key.pem").write_bytes(pki.key_to_pem(key))
        (tmp_path / "cert.pem").write_bytes(pki.cert_to_pem(cert))
        signer = ["--key", str(tmp_path / "key.pem"), "--cert", str(tmp_path / "cert.pem")]
        commands = {
            "verify": ["oplog", "verify", *db],
            "report": ["oplog", "report", *db, "--since", "2019-01-01"],
            "export": [*export, *signer],
            "prune": ["oplog", "prune", *db, "--before", "2019-03"],
        }

        def log() -> list[tuple[str, str, str]]:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.select(oplog.c.actor_id, oplog.c.action, oplog.c.outcome).order_by(
                        oplog.c.seq
                    )
                )
                return [tuple(r) for r in rows]

        before = log()
        for name, argv in commands.items():
            assert main(argv) == 1, name
            assert "token" in capsys.readouterr().err, name
        assert log() == before  # no credential: nothing opened, nothing written
        for name, argv in commands.items():
            refused_by = clerk if name in ("verify", "report") else auditor
            assert main([*argv, "--token", refused_by]) == 1, name
        denied = [(a, act) for a, act, o in log()[len(before) :] if o == "denied"]
        assert denied == [
            ("cli-counter-clerk", "view_oplog"),
            ("cli-counter-clerk", "view_oplog"),
            ("cli-auditor", "export_oplog"),
            ("cli-auditor", "prune_oplog"),
        ]
        with engine.connect() as conn:
            assert conn.execute(sa.select(oplog_seals)).first() is None
        capsys.readouterr()
        assert main([*commands["verify"], "--token", auditor]) == 0
        assert main([*commands["report"], "--token", auditor]) == 0
        assert log()[-2:] == [
            ("cli-auditor", "view_oplog", "ok"),
            ("cli-auditor", "view_oplog", "ok"),
        ]
    finally:
        engine.dispose()
