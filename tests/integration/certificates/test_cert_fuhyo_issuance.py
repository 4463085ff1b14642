"""戸籍の附票の写し issued by the 本籍 municipality from the 附票 entries its CS recorded (法16条〜
20条), on SQLite and PostgreSQL: over the JSON API and the CLI, verified with `juki cert verify`;
支援措置 (the notice's flag, or this municipality's own measure) refusing a third party; a third
party's 申出 kept and the 本籍者 registered for 本人通知 told."""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pypdf import PdfReader

from juki import cli
from juki.certificates import tables as certificate_tables
from juki.certificates.model import CertificateKind, CertificateRequest, Requester, SupportOverride
from juki.certificates.services import certificate_register
from juki.certificates.services.self_notice import register_self_notice
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.certificates.third_party import IdDocument, RequestBasis, ThirdPartyRequest
from juki.core.errors import DomainRuleError
from juki.network.messages import FuhyoNotice
from juki.registry.store.journal import record_fuhyo
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import (
    AUDITOR,
    CLERK,
    HONSEKI,
    MANAGER,
    SUPERVISOR,
    CertEnv,
    cert_env,
    registry_app,
)
from support.console_tokens import ConsoleTokens
from support.pgserver import DatabasePool
from support.terminal_session import open_session

FUHYO = CertificateKind.FUHYO
TANASHI, FUJISAWA = "東京都西東京市田無町1番地", "神奈川県藤沢市辻堂1番地"
ICHIRO, HANAKO, SABURO = "24727059608", "13226000032", "13226000024"
FAMILY_HONSEKI = "東京都稲城市東長沼3番地"
CREDITOR = ThirdPartyRequest(
    basis=RequestBasis.OWN_RIGHTS,
    purpose="貸金返還請求のため、債務者の住所の履歴を確認する",
    requester_name="株式会社稲城信販",
    requester_address="東京都稲城市東長沼2丁目3番4号",
    id_document=IdDocument.DRIVER_LICENCE,
    id_document_number="第123456789012号",
    corporation=True,
    person_in_charge="田中　三郎",
)


def notice(code: str, given: str, address: str, since: date, **over: Any) -> FuhyoNotice:
    values: dict[str, Any] = {
        "resident_code": code,
        "family_name": "附票",
        "given_name": given,
        "family_name_kana": "フヒョウ",
        "given_name_kana": "タロウ",
        "birth_date": date(1970, 7, 7),
        "sex": "male",
        "honseki": FAMILY_HONSEKI,
        "koseki_head": "附票　一郎",
        "address": address,
        "address_since": since,
        "status": "active",
        "change_reason": "move_in",
        "changed_on": since,
        "from_lg_code": "132292",
    } | over
    return FuhyoNotice(**values)


def keep(env: CertEnv, *notices: FuhyoNotice) -> None:
    """What the CS does with 附票 notices for a 本籍 here (`MunicipalityNode._forward_fuhyo`)."""
    with env.engine.begin() as conn:
        for n in notices:
            record_fuhyo(conn, n, str(uuid.uuid4()), "2025-04-01T09:00:00+09:00")


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CertEnv]:
    """The populated registry as a 本籍 municipality: a family living elsewhere (one moved, one
    abroad, one dead, one protected by the notice) and a resident protected by its own measure."""
    tmp: Path = tmp_path_factory.mktemp("fuhyo")
    pool: DatabasePool | None = None
    if request.param == "postgres":
        pool = request.getfixturevalue("pg_pool")
        url = pool.take()
    else:
        url = f"sqlite:///{tmp}/registry.db"
    e = cert_env(url, tmp)
    supported = e.people.supported  # her own 支援措置 here; her notice carries no flag
    head = e.people.head  # lives here, 本籍 here: issued at the terminal
    keep(
        e,
        notice(
            head.resident_code,
            head.given_name,
            head.address,
            head.address_since,
            family_name=head.family_name,
            honseki=HONSEKI,
            koseki_head=head.koseki_head,
            from_lg_code="132250",
        ),
        notice(ICHIRO, "一郎", TANASHI, date(2020, 4, 1)),
        notice(ICHIRO, "一郎", FUJISAWA, date(2024, 4, 1), from_lg_code="142051"),
        notice(HANAKO, "花子", FUJISAWA, date(2024, 4, 1), sex="female", support_measure=True),
        notice(SABURO, "三郎", TANASHI, date(2020, 4, 1)),
        notice(
            SABURO,
            "三郎",
            TANASHI,
            date(2020, 4, 1),
            status="removed",
            change_reason="death",
            changed_on=date(2025, 2, 1),
        ),
        notice(
            supported.resident_code,
            supported.given_name,
            supported.address,
            supported.address_since,
            family_name=supported.family_name,
            sex="female",
            honseki=HONSEKI,
            koseki_head=supported.koseki_head,
            from_lg_code="132250",
        ),
    )
    yield e
    e.engine.dispose()
    if pool is not None:
        pool.give_back(url)


def db(env: CertEnv) -> str:
    return env.engine.url.render_as_string(hide_password=False)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def through_the_terminal(client: TestClient, token: str, env: CertEnv, resident_code: str) -> str:
    """A resident whose 本籍 is here, issued their 附票の写し at the counter terminal."""
    open_session(client, env.engine, token, "T01")
    page = client.get("/terminal/certificates/new", params={"code": resident_code}).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf and 'value="fuhyo"' in page
    form = {
        "csrf": csrf.group(1),
        "resident_code": resident_code,
        "kind": "fuhyo",
        "members": [resident_code],
        "copies": "1",
        "requester": "self",
    }
    confirm = client.post("/terminal/certificates/confirm", data=form)
    assert confirm.status_code == 200 and "戸籍の附票の写し" in confirm.text, confirm.text
    done = client.post("/terminal/certificates", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    certificate_id = done.headers["location"].split("?")[0].split("/")[-1]
    with env.desk.uow() as uow:
        return uow.certificates.get(certificate_id).kind.value


def test_a_copy_over_the_api_shows_the_history_and_verifies(
    env: CertEnv,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = create_operator(
        SqlUnitOfWork(env.engine, clock=env.reg.clock),
        MANAGER,
        "clerk-f",
        "窓口 附票",
        Role.COUNTER_CLERK,
    )
    body = {"kind": "fuhyo", "resident_code": ICHIRO, "items": ["honseki"]}
    with TestClient(registry_app(env), base_url="https://testserver") as client:
        answer = client.post(
            "/api/v1/certificates/counter", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        schema = client.get("/openapi.json").text
        terminal_kind = through_the_terminal(client, token, env, env.people.head.resident_code)
    assert terminal_kind == "fuhyo"
    assert answer.status_code == 200, answer.text
    assert answer.json()["title"] == "戸籍の附票の写し" and answer.json()["kind"] == "fuhyo"
    assert '"fuhyo"' in schema
    pdf = base64.b64decode(answer.json()["pdf_base64"])
    text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "戸籍の附票の写し" in text and FAMILY_HONSEKI in text
    assert TANASHI in text and FUJISAWA in text and ICHIRO not in text  # 住民票コード: not asked
    path = tmp_path / "fuhyo.pdf"
    path.write_bytes(pdf)
    monkeypatch.setenv("JUKI_KEYS_DIR", env.desk.settings.keys_dir)
    monkeypatch.delenv("JUKI_ROOT_CERT", raising=False)
    code, out, _ = run(["cert", "verify", str(path), "--json", "--db", db(env)], capsys)
    verdict = json.loads(out)
    assert code == 0 and verdict["status"] == "valid" and verdict["names"] == ["附票\u3000一郎"]


def test_the_removed_copy_from_the_cli(
    env: CertEnv,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUKI_KEYS_DIR", env.desk.settings.keys_dir)
    monkeypatch.setenv("JUKI_PRINT_DIR", str(env.tmp / "print"))
    for name in ("JUKI_ROOT_CERT", "JUKI_SIGNING_KEY", "JUKI_SIGNING_CERT", "JUKI_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    clerk = ["--token", ConsoleTokens(env.engine).token(Role.COUNTER_CLERK)]
    issue = ["cert", "issue", *clerk, "--db", db(env), "--resident-code", SABURO, "--kind", "fuhyo"]
    elsewhere = ["cert", "issue", *clerk, "--db", db(env), "--kind", "fuhyo"]
    elsewhere += ["--out", str(tmp_path / "c")]
    code, _, err = run([*elsewhere, "--resident-code", env.people.foreigner.resident_code], capsys)
    assert code == 1 and "[no_fuhyo]" in err  # no 本籍 here
    code, _, err = run([*issue, "--out", str(tmp_path / "a.pdf")], capsys)
    assert code == 1 and "[removed_from_fuhyo]" in err
    code, out, err = run([*issue, "--removed", "--out", str(tmp_path / "b.pdf")], capsys)
    assert code == 0, err
    assert "戸籍の附票の除票の写し" in out


def test_support_measure_refuses_a_third_party_and_changes_nothing(env: CertEnv) -> None:
    before = env.state()
    for code in (HANAKO, env.people.supported.resident_code):  # the notice's flag; its own measure
        with pytest.raises(DomainRuleError) as err:
            env.desk.issue(
                CLERK,
                CertificateRequest(
                    FUHYO, code, requester=Requester.THIRD_PARTY, third_party=CREDITOR
                ),
            )
        assert err.value.rule == "support_measure" and "支援措置" in err.value.message_ja
        with pytest.raises(DomainRuleError) as own:
            env.desk.issue(CLERK, CertificateRequest(FUHYO, code))
        assert own.value.rule == "support_measure"
    with pytest.raises(DomainRuleError):  # the family's 全部 shows 花子 too
        env.desk.issue(
            CLERK,
            CertificateRequest(
                FUHYO, ICHIRO, members="all", requester=Requester.THIRD_PARTY, third_party=CREDITOR
            ),
        )
    assert env.state() == before
    override = SupportOverride("", "本人が来庁、運転免許証で確認（加害者でないことを確認）")
    issued = env.desk.issue(
        SUPERVISOR, CertificateRequest(FUHYO, HANAKO, support_override=override)
    )
    assert issued.content.names == ("附票\u3000花子",)


def test_a_third_partys_request_is_kept_and_the_honseki_person_is_notified(env: CertEnv) -> None:
    uow = SqlCertificateUnitOfWork(env.engine, clock=env.reg.clock)
    register_self_notice(uow, CLERK, ICHIRO)  # not a resident here: a 本籍者
    with pytest.raises(DomainRuleError) as err:
        env.desk.issue(
            CLERK,
            CertificateRequest(
                FUHYO,
                ICHIRO,
                items=frozenset({"resident_code"}),  # type: ignore[arg-type]
                requester=Requester.THIRD_PARTY,
                third_party=CREDITOR,
            ),
        )
    assert err.value.rule == "third_party_identifiers"
    issued = env.desk.issue(
        CLERK,
        CertificateRequest(FUHYO, ICHIRO, requester=Requester.THIRD_PARTY, third_party=CREDITOR),
    )
    t = certificate_tables
    with env.engine.connect() as conn:
        kept = conn.execute(
            sa.select(t.third_party_requests.c.purpose).where(
                t.third_party_requests.c.certificate_id == issued.certificate_id
            )
        ).scalar_one()
        notices = (
            conn.execute(
                sa.select(t.self_notices).where(
                    t.self_notices.c.certificate_id == issued.certificate_id
                )
            )
            .mappings()
            .all()
        )
    assert kept == CREDITOR.purpose
    assert [(n["resident_code"], n["kind"], n["recipient_address"]) for n in notices] == [
        (ICHIRO, "fuhyo", FUJISAWA)
    ]
    register = certificate_register(uow, AUDITOR, None)
    [line] = [e for e in register if e.certificate_id == issued.certificate_id]
    assert line.kind is FUHYO and line.requester == "third_party"
    assert line.third_party is not None and line.third_party.purpose == CREDITOR.purpose
