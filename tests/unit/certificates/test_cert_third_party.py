"""第三者請求 (住民基本台帳法 第12条の3): the 申出's rules (`juki.certificates.third_party`)."""

from __future__ import annotations

import dataclasses

import pytest

from juki.certificates.model import CertificateKind, CertificateRequest, Requester
from juki.certificates.third_party import (
    IdDocument,
    Qualification,
    RequestBasis,
    ThirdPartyRequest,
    check_third_party,
    checked,
)
from juki.core.errors import RuleViolation

CODE = "13225000002"

CREDITOR = ThirdPartyRequest(
    basis=RequestBasis.OWN_RIGHTS,
    purpose="貸金返還請求訴訟の提起のため、債務者の現住所を確認する",
    requester_name="  佐藤　一郎 ",
    requester_address="東京都稲城市東長沼2丁目3番4号",
    id_document=IdDocument.DRIVER_LICENCE,
    id_document_number="第123456789012号",
)
LAWYER = ThirdPartyRequest(
    basis=RequestBasis.ENTRUSTED,
    purpose="受任した相続事件の相続人調査（遺産分割調停申立て）",
    requester_name="鈴木　法子",
    requester_address="東京都千代田区霞が関1丁目1番3号",
    id_document=IdDocument.PROFESSIONAL_ID,
    id_document_number="弁護士会員証 12345",
    qualification=Qualification.LAWYER,
    registration_number="第12345号",
    client_name="高橋　次郎",
)


def _third(details: ThirdPartyRequest | None, kind: CertificateKind = CertificateKind.RESIDENCE):
    return CertificateRequest(kind, CODE, requester=Requester.THIRD_PARTY, third_party=details)


def _refused(details: ThirdPartyRequest) -> RuleViolation:
    with pytest.raises(RuleViolation) as err:
        check_third_party(_third(details))
    return err.value


def test_a_third_party_request_under_paragraph_1_is_kept_trimmed() -> None:
    req = check_third_party(_third(CREDITOR))
    assert req.third_party is not None
    assert req.third_party.requester_name == "佐藤　一郎"
    assert req.third_party.notice_name == "佐藤　一郎"
    assert req.third_party.basis.article == "法12条の3第1項第1号"


@pytest.mark.parametrize(
    ("change", "field", "rule", "message"),
    [
        ({"purpose": ""}, "third_party.purpose", "required", "利用目的を入力してください"),
        ({"purpose": "　 "}, "third_party.purpose", "required", "利用目的を入力してください"),
        ({"purpose": "必要"}, "third_party.purpose", "too_vague", "利用目的を具体的に"),
        ({"purpose": "x" * 201}, "third_party.purpose", "max_length", "利用目的は200文字以内"),
        ({"id_document": None}, "third_party.id_document", "required", "本人確認書類の種類"),
        (
            {"id_document_number": ""},
            "third_party.id_document_number",
            "required",
            "本人確認書類の番号を入力してください",
        ),
        ({"requester_name": ""}, "third_party.requester_name", "required", "請求者の氏名"),
        (
            {"requester_address": "東京都\x00稲城市"},
            "third_party.requester_address",
            "control_character",
            "請求者の住所に使用できない制御文字",
        ),
        (
            {"qualification": Qualification.LAWYER},
            "third_party.qualification",
            "not_entrusted",
            "特定事務受任者（第2項）",
        ),
    ],
)
def test_a_request_without_purpose_or_identification_is_refused_naming_the_field(
    change: dict[str, object], field: str, rule: str, message: str
) -> None:
    err = _refused(dataclasses.replace(CREDITOR, **change))  # type: ignore[arg-type]
    assert (err.field, err.rule) == (field, rule)
    assert message in err.message_ja


def test_a_corporation_names_its_office_and_the_person_in_charge() -> None:
    company = dataclasses.replace(
        CREDITOR, corporation=True, requester_name="株式会社稲城信販", person_in_charge=""
    )
    err = _refused(company)
    assert (err.field, err.rule) == ("third_party.person_in_charge", "required")
    assert "担当者の氏名" in err.message_ja
    err = _refused(dataclasses.replace(company, person_in_charge="田中　三郎", requester_name=""))
    assert "法人の名称" in err.message_ja
    ok = check_third_party(_third(dataclasses.replace(company, person_in_charge="田中　三郎")))
    assert ok.third_party is not None and ok.third_party.notice_name == "株式会社稲城信販"


def test_an_entrusted_professional_names_qualification_registration_and_client() -> None:
    req = check_third_party(_third(LAWYER))
    assert req.third_party is not None
    assert req.third_party.notice_name == "弁護士　鈴木　法子"  # never the client
    assert RequestBasis.ENTRUSTED.article == "法12条の3第2項"
    for change, field in [
        ({"qualification": None}, "third_party.qualification"),
        ({"registration_number": ""}, "third_party.registration_number"),
        ({"client_name": ""}, "third_party.client_name"),
    ]:
        err = _refused(dataclasses.replace(LAWYER, **change))  # type: ignore[arg-type]
        assert (err.field, err.rule) == (field, "required")


def test_a_third_party_without_the_form_is_refused_and_only_a_third_party_has_one() -> None:
    with pytest.raises(RuleViolation) as err:
        check_third_party(_third(None))
    assert (err.value.field, err.value.rule) == ("third_party", "required")
    with pytest.raises(RuleViolation) as err:
        check_third_party(CertificateRequest(CertificateKind.RESIDENCE, CODE, third_party=CREDITOR))
    assert (err.value.field, err.value.rule) == ("requester", "not_third_party")
    own = CertificateRequest(CertificateKind.RESIDENCE, CODE)
    assert check_third_party(own) is own


@pytest.mark.parametrize("kind", [CertificateKind.SEAL, CertificateKind.MOVE_OUT])
def test_a_third_party_obtains_only_a_copy_or_a_record_items_certificate(
    kind: CertificateKind,
) -> None:
    with pytest.raises(RuleViolation) as err:
        check_third_party(_third(CREDITOR, kind))
    assert (err.value.field, err.value.rule) == ("kind", "third_party_kind")
    assert check_third_party(_third(CREDITOR, CertificateKind.RECORD_ITEMS)).third_party


def test_checked_keeps_an_already_checked_request_unchanged() -> None:
    once = checked(LAWYER)
    assert checked(once) == once
