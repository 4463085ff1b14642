"""Wide-area content: what the content rules build is exactly what the message schema admits, and
the issuing side refuses an answer that is not the one it asked for."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.certificates.content import ALLOWED_ITEMS, build_content
from juki.certificates.document import content_from_json, content_to_json
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateContent,
    CertificateKind,
    CertificateRequest,
    Channel,
    Line,
    OptionalItem,
    PersonEntry,
    Snapshot,
    all_lines,
)
from juki.certificates.ports import SuppliedContent
from juki.certificates.wide_area import (
    FORBIDDEN_KEYS,
    WideAreaRefused,
    check_supplied,
    wide_area_request,
)
from juki.core.clock import JST
from juki.core.errors import DomainRuleError, ValidationError
from juki.network.wide_area_messages import WIDE_AREA_LINE_KEYS, WideAreaContent
from juki.registry.alias import AliasAction, AliasEntry
from juki.registry.model import (
    ForeignResidentCategory,
    Municipality,
    Relationship,
    ResidentRecord,
    Sex,
)

INAGI = Municipality("132250", "東京都", "稲城市")
READ_AT = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
WIDE_ITEMS = ALLOWED_ITEMS[CertificateKind.RESIDENCE] - {OptionalItem.HONSEKI}


def record(code: str, **kw: Any) -> ResidentRecord:
    values: dict[str, Any] = {
        "record_id": f"r-{code}",
        "lg_code": "132250",
        "resident_code": code,
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "birth_date": date(1980, 5, 5),
        "sex": Sex.MALE,
        "household_id": "h-1",
        "relationship": Relationship.HOUSEHOLDER,
        "resident_since": date(2019, 4, 30),
        "address": "東京都稲城市東長沼1丁目1番1号",
        "address_since": date(2019, 5, 1),
        "my_number": "123456789018",
        "honseki": "東京都稲城市東長沼2111番地",
        "koseki_head": "山田　太郎",
        "former_surname": "佐藤",
        "former_surname_kana": "サトウ",
        "previous_address": "神奈川県藤沢市鵠沼海岸1丁目2番3号",
        "notified_on": date(2019, 5, 7),
        "move_out_planned_address": "長野県長野市大字鶴賀1番地",
        "move_out_planned_on": date(2025, 4, 20),
    }
    values.update(kw)
    return ResidentRecord(**values)


HEAD = record("24727059608")
LODGER = record(
    "13225000012",
    family_name="SMITH",
    given_name="JOHN",
    family_name_kana="スミス",
    given_name_kana="ジョン",
    honseki=None,
    koseki_head=None,
    former_surname=None,
    former_surname_kana=None,
    is_foreign=True,
    nationality="アメリカ合衆国",
    foreign_category=ForeignResidentCategory.MID_LONG_TERM,
    residence_status="技術・人文知識・国際業務",
    period_of_stay="3年",
    stay_expiry=date(2027, 3, 31),
    residence_card_number="AB12345678CD",
    alias_name="山田　ジョン",
    alias_history=(
        AliasEntry("山田　ジョン", AliasAction.ENTERED, date(2019, 4, 30), "東京都稲城市"),
    ),
    relationship=Relationship.COHABITANT,
)
SNAPSHOT = Snapshot(INAGI, HEAD, (HEAD, LODGER), None, READ_AT)


def wide(**kw: Any) -> CertificateRequest:
    return CertificateRequest(
        kind=CertificateKind.RESIDENCE,
        resident_code=HEAD.resident_code,
        channel=Channel.WIDE_AREA,
        **kw,
    )


@given(
    items=st.frozensets(st.sampled_from(sorted(WIDE_ITEMS))),
    members=st.sampled_from([(), ALL_MEMBERS, (LODGER.resident_code,)]),
)
def test_wide_area_content_fits_the_message_schema_and_round_trips(
    items: frozenset[OptionalItem], members: Any
) -> None:
    content = build_content(wide(items=items, members=members), SNAPSHOT)
    keys = {line.key for line in all_lines(content)}
    assert keys <= WIDE_AREA_LINE_KEYS
    assert not keys & FORBIDDEN_KEYS
    as_json = content_to_json(content)
    assert WideAreaContent.model_validate(as_json).model_dump(mode="json") == as_json
    assert content_from_json(as_json) == content


def test_every_key_a_wide_area_copy_can_show_is_admitted() -> None:
    content = build_content(wide(items=WIDE_ITEMS, members=ALL_MEMBERS), SNAPSHOT)
    keys = {line.key for line in all_lines(content)}
    # the schema admits nothing the rules cannot produce, so neither list drifts unnoticed
    assert WIDE_AREA_LINE_KEYS - keys <= {"move_out_confirmed"}  # a removed record's item
    assert "move_out_planned" in keys and "alias_name" in keys


def test_a_wide_area_request_never_gets_honseki() -> None:
    with pytest.raises(DomainRuleError) as err:
        build_content(wide(items=frozenset({OptionalItem.HONSEKI})), SNAPSHOT)
    assert err.value.rule == "wide_area_honseki"


def test_the_request_check_names_the_home_code() -> None:
    request = CertificateRequest(CertificateKind.RESIDENCE, HEAD.resident_code)
    assert wide_area_request(request, "132250").channel is Channel.WIDE_AREA
    with pytest.raises(ValidationError) as err:
        wide_area_request(request, "13225x")
    assert err.value.field == "from_lg_code"


def supplied(content: CertificateContent, **kw: Any) -> SuppliedContent:
    values: dict[str, Any] = {
        "request_id": "01890000-0000-7000-8000-000000000001",
        "home_lg_code": "132250",
        "home_name": "東京都稲城市",
        "resident_code": HEAD.resident_code,
        "content": content,
    }
    values.update(kw)
    return SuppliedContent(**values)


CONTENT = build_content(wide(), SNAPSHOT)
HONSEKI_LINE = Line("honseki", "本籍", "東京都稲城市東長沼2111番地")


@pytest.mark.parametrize(
    ("answer", "request_kw"),
    [
        (supplied(CONTENT, resident_code=LODGER.resident_code), {}),
        (supplied(CONTENT, home_lg_code="142051"), {}),
        (supplied(dataclasses.replace(CONTENT, record_lg_code="142051")), {}),
        (supplied(dataclasses.replace(CONTENT, channel=Channel.COUNTER)), {}),
        (supplied(dataclasses.replace(CONTENT, removed=True)), {}),
        (supplied(dataclasses.replace(CONTENT, kind=CertificateKind.RECORD_ITEMS)), {}),
        (
            supplied(
                dataclasses.replace(
                    CONTENT,
                    persons=(
                        PersonEntry(
                            CONTENT.persons[0].name, (*CONTENT.persons[0].lines, HONSEKI_LINE)
                        ),
                    ),
                )
            ),
            {},
        ),
        (supplied(CONTENT), {"items": frozenset({OptionalItem.MY_NUMBER})}),
        (supplied(dataclasses.replace(CONTENT, persons=CONTENT.persons * 2)), {}),
        (supplied(dataclasses.replace(CONTENT, persons=())), {}),
    ],
)
def test_an_answer_that_is_not_the_one_asked_for_is_refused(
    answer: SuppliedContent, request_kw: dict[str, Any]
) -> None:
    with pytest.raises(WideAreaRefused) as err:
        check_supplied(answer, wide(**request_kw), "132250")
    assert err.value.rule == "wide_area_mismatch"
    assert err.value.message_ja


def test_the_answer_asked_for_passes() -> None:
    assert check_supplied(supplied(CONTENT), wide(), "132250").content is CONTENT
    household = build_content(wide(members=ALL_MEMBERS), SNAPSHOT)
    check_supplied(supplied(household), wide(members=ALL_MEMBERS), "132250")
