"""転出証明書 (令23条): its items, who it is for, and the move-in that reads it back."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from juki.certificates.content import ALLOWED_ITEMS, build_content, check_request
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateKind,
    CertificateRequest,
    Channel,
    OptionalItem,
    Requester,
    Snapshot,
    all_lines,
)
from juki.certificates.move_out import move_out_content
from juki.core.clock import JST
from juki.core.errors import DomainRuleError, ValidationError
from juki.registry.model import (
    ChangeReason,
    Municipality,
    RecordStatus,
    Relationship,
    ResidentRecord,
    Sex,
)
from juki.registry.standing import as_of

INAGI = Municipality("132250", "東京都", "稲城市")
READ_AT = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
TODAY = READ_AT.date()
FUJISAWA = "神奈川県藤沢市鵠沼石上1丁目1番1号"
PLANNED = date(2025, 4, 10)


def _record(code: str, given: str, relationship: Relationship, **kw: object) -> ResidentRecord:
    base = ResidentRecord(
        record_id=f"r-{code}",
        lg_code="132250",
        resident_code=code,
        family_name="山田",
        given_name=given,
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=date(1980, 5, 5),
        sex=Sex.MALE,
        household_id="h1",
        relationship=relationship,
        resident_since=date(2020, 1, 1),
        address="東京都稲城市東長沼1丁目1番1号",
        address_since=date(2020, 1, 1),
        my_number="123456789018",
        honseki="東京都稲城市東長沼2111番地",
        koseki_head="山田　太郎",
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def _moving(
    r: ResidentRecord, reason: ChangeReason = ChangeReason.MOVE_OUT_PLANNED
) -> ResidentRecord:
    """Filed to move out on PLANNED, read on TODAY (a 住民票 still, ADR 0005)."""
    filed = dataclasses.replace(
        r,
        status=RecordStatus.REMOVED,
        removal_reason=reason,
        removed_on=PLANNED,
        move_out_planned_address=FUJISAWA,
        move_out_planned_on=PLANNED,
    )
    return as_of(filed, TODAY)


HEAD = _moving(_record("24727059608", "太郎", Relationship.HOUSEHOLDER))
CHILD = _moving(_record("24846016222", "一郎", Relationship.CHILD, my_number=None))
STAYS = _record("13225000004", "花子", Relationship.WIFE)


def _request(**kw: object) -> CertificateRequest:
    return CertificateRequest(CertificateKind.MOVE_OUT, HEAD.resident_code, **kw)  # type: ignore[arg-type]


def _snap(subject: ResidentRecord = HEAD) -> Snapshot:
    return Snapshot(INAGI, subject, (HEAD, STAYS, CHILD), None, READ_AT)


def _lines(content: object) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in all_lines(content):  # type: ignore[arg-type]
        out.setdefault(line.key, []).append(line.value)
    return out


def test_the_certificate_carries_every_statutory_item_unasked() -> None:
    content = build_content(_request(), _snap())
    assert (content.title, content.scope) == ("転出証明書", "転出者1人")
    lines = _lines(content)
    assert lines["name"] == ["山田　太郎"]
    assert lines["birth_date"] == ["昭和55年5月5日"]
    assert lines["sex"] == ["男"]
    assert lines["relationship"] == ["世帯主"]
    assert lines["address"] == ["東京都稲城市東長沼1丁目1番1号"]
    assert lines["destination_address"] == [FUJISAWA]
    assert lines["planned_on"] == ["令和7年4月10日"]
    assert lines["resident_code"] == [HEAD.resident_code]
    assert lines["my_number"] == ["123456789018"]
    assert lines["honseki"] == ["東京都稲城市東長沼2111番地"]
    assert "証明する" in content.certification
    assert ALLOWED_ITEMS[CertificateKind.MOVE_OUT] == frozenset()


def test_all_members_are_the_movers_only() -> None:
    content = build_content(_request(members=ALL_MEMBERS), _snap())
    assert content.names == ("山田　太郎", "山田　一郎")  # not the wife, who stays
    assert _lines(content)["resident_code"] == [HEAD.resident_code, CHILD.resident_code]
    assert "my_number" not in {line.key for line in content.persons[1].lines}
    with pytest.raises(DomainRuleError) as err:
        build_content(_request(members=(HEAD.resident_code, STAYS.resident_code)), _snap())
    assert (err.value.field, err.value.rule) == ("members.1", "not_moving_together")


@pytest.mark.parametrize(
    ("subject", "rule"),
    [
        (_moving(STAYS, ChangeReason.EMIGRATION), "move_out_abroad"),
        (STAYS, "no_move_out"),
        (dataclasses.replace(HEAD, move_out_confirmed_on=date(2025, 4, 5)), "move_out_confirmed"),
    ],
)
def test_refused_for_abroad_for_no_move_out_and_after_confirmation(
    subject: ResidentRecord, rule: str
) -> None:
    with pytest.raises(DomainRuleError) as err:
        build_content(_request(), _snap(subject))
    assert err.value.rule == rule


def test_only_the_movers_at_the_counter_get_one() -> None:
    for request in (
        _request(requester=Requester.THIRD_PARTY),
        _request(channel=Channel.WIDE_AREA),
        _request(removed=True),
    ):
        with pytest.raises(DomainRuleError):
            move_out_content(request, _snap())


def test_no_optional_item_can_be_asked_for() -> None:
    with pytest.raises(ValidationError) as err:
        check_request(_request(items=frozenset({OptionalItem.HONSEKI})))
    assert (err.value.field, err.value.rule) == ("items", "not_for_kind")


def test_a_foreign_movers_certificate_carries_the_alias_and_its_whole_history() -> None:
    """令30条の27: the 通称 and every entry and deletion travel with the 転出証明書, unasked."""
    from juki.registry.alias import AliasAction, AliasEntry

    history = (
        AliasEntry("金田", AliasAction.ENTERED, date(2015, 4, 1), "大阪府大阪市"),
        AliasEntry("金田", AliasAction.DELETED, date(2019, 6, 1), "大阪府大阪市"),
        AliasEntry("金山", AliasAction.ENTERED, date(2020, 1, 10), "東京都稲城市"),
    )
    lee = _moving(
        _record(
            "24727059608",
            "ミンジュン",
            Relationship.HOUSEHOLDER,
            family_name="李",
            is_foreign=True,
            nationality="韓国",
            honseki=None,
            koseki_head=None,
            alias_name="金山",
            alias_history=history,
        )
    )
    lines = _lines(build_content(_request(), Snapshot(INAGI, lee, (lee,), None, READ_AT)))
    assert lines["alias_name"] == ["金山"]
    assert lines["alias_history"] == [
        "2015年4月1日　大阪府大阪市で記載　金田",
        "2019年6月1日　大阪府大阪市で削除　金田",
        "2020年1月10日　東京都稲城市で記載　金山",
    ]
    assert "alias_history" not in _lines(build_content(_request(), _snap()))  # none for HEAD
