"""`juki cert …` as the issue's command-line contract describes it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from juki import cli
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from support.cert_population import MANAGER, CertEnv
from support.console_tokens import ConsoleTokens


@pytest.fixture
def console(env: CertEnv, monkeypatch: pytest.MonkeyPatch) -> CertEnv:
    """The CLI reads its keys and print directory from the environment, like a deployment."""
    monkeypatch.setenv("JUKI_KEYS_DIR", env.desk.settings.keys_dir)
    monkeypatch.setenv("JUKI_PRINT_DIR", str(env.tmp / "print"))
    monkeypatch.setenv("JUKI_PUBLIC_URL", "http://verify.test")
    for name in ("JUKI_ROOT_CERT", "JUKI_SIGNING_KEY", "JUKI_SIGNING_CERT", "JUKI_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # Each command runs as an operator of the role it needs (support.console_tokens).
    monkeypatch.setattr(sys.modules[__name__], "TOKENS", ConsoleTokens(env.engine))
    return env


TOKENS: ConsoleTokens | None = None


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = cli.main(TOKENS.argv(argv) if TOKENS is not None else argv)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def db(env: CertEnv) -> str:
    return env.engine.url.render_as_string(hide_password=False)


def test_issue_then_verify(
    console: CertEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = console.people
    out_file = tmp_path / "family.pdf"
    code, out, err = run(
        [
            "cert",
            "issue",
            "--db",
            db(console),
            "--resident-code",
            p.head.resident_code,
            "--kind",
            "residence",
            "--members",
            "all",
            "--items",
            "honseki,householder,resident-code,my-number,former-surname",
            "--copies",
            "2",
            "--out",
            str(out_file),
        ],
        capsys,
    )
    assert code == 0, err
    assert "住民票の写し" in out and "2 copy(ies)" in out and "fee 600 yen" in out
    assert out_file.exists() and out_file.stat().st_mode & 0o077 == 0
    code, out, _ = run(["cert", "verify", str(out_file), "--db", db(console)], capsys)
    assert code == 0 and "VALID" in out and "status:         valid" in out
    certificate_id = next(
        line.split(": ")[1] for line in out.splitlines() if "certificate id" in line
    )
    code, out, _ = run(
        ["cert", "void", "--db", db(console), "--id", certificate_id, "--reason", "誤交付"], capsys
    )
    assert code == 0 and "void" in out
    code, out, _ = run(["cert", "verify", str(out_file), "--db", db(console), "--json"], capsys)
    assert code == 1 and json.loads(out)["reason"] == "voided"
    code, out, _ = run(["cert", "register", "--db", db(console), "--json"], capsys)
    assert code == 0
    assert [e["event"] for e in json.loads(out)] == ["voided", "issued"]
    # run as an auditor (support.console_tokens): no 住民票コード (view_resident_code)
    assert [e["subject_resident_code"] for e in json.loads(out)] == [None, None]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resident-code", "24727059609"], "check digit"),
        (["--resident-code", "abc"], "resident_code"),
        (["--resident-code", "{head}", "--items", "honseki,passport"], "unknown item"),
        (["--resident-code", "{head}", "--copies", "0"], "copies"),
        (["--resident-code", "{head}", "--members", "all,"], "members"),
        (["--resident-code", "{removed}"], "removed"),
        (["--resident-code", "{abolished}", "--kind", "seal"], "no_live_seal"),
        (["--resident-code", "{head}", "--third-party", "--items", "my-number"], "third party"),
        (["--resident-code", "{supported}"], "support measures"),
        (["--resident-code", "{supported}", "--support-override", "本人"], "not permitted"),
    ],
)
def test_issue_refusals_exit_1_and_change_nothing(
    console: CertEnv,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    p = console.people
    codes = {
        "{head}": p.head.resident_code,
        "{removed}": p.removed.resident_code,
        "{abolished}": p.abolished.resident_code,
        "{supported}": p.supported.resident_code,
    }
    argv = ["cert", "issue", "--db", db(console), "--out", str(tmp_path / "x.pdf")]
    argv += [codes.get(a, a) for a in args]
    if "--kind" not in argv:
        argv += ["--kind", "residence"]
    before = console.state()
    code, _, err = run(argv, capsys)
    assert code == 1 and message in err, err
    assert console.state() == before
    assert not (tmp_path / "x.pdf").exists()


def test_usage_errors(console: CertEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["cert", "issue", "--db", db(console), "--kind", "passport"], capsys)
    assert code == 2 and "invalid choice" in err
    code, _, err = run(
        [
            "cert",
            "issue",
            "--db",
            db(console),
            "--kind",
            "seal",
            "--resident-code",
            console.people.sealed.resident_code,
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 1 and "is a directory" in err
    code, _, err = run(
        [
            "cert",
            "issue",
            "--db",
            f"sqlite:///{tmp_path}/empty.db",
            "--kind",
            "seal",
            "--resident-code",
            "24727059608",
            "--out",
            str(tmp_path / "y.pdf"),
        ],
        capsys,
    )
    assert code == 1 and "juki db upgrade" in err


def test_operator_tokens_carry_their_roles(
    console: CertEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The command checks the token against the time of day: issue it at the time of day too.
    clerk_token = create_operator(
        SqlUnitOfWork(console.engine),
        MANAGER,
        "clerk-9",
        "窓口 九郎",
        Role.COUNTER_CLERK,
    )
    out_file = tmp_path / "seal.pdf"
    code, out, err = run(
        [
            "cert",
            "issue",
            "--db",
            db(console),
            "--kind",
            "seal",
            "--resident-code",
            console.people.sealed.resident_code,
            "--out",
            str(out_file),
            "--operator-token",
            clerk_token,
            "--terminal",
            "T07",
        ],
        capsys,
    )
    assert code == 0, err
    assert "-T07-" in out
    certificate_id = out.split(") ")[1].split(":")[0]
    code, _, err = run(
        [
            "cert",
            "void",
            "--db",
            db(console),
            "--id",
            certificate_id,
            "--reason",
            "x",
            "--operator-token",
            clerk_token,
        ],
        capsys,
    )
    assert code == 1 and "not permitted" in err
    code, _, err = run(
        [
            "cert",
            "void",
            "--db",
            db(console),
            "--id",
            certificate_id,
            "--reason",
            "x",
            "--operator-token",
            "nobody",
        ],
        capsys,
    )
    assert code == 1 and "token: the bearer token is not valid" in err


def test_a_command_without_a_credential_changes_nothing(
    console: CertEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No implicit clerk: without --token or JUKI_TOKEN every command that reads or changes
    personal data exits 1 naming the token, and the registry and the oplog stay as they were."""
    code = console.people.sealed.resident_code
    commands = [
        ["cert", "issue", "--kind", "seal", "--resident-code", code, "--out", str(tmp_path / "x")],
        ["cert", "void", "--id", "C-1", "--reason", "x"],
        ["cert", "fee", "--kind", "seal", "--yen", "100"],
        ["cert", "register"],
        ["cert", "self-notice", "register", "--resident-code", code],
        ["registry", "stats"],
        ["registry", "support", "status", "r-1"],
    ]
    with console.engine.connect() as conn:
        log_before = conn.execute(sa.select(sa.func.count()).select_from(oplog)).scalar_one()
    before = console.state()
    for argv in commands:
        status, out, err = run([*argv, "--db", db(console), "--token", ""], capsys)
        assert status == 1 and err.startswith("token: this command reads or changes"), argv
        assert out == ""
    assert console.state() == before
    with console.engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(oplog)).scalar_one() == log_before
        )
    assert not (tmp_path / "x").exists()


def test_fee_and_spoiled_copy(
    console: CertEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["cert", "fee", "--db", db(console), "--kind", "seal", "--yen", "200"], capsys
    )
    assert code == 0 and "200 yen" in out
    code, _, err = run(
        ["cert", "fee", "--db", db(console), "--kind", "seal", "--yen", "-5"], capsys
    )
    assert code == 1 and "fee_yen" in err
    out_file = tmp_path / "s.pdf"
    code, out, _ = run(
        [
            "cert",
            "issue",
            "--db",
            db(console),
            "--kind",
            "seal",
            "--resident-code",
            console.people.sealed.resident_code,
            "--copies",
            "2",
            "--out",
            str(out_file),
        ],
        capsys,
    )
    assert code == 0 and "fee 400 yen" in out
    certificate_id = out.split(") ")[1].split(":")[0]
    number = out.split("copy(ies) ")[1].split(",")[0]
    code, out, _ = run(
        [
            "cert",
            "spoil",
            "--db",
            db(console),
            "--id",
            certificate_id,
            "--issue-number",
            number,
            "--disposal",
            "紙詰まり、「無効」印を押して裁断",
        ],
        capsys,
    )
    assert code == 0 and number in out
