"""`juki cert issue --third-party …` and `juki cert self-notice …`, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from juki import cli
from support.cert_population import CertEnv
from support.console_tokens import ConsoleTokens


@pytest.fixture
def console(env: CertEnv, monkeypatch: pytest.MonkeyPatch) -> CertEnv:
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
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def db(env: CertEnv) -> str:
    return env.engine.url.render_as_string(hide_password=False)


SCRIVENER = [
    "--third-party",
    "--basis",
    "entrusted",
    "--purpose",
    "受任した不動産登記（相続登記）の申請のため",
    "--requester-name",
    "山本　司",
    "--requester-address",
    "東京都府中市宮町1丁目1番1号",
    "--qualification",
    "judicial_scrivener",
    "--registration-number",
    "東京第1234号",
    "--client-name",
    "高橋　次郎",
    "--id-document",
    "professional_id",
    "--id-document-number",
    "司法書士会員証 1234",
]


def test_a_third_party_certificate_and_its_self_notice_from_the_console(
    console: CertEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = console.people.head.resident_code
    assert (
        run(
            ["cert", "self-notice", "register", "--db", db(console), "--resident-code", code],
            capsys,
        )[0]
        == 0
    )
    status, out, err = run(
        [
            "cert",
            "issue",
            "--db",
            db(console),
            "--resident-code",
            code,
            "--kind",
            "residence",
            *SCRIVENER,
            "--out",
            str(tmp_path / "c.pdf"),
        ],
        capsys,
    )
    assert status == 0, err
    status, out, _ = run(["cert", "register", "--db", db(console)], capsys)
    assert status == 0 and "第三者 司法書士　山本　司 (法12条の3第2項): 受任した不動産登記" in out
    status, out, _ = run(["cert", "register", "--db", db(console), "--json"], capsys)
    [entry] = json.loads(out)
    assert entry["requester"] == "third_party"
    assert entry["third_party"]["client_name"] == "高橋　次郎"
    status, out, _ = run(["cert", "self-notice", "list", "--db", db(console), "--json"], capsys)
    [notice] = json.loads(out)
    assert notice["resident_code"] == code
    assert notice["requester_name"] == "司法書士　山本　司"
    status, out, _ = run(
        ["cert", "self-notice", "sent", "--db", db(console), "--id", notice["notice_id"]], capsys
    )
    assert status == 0 and out.startswith("sent: ")
    status, out, _ = run(["cert", "self-notice", "list", "--db", db(console)], capsys)
    assert status == 0 and out == ""
    status, out, _ = run(
        ["cert", "self-notice", "withdraw", "--db", db(console), "--resident-code", code], capsys
    )
    assert status == 0 and out.startswith("withdrawn: ")


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("--purpose", "third_party.purpose"),
        ("--id-document", "third_party.id_document"),
        ("--basis", "third_party"),
    ],
)
def test_a_third_party_without_purpose_or_identification_exits_1_naming_the_field(
    console: CertEnv,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    drop: str,
    message: str,
) -> None:
    i = SCRIVENER.index(drop)
    args = SCRIVENER[:i] + SCRIVENER[i + 2 :]
    before = console.state()
    status, _, err = run(
        [
            "cert",
            "issue",
            "--db",
            db(console),
            "--kind",
            "residence",
            "--resident-code",
            console.people.head.resident_code,
            *args,
            "--out",
            str(tmp_path / "x.pdf"),
        ],
        capsys,
    )
    assert status == 1 and message in err, err
    assert console.state() == before
    assert not (tmp_path / "x.pdf").exists()
