"""The content rules: which members and which items a certificate shows, and when it refuses."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.certificates.content import ALLOWED_ITEMS, MAX_COPIES, build_content
from juki.certificates.document import (
    ContentFormatError,
    canonical_json,
    digest_of,
    from_document,
    parse_document,
    to_document,
)
from juki.certificates.model import (
    ALL_MEMBERS,
    BASIC_ITEMS,
    CertificateContent,
    CertificateKind,
    CertificateRequest,
    Channel,
    Issuance,
    OptionalItem,
    Requester,
    Snapshot,
    SupportOverride,
    all_lines,
)
from juki.core.clock import JST
from juki.core.errors import DomainRuleError, RuleViolation, ValidationError
from juki.registry.alias import AliasAction, AliasEntry
from juki.registry.model import (
    ChangeReason,
    ForeignResidentCategory,
    Municipality,
    RecordStatus,
    Relationship,
    ResidentRecord,
    Sex,
)
from juki.registry.seal import SealRegistration, SealStatus

INAGI = Municipality("132250", "東京都", "稲城市")
READ_AT = datetime(2025, 4, 1, 10, 0, tzinfo=JST)

# The line keys each item a 写し leaves off adds when asked for, and the keys no request can ever
# make appear otherwise. 旧氏 is not among them: once recorded it is on every certificate.
ITEM_KEYS: dict[OptionalItem, set[str]] = {
    OptionalItem.HOUSEHOLDER: {"householder", "relationship"},
    OptionalItem.HONSEKI: {"honseki", "koseki_head"},
    OptionalItem.RESIDENT_CODE: {"resident_code"},
    OptionalItem.MY_NUMBER: {"my_number"},
    OptionalItem.FOREIGN_ITEMS: {
        "nationality",
        "foreign_category",
        "residence_status",
        "period_of_stay",
        "stay_expiry",
        "residence_card_number",
    },
    OptionalItem.ALIAS_HISTORY: {"alias_history"},
}
OPTIONAL_KEYS = set().union(*ITEM_KEYS.values())
# The keys of the items a 記載事項証明書 certifies one by one (a 写し always shows them).
RECORD_ITEM_KEYS: dict[OptionalItem, set[str]] = {
    OptionalItem.NAME_KANA: {"name_kana"},
    OptionalItem.BIRTH_DATE: {"birth_date"},
    OptionalItem.SEX: {"sex"},
    OptionalItem.ADDRESS: {"address"},
    OptionalItem.RESIDENT_SINCE: {"resident_since"},
    OptionalItem.ADDRESS_SINCE: {"address_since"},
    OptionalItem.NOTIFIED_ON: {"notified_on"},
    OptionalItem.PREVIOUS_ADDRESS: {"previous_address"},
}
# The certificates of record items (住民票の写し, 記載事項証明書, 印鑑登録証明書).
COPY_KINDS = (CertificateKind.RESIDENCE, CertificateKind.RECORD_ITEMS, CertificateKind.SEAL)
# What every certificate names whatever was asked: the name, the 旧氏 (and its reading), the 通称.
NAME_KEYS = {"name", "former_surname", "former_surname_kana", "alias_name"}


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
    }
    values.update(kw)
    return ResidentRecord(**values)


def foreign(code: str, **kw: Any) -> ResidentRecord:
    return record(
        code,
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
            AliasEntry("スミス　ジョン", AliasAction.ENTERED, date(2015, 4, 1), "神奈川県藤沢市"),
            AliasEntry("スミス　ジョン", AliasAction.DELETED, date(2019, 3, 1), "神奈川県藤沢市"),
            AliasEntry("山田　ジョン", AliasAction.ENTERED, date(2019, 4, 30), "東京都稲城市"),
        ),
        birth_date=date(1985, 3, 2),
        **kw,
    )


HEAD = record("24727059608")
WIFE = record("24846016222", given_name="花子", sex=Sex.FEMALE, relationship=Relationship.WIFE)
CHILD = record(
    "13225000004", given_name="一郎", birth_date=date(2019, 4, 30), relationship=Relationship.CHILD
)
LODGER = foreign("13225000012", relationship=Relationship.COHABITANT)
HOUSEHOLD = (HEAD, WIFE, CHILD, LODGER)
SEAL = SealRegistration("00000001", HEAD.record_id, b"png", "ab" * 32, date(2025, 3, 1))


def snap(
    subject: ResidentRecord = HEAD,
    members: tuple[ResidentRecord, ...] = HOUSEHOLD,
    seal: SealRegistration | None = None,
) -> Snapshot:
    return Snapshot(INAGI, subject, members, seal, READ_AT)


def req(kind: CertificateKind = CertificateKind.RESIDENCE, **kw: Any) -> CertificateRequest:
    kw.setdefault("resident_code", HEAD.resident_code)
    return CertificateRequest(kind=kind, **kw)


def keys(content: CertificateContent) -> set[str]:
    return {line.key for line in all_lines(content)}


def values(content: CertificateContent) -> str:
    return "\n".join(line.value for line in all_lines(content))


# -- which items -------------------------------------------------------------------------------


# Copies and certificates of a record; the 転出証明書 has its own rules (test_cert_move_out).
COPIES = [k for k in CertificateKind if k not in (CertificateKind.MOVE_OUT, CertificateKind.FUHYO)]


@pytest.mark.parametrize("kind", COPIES)
def test_default_certificate_shows_no_optional_item(kind: CertificateKind) -> None:
    content = build_content(req(kind), snap(seal=SEAL))
    assert keys(content) & OPTIONAL_KEYS == set()
    text = values(content)
    for hidden in (HEAD.honseki, HEAD.my_number, HEAD.resident_code):
        assert hidden and hidden not in text


@pytest.mark.parametrize(
    ("kind", "item"),
    [(k, i) for k in COPIES for i in sorted(ALLOWED_ITEMS[k]) if i in ITEM_KEYS],
)
def test_each_requested_item_adds_exactly_its_lines(
    kind: CertificateKind, item: OptionalItem
) -> None:
    foreign_only = {OptionalItem.FOREIGN_ITEMS, OptionalItem.ALIAS_HISTORY}
    subject = LODGER if item in foreign_only else HEAD
    content = build_content(
        req(kind, resident_code=subject.resident_code, items=frozenset({item})),
        snap(subject=subject, seal=dataclasses.replace(SEAL, record_id=subject.record_id)),
    )
    expected = ITEM_KEYS[item]
    if kind is not CertificateKind.RESIDENCE:
        expected = expected - {"householder"}  # 世帯主 heads the household block of a 写し only
    assert keys(content) & OPTIONAL_KEYS == expected


@pytest.mark.parametrize("kind", [CertificateKind.RECORD_ITEMS, CertificateKind.SEAL])
def test_items_not_for_the_kind_are_refused(kind: CertificateKind) -> None:
    not_allowed = set(OptionalItem) - ALLOWED_ITEMS[kind]
    for item in not_allowed:
        with pytest.raises(ValidationError) as err:
            build_content(req(kind, items=frozenset({item})), snap(seal=SEAL))
        assert err.value.field == "items" and err.value.rule == "not_for_kind"


def test_former_surname_only_when_recorded() -> None:
    no_former = dataclasses.replace(HEAD, former_surname=None, former_surname_kana=None)
    content = build_content(
        req(items=frozenset({OptionalItem.FORMER_SURNAME})),
        snap(subject=no_former, members=(no_former,)),
    )
    assert not keys(content) & {"former_surname", "former_surname_kana"}


@pytest.mark.parametrize("kind", COPY_KINDS)
def test_former_surname_is_on_every_certificate_unasked(kind: CertificateKind) -> None:
    """令第30条の13, 法第12条第5項: once recorded, 旧氏 is on every 写し, 記載事項証明書
    and 印鑑登録証明書 without being asked for; the seal certificate shows it without its
    reading."""
    content = build_content(req(kind), snap(seal=SEAL))
    by_key = {line.key: line.value for line in all_lines(content)}
    assert by_key["former_surname"] == "佐藤"
    if kind is CertificateKind.SEAL:
        assert "former_surname_kana" not in by_key
    else:
        assert by_key["former_surname_kana"] == "サトウ"
    # Asking for it changes nothing.
    asked = build_content(
        req(kind, items=frozenset({OptionalItem.FORMER_SURNAME})), snap(seal=SEAL)
    )
    assert asked.persons == content.persons


@pytest.mark.parametrize("kind", COPY_KINDS)
def test_foreign_resident_name_has_no_reading(kind: CertificateKind) -> None:
    """2023 amendment (from 2025-05-26): 氏名の振り仮名 is a Japanese national's item only."""
    items = (
        frozenset({OptionalItem.NAME_KANA}) if kind is CertificateKind.RECORD_ITEMS else frozenset()
    )
    content = build_content(
        req(kind, resident_code=LODGER.resident_code, items=items),
        snap(subject=LODGER, seal=dataclasses.replace(SEAL, record_id=LODGER.record_id)),
    )
    assert "name_kana" not in keys(content)
    assert LODGER.family_name_kana not in values(content)
    japanese = build_content(req(kind, items=items), snap(seal=SEAL))
    assert "name_kana" in keys(japanese)


def test_foreign_resident_became_a_resident_on_its_own_label() -> None:
    """法第30条の45: 外国人住民となった年月日 instead of 住民となった年月日."""
    lodger = build_content(req(resident_code=LODGER.resident_code), snap(subject=LODGER))
    labels = {line.key: line.label for line in lodger.persons[0].lines}
    assert labels["resident_since"] == "外国人住民となった年月日"
    head = build_content(req(), snap())
    assert {line.key: line.label for line in head.persons[0].lines}["resident_since"] == (
        "住民となった年月日"
    )


def test_alias_history_when_asked_for() -> None:
    """令第30条の27: the 通称's entries and deletions, where and when, shown when asked."""
    plain = build_content(req(resident_code=LODGER.resident_code), snap(subject=LODGER))
    assert "alias_history" not in keys(plain)
    content = build_content(
        req(resident_code=LODGER.resident_code, items=frozenset({OptionalItem.ALIAS_HISTORY})),
        snap(subject=LODGER),
    )
    history = [line.value for line in content.persons[0].lines if line.key == "alias_history"]
    assert history == [
        "2015年4月1日　神奈川県藤沢市で記載　スミス　ジョン",
        "2015年4月1日　神奈川県藤沢市で削除　スミス　ジョン".replace(
            "2015年4月1日", "2019年3月1日"
        ),
        "2019年4月30日　東京都稲城市で記載　山田　ジョン",
    ]


# -- 記載事項証明書: the items asked for ----------------------------------------------------------


@pytest.mark.parametrize("item", sorted(RECORD_ITEM_KEYS))
def test_record_items_certificate_shows_only_the_item_asked_for(item: OptionalItem) -> None:
    """法第12条第1項: a 記載事項証明書 certifies the items asked for, with the name."""
    content = build_content(req(CertificateKind.RECORD_ITEMS, items=frozenset({item})), snap())
    assert (
        keys(content) == {"name", "former_surname", "former_surname_kana"} | RECORD_ITEM_KEYS[item]
    )


def test_record_items_certificate_without_items_certifies_the_basic_items() -> None:
    content = build_content(req(CertificateKind.RECORD_ITEMS), snap())
    assert keys(content) - NAME_KEYS == {"name_kana", "birth_date", "sex", "address"}
    only_honseki = build_content(
        req(CertificateKind.RECORD_ITEMS, items=frozenset({OptionalItem.HONSEKI})), snap()
    )
    assert keys(only_honseki) - NAME_KEYS == {"honseki", "koseki_head"}


def test_record_items_of_a_foreign_resident_keep_the_alias() -> None:
    content = build_content(
        req(
            CertificateKind.RECORD_ITEMS,
            resident_code=LODGER.resident_code,
            items=frozenset({OptionalItem.RESIDENT_SINCE}),
        ),
        snap(subject=LODGER),
    )
    lines = {line.key: (line.label, line.value) for line in all_lines(content)}
    assert set(lines) == {"name", "alias_name", "resident_since"}
    assert lines["resident_since"] == ("外国人住民となった年月日", "2019年4月30日")


@pytest.mark.parametrize("item", sorted(RECORD_ITEM_KEYS))
def test_items_a_copy_always_shows_are_not_asked_for_on_it(item: OptionalItem) -> None:
    with pytest.raises(ValidationError) as err:
        build_content(req(items=frozenset({item})), snap())
    assert err.value.field == "items" and err.value.rule == "not_for_kind"


def test_foreign_resident_has_no_honseki_and_western_dates() -> None:
    content = build_content(
        req(resident_code=LODGER.resident_code, items=frozenset({OptionalItem.HONSEKI})),
        snap(subject=LODGER),
    )
    person = content.persons[0]
    assert "honseki" not in keys(content)
    by_key = {line.key: line.value for line in person.lines}
    assert by_key["birth_date"] == "1985年3月2日"
    assert by_key["resident_since"] == "2019年4月30日"
    assert by_key["alias_name"] == "山田　ジョン"  # 通称 is part of the name


def test_japanese_resident_dates_cross_the_era_boundary() -> None:
    person = build_content(req(), snap()).persons[0]
    by_key = {line.key: line.value for line in person.lines}
    assert by_key["resident_since"] == "平成31年4月30日"
    assert by_key["address_since"] == "令和元年5月1日"


def test_foreign_items_only_for_foreign_members() -> None:
    content = build_content(
        req(members=ALL_MEMBERS, items=frozenset({OptionalItem.FOREIGN_ITEMS})), snap()
    )
    per_person = [{line.key for line in p.lines} for p in content.persons]
    assert [bool(k & ITEM_KEYS[OptionalItem.FOREIGN_ITEMS]) for k in per_person] == [
        False,
        False,
        False,
        True,
    ]


# -- who is on it -----------------------------------------------------------------------------


def test_members_default_all_and_subset() -> None:
    assert build_content(req(), snap()).names == (HEAD.full_name,)
    everyone = build_content(req(members=ALL_MEMBERS), snap())
    assert everyone.names == tuple(m.full_name for m in HOUSEHOLD)
    assert everyone.scope == "世帯全員"
    assert "世帯全員" in everyone.certification
    part = build_content(req(members=(CHILD.resident_code, HEAD.resident_code)), snap())
    assert part.names == (HEAD.full_name, CHILD.full_name)  # household order, not request order
    assert part.scope == "世帯の一部"


def test_member_outside_the_household_is_refused() -> None:
    with pytest.raises(DomainRuleError) as err:
        build_content(req(members=(HEAD.resident_code, "99999999999")), snap())
    assert err.value.field == "members.1" and err.value.rule == "not_in_household"


def test_duplicate_members_are_refused() -> None:
    with pytest.raises(ValidationError) as err:
        build_content(req(members=(HEAD.resident_code, HEAD.resident_code)), snap())
    assert err.value.rule == "duplicate"


@pytest.mark.parametrize("copies", [0, -1, MAX_COPIES + 1])
def test_copies_out_of_range_are_refused(copies: int) -> None:
    with pytest.raises(ValidationError) as err:
        build_content(req(copies=copies), snap())
    assert err.value.field == "copies"


def test_householder_line_names_the_householder_even_when_not_selected() -> None:
    content = build_content(
        req(
            resident_code=CHILD.resident_code,
            items=frozenset({OptionalItem.HOUSEHOLDER}),
        ),
        snap(subject=CHILD),
    )
    assert content.header[1].key == "householder"
    assert content.header[1].value == HEAD.full_name
    assert content.names == (CHILD.full_name,)


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("item", [OptionalItem.RESIDENT_CODE, OptionalItem.MY_NUMBER])
def test_third_party_never_gets_identifiers(item: OptionalItem) -> None:
    with pytest.raises(DomainRuleError) as err:
        build_content(req(requester=Requester.THIRD_PARTY, items=frozenset({item})), snap())
    assert err.value.rule == "third_party_identifiers"
    ok = build_content(
        req(requester=Requester.THIRD_PARTY, items=frozenset({OptionalItem.HONSEKI})), snap()
    )
    assert "honseki" in keys(ok)


def test_wide_area_never_carries_honseki() -> None:
    with pytest.raises(DomainRuleError) as err:
        build_content(
            req(channel=Channel.WIDE_AREA, items=frozenset({OptionalItem.HONSEKI})), snap()
        )
    assert err.value.rule == "wide_area_honseki"
    content = build_content(
        req(channel=Channel.WIDE_AREA, items=frozenset({OptionalItem.HOUSEHOLDER})), snap()
    )
    assert content.channel is Channel.WIDE_AREA and "honseki" not in keys(content)


@pytest.mark.parametrize("kind", [CertificateKind.RECORD_ITEMS, CertificateKind.SEAL])
def test_wide_area_is_for_residence_certificates_only(kind: CertificateKind) -> None:
    with pytest.raises(DomainRuleError) as err:
        build_content(req(kind, channel=Channel.WIDE_AREA), snap(seal=SEAL))
    assert err.value.rule == "wide_area_kind"


def test_support_measure_refuses_unless_overridden() -> None:
    protected = dataclasses.replace(WIFE, support_measure=True)
    household = (HEAD, protected, CHILD, LODGER)
    with pytest.raises(DomainRuleError) as err:
        build_content(req(members=ALL_MEMBERS), snap(members=household))
    assert err.value.rule == "support_measure"
    # Not on the certificate: no refusal.
    assert build_content(req(), snap(members=household)).names == (HEAD.full_name,)
    override = SupportOverride("super-1", "本人からの請求（本人確認済み）")
    content = build_content(
        req(members=ALL_MEMBERS, support_override=override), snap(members=household)
    )
    assert len(content.persons) == 4


def test_support_measure_of_householder_counts_when_named() -> None:
    protected_head = dataclasses.replace(HEAD, support_measure=True)
    household = (protected_head, WIFE)
    wife_only = req(resident_code=WIFE.resident_code)
    assert build_content(wife_only, snap(subject=WIFE, members=household)).names
    with pytest.raises(DomainRuleError):
        build_content(
            dataclasses.replace(wife_only, items=frozenset({OptionalItem.HOUSEHOLDER})),
            snap(subject=WIFE, members=household),
        )


def test_override_needs_a_reason() -> None:
    protected = dataclasses.replace(HEAD, support_measure=True)
    with pytest.raises(ValidationError) as err:
        build_content(
            req(support_override=SupportOverride("super-1", "  ")),
            snap(subject=protected, members=(protected,)),
        )
    assert err.value.field == "support_override.reason"


def test_removed_record_only_on_a_removed_request() -> None:
    gone = dataclasses.replace(
        HEAD,
        status=RecordStatus.REMOVED,
        removal_reason=ChangeReason.REMOVAL_BY_AUTHORITY,
        removed_on=date(2025, 3, 29),
    )
    with pytest.raises(DomainRuleError) as err:
        build_content(req(), snap(subject=gone, members=()))
    assert err.value.rule == "removed_record"
    content = build_content(req(removed=True), snap(subject=gone, members=()))
    assert content.title == "住民票の除票の写し"
    assert {"removal_reason", "removed_on"} <= keys(content)
    assert "除票" in content.certification
    with pytest.raises(DomainRuleError) as err:
        build_content(req(removed=True), snap())
    assert err.value.rule == "not_removed"
    with pytest.raises(ValidationError) as verr:
        build_content(req(removed=True, members=ALL_MEMBERS), snap(subject=gone, members=()))
    assert verr.value.rule == "subject_only"


def test_seal_certificate_needs_the_subjects_live_seal() -> None:
    content = build_content(req(CertificateKind.SEAL), snap(seal=SEAL))
    assert content.seal_sha256 == SEAL.image_sha256
    assert "sex" not in keys(content)  # 印影・氏名・生年月日・住所
    abolished = dataclasses.replace(SEAL, status=SealStatus.ABOLISHED)
    others = dataclasses.replace(SEAL, record_id="someone-else")
    for seal in (None, abolished, others):
        with pytest.raises(DomainRuleError) as err:
            build_content(req(CertificateKind.SEAL), snap(seal=seal))
        assert err.value.rule == "no_live_seal"
    with pytest.raises(ValidationError):
        build_content(req(CertificateKind.SEAL, members=ALL_MEMBERS), snap(seal=SEAL))
    with pytest.raises(DomainRuleError):
        build_content(req(CertificateKind.SEAL, removed=True), snap(seal=SEAL))


# -- properties over every combination ----------------------------------------------------------

kinds = st.sampled_from(COPIES)
item_sets = st.frozensets(st.sampled_from(list(OptionalItem)))
member_choices = st.one_of(
    st.just(()),
    st.just(ALL_MEMBERS),
    st.lists(st.sampled_from([m.resident_code for m in HOUSEHOLD]), unique=True, min_size=1).map(
        tuple
    ),
)


@given(
    kind=kinds,
    items=item_sets,
    members=member_choices,
    requester=st.sampled_from(list(Requester)),
    channel=st.sampled_from(list(Channel)),
)
def test_no_combination_shows_what_was_not_asked_for(
    kind: CertificateKind,
    items: frozenset[OptionalItem],
    members: Any,
    requester: Requester,
    channel: Channel,
) -> None:
    request = req(kind, items=items, members=members, requester=requester, channel=channel)
    refusal: RuleViolation | None = None
    try:
        content = build_content(request, snap(seal=SEAL))
    except RuleViolation as exc:
        refusal = exc
    if refusal is not None:
        # Every refusal is one of the named rules, never an accident.
        assert refusal.rule in {
            "not_for_kind",
            "third_party_identifiers",
            "wide_area_kind",
            "wide_area_honseki",
            "subject_only",
            "kiosk_request",
        }
        return
    shown = keys(content) & OPTIONAL_KEYS
    allowed = set().union(*(ITEM_KEYS.get(i, set()) for i in items))
    assert shown <= allowed
    if kind is CertificateKind.RECORD_ITEMS:
        # Only the items asked for, or the basic ones when none was named.
        asked = items & set(RECORD_ITEM_KEYS)
        if not items - {OptionalItem.FORMER_SURNAME}:
            asked = set(BASIC_ITEMS)
        record_keys = set().union(*RECORD_ITEM_KEYS.values())
        expected = set().union(*(RECORD_ITEM_KEYS[i] for i in asked))
        foreign = {m.resident_code for m in HOUSEHOLD if m.is_foreign}
        if members and set(members) <= foreign:
            expected -= {"name_kana"}  # no 氏名の振り仮名 for a foreign resident (2025-05-26)
        assert keys(content) & record_keys == expected
    if requester is Requester.THIRD_PARTY:
        assert not shown & {"resident_code", "my_number"}
    if channel is Channel.WIDE_AREA:
        assert not shown & {"honseki", "koseki_head"}
    if channel is Channel.KIOSK:  # the card holder's own: never the 住民票コード (issue 12)
        assert "resident_code" not in shown and requester is Requester.SELF
    # Only members of the subject's household, each at most once, householder first.
    codes = [m.resident_code for m in HOUSEHOLD]
    names = [m.full_name for m in HOUSEHOLD]
    assert [names.index(n) for n in content.names] == sorted(names.index(n) for n in content.names)
    assert set(content.names) <= set(names) and len(codes) == len(HOUSEHOLD)


# -- the document and its digest ----------------------------------------------------------------


def issuance(**kw: Any) -> Issuance:
    values: dict[str, Any] = {
        "certificate_id": "0b6a2f1c-1111-2222-3333-444455556666",
        "lg_code": "132250",
        "municipality": "東京都稲城市",
        "signatory": "東京都稲城市長",
        "issued_at": READ_AT.isoformat(),
        "issued_on": "2025-04-01",
        "terminal_id": "T01",
        "issue_numbers": ("20250401-132250-T01-000001",),
        "verify_base_url": "http://verify.test",
    }
    values.update(kw)
    return Issuance(**values)


def test_document_round_trips_and_keeps_ivs() -> None:
    ivs = dataclasses.replace(HEAD, family_name="葛\U000e0102西", given_name="辻\U000e0102")
    content = build_content(
        req(items=ALLOWED_ITEMS[CertificateKind.RESIDENCE]), snap(subject=ivs, members=(ivs,))
    )
    text = canonical_json(content, issuance())
    assert "葛\U000e0102西" in text  # written as characters, not escaped or normalised
    parsed = parse_document(text)
    assert parsed == (content, issuance())
    assert digest_of(*parsed) == digest_of(content, issuance())


@given(st.text(min_size=1, max_size=20))
def test_any_change_changes_the_digest(changed: str) -> None:
    content = build_content(req(), snap())
    before = digest_of(content, issuance())
    if changed != "T01":
        assert digest_of(content, issuance(terminal_id=changed)) != before
    person = content.persons[0]
    line = person.lines[0]
    if changed != line.value:
        altered = dataclasses.replace(
            content,
            persons=(
                dataclasses.replace(
                    person, lines=(dataclasses.replace(line, value=changed), *person.lines[1:])
                ),
            ),
        )
        assert digest_of(altered, issuance()) != before


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.pop("content"),
        lambda d: d["content"].update(version=99),
        lambda d: d["content"].update(kind="passport"),
        lambda d: d["issuance"].pop("issue_numbers"),
        lambda d: d["content"].update(persons=[{"name": "x"}]),
    ],
)
def test_malformed_documents_are_rejected(mangle: Any) -> None:
    doc = to_document(build_content(req(), snap()), issuance())
    mangle(doc)
    with pytest.raises(ContentFormatError):
        from_document(doc)


def test_non_json_is_rejected() -> None:
    for text in ("not json", "[1, 2]"):
        with pytest.raises(ContentFormatError):
            parse_document(text)
