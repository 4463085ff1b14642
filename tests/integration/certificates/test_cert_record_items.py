"""The record items as the law reads them, issued end to end (services, storage, PDF), on SQLite
and PostgreSQL: 旧氏 unasked on every kind, a foreign resident's certificate, the items of a
記載事項証明書, and the mayor who certifies."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from juki import cli
from juki.certificates.model import CertificateKind, CertificateRequest, OptionalItem
from juki.certificates.render import DOCUMENT_NAME
from juki.certificates.services.signatory import set_mayor
from juki.core.errors import PermissionDeniedError, ValidationError
from juki.registry.commands import DeleteAlias, RecordAlias
from juki.registry.services.people import delete_alias, record_alias
from support.cert_population import CLERK, MANAGER, CertEnv
from support.console_tokens import ConsoleTokens


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def embedded_document(pdf: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PdfReader(io.BytesIO(pdf)).attachments[DOCUMENT_NAME][0])
    return loaded


def lines(result: Any) -> dict[str, str]:
    return {line.key: line.value for person in result.content.persons for line in person.lines}


def squeezed(pdf: bytes) -> str:
    return "".join(pdf_text(pdf).split())


@pytest.mark.parametrize(
    "kind", [CertificateKind.RESIDENCE, CertificateKind.RECORD_ITEMS, CertificateKind.SEAL]
)
def test_former_surname_on_every_kind_unasked(read_env: CertEnv, kind: CertificateKind) -> None:
    """令第30条の13, 法第12条第5項: the wife's 旧氏 佐藤 is printed though nobody asked for
    it; the seal certificate prints it without its reading (サトウ)."""
    wife = read_env.people.wife
    result = read_env.desk.issue(CLERK, CertificateRequest(kind, wife.resident_code))
    text = squeezed(result.pdf)
    assert "旧氏" in text and "佐藤" in text
    assert lines(result)["former_surname"] == "佐藤"
    assert ("サトウ" in text) is (kind is not CertificateKind.SEAL)


def test_foreign_residents_certificate(env: CertEnv) -> None:
    """法第30条の45: 外国人住民となった年月日, the 在留 items when asked, no reading of the
    name, and the 通称 with its history (令第30条の26, 27) when asked."""
    smith = env.people.foreigner
    delete_alias(
        env.reg.uow(), CLERK, DeleteAlias(smith.record_id, date(2025, 3, 30), date(2025, 3, 30))
    )
    record_alias(
        env.reg.uow(),
        CLERK,
        RecordAlias(smith.record_id, "山田　譲", None, date(2025, 3, 31), date(2025, 3, 31)),
    )
    result = env.desk.issue(
        CLERK,
        CertificateRequest(
            CertificateKind.RESIDENCE,
            smith.resident_code,
            items=frozenset({OptionalItem.FOREIGN_ITEMS, OptionalItem.ALIAS_HISTORY}),
        ),
    )
    text = squeezed(result.pdf)
    assert "外国人住民となった年月日" in text
    assert text.count("住民となった年月日") == text.count("外国人住民となった年月日")
    for snippet in (
        "国籍・地域",
        "アメリカ合衆国",
        "中長期在留者",
        "在留資格",
        "3年",
        "AB12345678CD",
    ):
        assert snippet in text, snippet
    assert "スミス" not in text and "フリガナ" not in text  # no reading of a foreign name
    assert "山田譲" in text  # the 通称 now recorded
    history = [
        line["value"]
        for person in embedded_document(result.pdf)["content"]["persons"]
        for line in person["lines"]
        if line["key"] == "alias_history"
    ]
    assert history == [
        "2025年4月1日　東京都稲城市で記載　山田　ジョン",
        "2025年3月30日　東京都稲城市で削除　山田　ジョン",
        "2025年3月31日　東京都稲城市で記載　山田　譲",
    ]


def test_record_items_certificate_shows_only_what_was_asked(read_env: CertEnv) -> None:
    """法第12条第1項: the name, the items asked for, and what the law adds (旧氏)."""
    wife = read_env.people.wife
    result = read_env.desk.issue(
        CLERK,
        CertificateRequest(
            CertificateKind.RECORD_ITEMS,
            wife.resident_code,
            items=frozenset({OptionalItem.ADDRESS, OptionalItem.RESIDENT_SINCE}),
        ),
    )
    assert set(lines(result)) == {
        "name",
        "former_surname",
        "former_surname_kana",
        "address",
        "resident_since",
    }
    text = squeezed(result.pdf)
    assert "東長沼" in text and "住民となった年月日" in text
    assert "生年月日" not in text and "性別" not in text


def test_certificates_name_the_mayor_set_for_the_municipality(env: CertEnv) -> None:
    default = env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, env.people.head.resident_code)
    )
    assert default.issuance.signatory == "東京都稲城市長"
    with pytest.raises(PermissionDeniedError):
        set_mayor(env.desk.uow(), CLERK, "髙橋　勝浩")
    with pytest.raises(ValidationError) as err:
        set_mayor(env.desk.uow(), MANAGER, "  ")
    assert err.value.field == "mayor_name"
    m = set_mayor(env.desk.uow(), MANAGER, "髙橋　勝浩")
    assert m.signatory == "東京都稲城市長\u3000髙橋　勝浩"
    for kind, subject in (
        (CertificateKind.RESIDENCE, env.people.head),
        (CertificateKind.RECORD_ITEMS, env.people.head),
        (CertificateKind.SEAL, env.people.wife),
    ):
        result = env.desk.issue(CLERK, CertificateRequest(kind, subject.resident_code))
        assert result.issuance.signatory == "東京都稲城市長\u3000髙橋　勝浩"
        assert "東京都稲城市長髙橋勝浩" in squeezed(result.pdf)
        assert embedded_document(result.pdf)["issuance"]["signatory"] == result.issuance.signatory
    acting = set_mayor(env.desk.uow(), MANAGER, "石田　光広", "東京都稲城市長職務代理者　副市長")
    assert acting.signatory == "東京都稲城市長職務代理者　副市長\u3000石田　光広"
    result = env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, env.people.head.resident_code)
    )
    assert result.issuance.signatory == acting.signatory


def test_signatory_and_record_items_from_the_command_line(
    env: CertEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JUKI_KEYS_DIR", env.desk.settings.keys_dir)
    monkeypatch.setenv("JUKI_PRINT_DIR", str(tmp_path / "print"))
    monkeypatch.setenv("JUKI_PUBLIC_URL", "http://verify.test")
    for name in ("JUKI_ROOT_CERT", "JUKI_SIGNING_KEY", "JUKI_SIGNING_CERT", "JUKI_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    url = env.engine.url.render_as_string(hide_password=False)
    tokens = ConsoleTokens(env.engine)
    assert cli.main(tokens.argv(["cert", "signatory", "--db", url, "--name", " "])) == 1
    assert "mayor_name" in capsys.readouterr().err
    assert cli.main(tokens.argv(["cert", "signatory", "--db", url, "--name", "髙橋　勝浩"])) == 0
    assert "東京都稲城市長\u3000髙橋　勝浩" in capsys.readouterr().out
    out_file = tmp_path / "items.pdf"
    argv = ["cert", "issue", "--db", url, "--kind", "record-items"]
    argv += ["--resident-code", env.people.wife.resident_code, "--items", "birth-date,address"]
    assert cli.main(tokens.argv([*argv, "--out", str(out_file)])) == 0, capsys.readouterr().err
    document = embedded_document(out_file.read_bytes())
    keys = {line["key"] for person in document["content"]["persons"] for line in person["lines"]}
    assert keys == {"name", "former_surname", "former_surname_kana", "birth_date", "address"}
    assert document["issuance"]["signatory"] == "東京都稲城市長\u3000髙橋　勝浩"
