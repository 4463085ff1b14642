"""戸籍の附票の写し's content rules (法16条〜20条) over a snapshot built by hand: the items, the
address history, 国外転出者, the 除票, members, 支援措置 and the third party."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from juki.certificates.content import check_request
from juki.certificates.fuhyo import (
    FuhyoEntry,
    FuhyoPerson,
    FuhyoSnapshot,
    fuhyo_content,
)
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateContent,
    CertificateKind,
    CertificateRequest,
    OptionalItem,
    Requester,
    SupportOverride,
)
from juki.certificates.third_party import THIRD_PARTY_KINDS, RequestBasis
from juki.core.clock import JST
from juki.core.errors import DomainRuleError, ValidationError
from juki.registry.model import Municipality, Sex

HONSEKI, HEAD = "東京都稲城市東長沼3番地", "附票　一郎"
FUHYO = CertificateKind.FUHYO


def entry(code: str, given: str, address: str, since: date, **over: object) -> FuhyoEntry:
    values: dict[str, object] = {
        "entry_id": 0,
        "resident_code": code,
        "family_name": "附票",
        "given_name": given,
        "family_name_kana": "フヒョウ",
        "given_name_kana": "タロウ",
        "birth_date": date(1970, 7, 7),
        "sex": Sex.MALE,
        "honseki": HONSEKI,
        "koseki_head": HEAD,
        "address": address,
        "address_since": since,
        "status": "active",
        "change_reason": "move_in",
        "changed_on": since,
        "moved_abroad": False,
        "support_measure": False,
    } | over
    return FuhyoEntry(**values)  # type: ignore[arg-type]


TANASHI, FUJISAWA = "東京都西東京市田無町1番地", "神奈川県藤沢市辻堂1番地"
ICHIRO = FuhyoPerson(
    "24727059608",
    (
        entry("24727059608", "一郎", TANASHI, date(2020, 4, 1)),
        # a name-less change (a 支援措置 notice, a correction) repeats the address: shown once
        entry("24727059608", "一郎", TANASHI, date(2020, 4, 1), change_reason="correction"),
        entry("24727059608", "一郎", FUJISAWA, date(2024, 4, 1)),
    ),
)
JIRO = FuhyoPerson(
    "13226000015",
    (
        entry("13226000015", "次郎", TANASHI, date(2020, 4, 1), birth_date=date(2000, 1, 1)),
        entry(
            "13226000015",
            "次郎",
            TANASHI,
            date(2020, 4, 1),
            birth_date=date(2000, 1, 1),
            status="removed",
            change_reason="emigration",
            changed_on=date(2025, 4, 1),
            moved_abroad=True,
        ),
    ),
)
SABURO = FuhyoPerson(
    "13226000023",
    (
        entry(
            "13226000023",
            "三郎",
            TANASHI,
            date(2020, 4, 1),
            status="removed",
            change_reason="death",
            changed_on=date(2025, 2, 1),
        ),
    ),
)
HANAKO = FuhyoPerson(
    "13226000031",
    (entry("13226000031", "花子", FUJISAWA, date(2024, 4, 1), sex=Sex.FEMALE),),
)
PERSONS = (ICHIRO, HANAKO, JIRO, SABURO)


def snap(subject: FuhyoPerson, persons: tuple[FuhyoPerson, ...] = PERSONS) -> FuhyoSnapshot:
    return FuhyoSnapshot(
        municipality=Municipality("132250", "東京都", "稲城市"),
        honseki=HONSEKI,
        koseki_head=HEAD,
        subject=subject,
        persons=persons,
        read_at=datetime(2025, 4, 2, 10, 0, tzinfo=JST),
    )


def content(subject: FuhyoPerson = ICHIRO, **over: object) -> CertificateContent:
    request = CertificateRequest(FUHYO, subject.resident_code, **over)  # type: ignore[arg-type]
    persons = tuple(p if p.resident_code != subject.resident_code else subject for p in PERSONS)
    return fuhyo_content(request, snap(subject, persons))


def pairs(c: CertificateContent, person: int = 0) -> list[tuple[str, str]]:
    return [(line.key, line.value) for line in c.persons[person].lines]


def test_a_copy_shows_the_name_birth_sex_and_each_address_once_without_asked_items() -> None:
    c = content()
    assert c.title == "戸籍の附票の写し" and c.header == () and c.scope == "一部"
    assert pairs(c) == [
        ("name", "附票\u3000一郎"),
        ("birth_date", "昭和45年7月7日"),
        ("sex", "男"),
        ("address", TANASHI),
        ("address_since", "令和2年4月1日"),
        ("address", FUJISAWA),
        ("address_since", "令和6年4月1日"),
    ]


def test_honseki_and_resident_code_only_when_asked() -> None:
    c = content(items=frozenset({OptionalItem.HONSEKI, OptionalItem.RESIDENT_CODE}))
    assert [(line.key, line.value) for line in c.header] == [
        ("honseki", HONSEKI),
        ("koseki_head", HEAD),
    ]
    assert ("resident_code", ICHIRO.resident_code) in pairs(c)


def test_a_third_party_never_gets_the_resident_code_and_other_items_are_refused() -> None:
    with pytest.raises(DomainRuleError) as err:
        check_request(
            CertificateRequest(
                FUHYO,
                ICHIRO.resident_code,
                items=frozenset({OptionalItem.RESIDENT_CODE}),
                requester=Requester.THIRD_PARTY,
            )
        )
    assert err.value.rule == "third_party_identifiers"
    with pytest.raises(ValidationError) as refused:
        check_request(
            CertificateRequest(
                FUHYO, ICHIRO.resident_code, items=frozenset({OptionalItem.MY_NUMBER})
            )
        )
    assert refused.value.rule == "not_for_kind"
    assert FUHYO in THIRD_PARTY_KINDS
    assert RequestBasis.OTHER_LEGITIMATE.article_for(FUHYO) == "法20条3項3号"
    assert RequestBasis.ENTRUSTED.article_for(FUHYO) == "法20条4項"


def test_a_move_abroad_shows_the_mark_its_planned_date_and_the_destination_where_known() -> None:
    lines = pairs(content(JIRO))
    assert lines[3:] == [
        ("address", TANASHI),
        ("address_since", "令和2年4月1日"),
        ("moved_abroad", "国外転出者"),
        ("moved_abroad_on", "令和7年4月1日"),
    ]
    known = dataclasses.replace(JIRO, abroad_destination="アメリカ合衆国")
    assert pairs(content(known))[-1] == ("abroad_destination", "アメリカ合衆国")


def test_a_removed_person_is_certified_only_on_a_removed_copy() -> None:
    with pytest.raises(DomainRuleError) as err:
        content(SABURO)
    assert err.value.rule == "removed_from_fuhyo"
    with pytest.raises(DomainRuleError) as not_removed:
        content(ICHIRO, removed=True)
    assert not_removed.value.rule == "not_removed"
    c = content(SABURO, removed=True)
    assert c.title == "戸籍の附票の除票の写し" and c.scope == "除票"
    assert pairs(c)[-2:] == [("removal_reason", "死亡"), ("removed_on", "令和7年2月1日")]


def test_all_shows_everyone_current_and_a_chosen_person_must_be_on_the_fuhyo() -> None:
    everyone = content(members=ALL_MEMBERS)
    assert everyone.scope == "全部"
    assert everyone.names == ("附票\u3000一郎", "附票\u3000花子", "附票\u3000次郎")
    chosen = content(members=(HANAKO.resident_code,))
    assert chosen.names == ("附票\u3000花子",)
    with pytest.raises(DomainRuleError) as err:
        content(members=(SABURO.resident_code,))
    assert (err.value.field, err.value.rule) == ("members.0", "not_on_fuhyo")


def test_support_measure_refuses_a_third_party_outright_and_the_persons_side_without_override() -> (
    None
):
    protected = dataclasses.replace(HANAKO, protected=True)
    override = SupportOverride("super-1", "本人が来庁、本人確認済み")
    with pytest.raises(DomainRuleError) as third:
        content(protected, requester=Requester.THIRD_PARTY, support_override=override)
    assert third.value.rule == "support_measure" and "支援措置" in third.value.message_ja
    with pytest.raises(DomainRuleError) as own:
        content(protected)
    assert own.value.rule == "support_measure" and "加害者" in own.value.message_ja
    assert content(protected, support_override=override).names == ("附票\u3000花子",)
    with pytest.raises(ValidationError):
        content(protected, support_override=SupportOverride("super-1", " "))
