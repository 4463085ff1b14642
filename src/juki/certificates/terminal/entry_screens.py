"""The life events a clerk enters at the counter, one `EntryScreen` each: its fields, how the
posted form becomes the command the API would build (`juki.registry.api.events`), and where a
rule's field sits on the form. The kind names are the review's (`review.kinds.KINDS`), so a
screen files through the same path the API and the 転居 screen use."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from juki.certificates.terminal.entry_forms import (
    RELATIONSHIP_OPTIONS,
    SEX_OPTIONS,
    Context,
    Field,
    Posted,
    invalid,
)
from juki.registry.commands import (
    ChangeHouseholder,
    ChangeName,
    CorrectByAuthority,
    JoinHousehold,
    MergeHouseholds,
    MoveInOrigin,
    MoveOutCertificateItems,
    NewHousehold,
    PersonalItems,
    RecordBirth,
    RecordDeath,
    RecordMoveIn,
    RecordMoveOut,
    SplitHousehold,
)
from juki.registry.model import Relationship, ResidentRecord, Sex


@dataclass(frozen=True, slots=True)
class EntryScreen:
    kind: str  # the review kind it files (KINDS)
    title: str
    fields: tuple[Field, ...]
    build: Callable[[Posted, Context], Any]
    renames: Mapping[str, str] = field(default_factory=dict)
    needs_subject: bool = True

    def field_of(self, rule_field: str) -> str:
        """The form field a rule's error names, or "" when it is none of this form's."""
        name = self.renames.get(rule_field, rule_field)
        for prefix in ("person.", "fields."):
            name = name.removeprefix(prefix)
        if name.startswith("relationships"):
            name = "relationships"
        return name if any(f.name == name for f in self.fields) else ""


def _subject(ctx: Context) -> ResidentRecord:
    if ctx.subject is None:
        raise invalid("record", "住民を検索して選択してください")
    return ctx.subject


NAME_FIELDS: Final = (
    Field("family_name", "氏"),
    Field("given_name", "名"),
    Field("family_name_kana", "氏（フリガナ）"),
    Field("given_name_kana", "名（フリガナ）"),
)
PERSON_FIELDS: Final = (
    *NAME_FIELDS,
    Field("birth_date", "生年月日", "date"),
    Field("sex", "男女の別", "select", options=SEX_OPTIONS),
    Field("honseki", "本籍", required=False, hint="外国人住民は空欄"),
    Field("koseki_head", "筆頭者", required=False),
)
NOTIFIED: Final = Field("notified_on", "届出日", "date")
EFFECTIVE: Final = Field("effective_on", "異動日", "date")
RELATIONSHIPS: Final = Field(
    "relationships", "異動後の続柄", "relationships", required=False, hint="変わる人だけ選択"
)


def _person(p: Posted) -> PersonalItems:
    return PersonalItems(
        family_name=p.text("family_name"),
        given_name=p.text("given_name"),
        family_name_kana=p.text("family_name_kana"),
        given_name_kana=p.text("given_name_kana"),
        birth_date=p.date("birth_date"),
        sex=p.choice("sex", Sex),
        honseki=p.optional("honseki"),
        koseki_head=p.optional("koseki_head"),
    )


def _birth(p: Posted, ctx: Context) -> RecordBirth:
    return RecordBirth(
        person=_person(p),
        household_id=_subject(ctx).household_id,
        relationship=p.choice("relationship", Relationship),
        notified_on=p.date("notified_on"),
    )


def _death(p: Posted, ctx: Context) -> RecordDeath:
    return RecordDeath(
        record_id=_subject(ctx).record_id,
        died_on=p.date("died_on"),
        notified_on=p.date("notified_on"),
        new_householder_id=p.optional("new_householder_id"),
        relationships=p.relationships(ctx.members),
    )


CERTIFICATE_FIELDS: Final = (
    Field("cert_number", "転出証明書の番号", required=False),
    Field("cert_lg_code", "証明書：転出元の団体コード", required=False, max_length=6),
    Field("cert_resident_code", "証明書：住民票コード", required=False, max_length=11),
    Field("cert_family_name", "証明書：氏", required=False),
    Field("cert_given_name", "証明書：名", required=False),
    Field("cert_birth_date", "証明書：生年月日", "date", required=False),
    Field("cert_sex", "証明書：男女の別", "select", required=False, options=SEX_OPTIONS),
    Field("cert_address", "証明書：住所", required=False),
    Field("cert_destination_address", "証明書：転出先", required=False),
    Field("cert_planned_on", "証明書：転出の予定年月日", "date", required=False, future=True),
)


def _certificate(p: Posted) -> MoveOutCertificateItems:
    """The paper 転出証明書, item by item as the clerk reads it (checked against the 転入届)."""
    return MoveOutCertificateItems(
        certificate_number=p.text("cert_number"),
        lg_code=p.text("cert_lg_code"),
        resident_code=p.text("cert_resident_code"),
        family_name=p.text("cert_family_name"),
        given_name=p.text("cert_given_name"),
        birth_date=p.date("cert_birth_date"),
        sex=p.choice("cert_sex", Sex),
        address=p.text("cert_address"),
        destination_address=p.text("cert_destination_address"),
        planned_on=p.date("cert_planned_on"),
    )


def _move_in(p: Posted, ctx: Context) -> RecordMoveIn:
    origin = p.choice("origin", MoveInOrigin)
    if origin is MoveInOrigin.ABROAD:
        raise invalid("origin", "国外からの転入はこの画面では入力できません")
    joining = p.optional("relationship")
    placement: JoinHousehold | NewHousehold = NewHousehold()
    if ctx.subject is not None and joining is not None:
        placement = JoinHousehold(ctx.subject.household_id, p.choice("relationship", Relationship))
    paper = origin is MoveInOrigin.CERTIFICATE
    return RecordMoveIn(
        person=_person(p),
        origin=origin,
        address=p.text("address"),
        moved_on=p.date("moved_on"),
        notified_on=p.date("notified_on"),
        previous_address=p.text("previous_address"),
        placement=placement,
        resident_code=p.optional("resident_code"),
        my_number=None if paper else p.optional("my_number"),
        move_out_certificate_number=p.text("cert_number") if paper else None,
        previous_lg_code=p.optional("previous_lg_code"),
        move_out_certificate=_certificate(p) if paper else None,
    )


def _move_out(p: Posted, ctx: Context) -> RecordMoveOut:
    _subject(ctx)
    return RecordMoveOut(
        record_ids=tuple(p.many("record_ids")),
        destination_address=p.text("destination_address"),
        planned_on=p.date("planned_on"),
        notified_on=p.date("notified_on"),
        abroad=p.optional("abroad") == "abroad",
        new_householder_id=p.optional("new_householder_id"),
        relationships=p.relationships(ctx.members),
        destination_lg_code=p.optional("destination_lg_code"),
        card=p.optional("card") == "card",
    )


def _split(p: Posted, ctx: Context) -> SplitHousehold:
    _subject(ctx)
    return SplitHousehold(
        record_ids=tuple(p.many("record_ids")),
        new_householder_id=p.text("new_householder_id"),
        relationships=p.relationships(ctx.members),
        effective_on=p.date("effective_on"),
        notified_on=p.date("notified_on"),
        remaining_householder_id=p.optional("remaining_householder_id"),
    )


def _merge(p: Posted, ctx: Context) -> MergeHouseholds:
    return MergeHouseholds(
        from_household_id=_subject(ctx).household_id,
        into_household_id=ctx.household_of_code(p.text("into_resident_code")),
        relationships=p.relationships(ctx.members),
        effective_on=p.date("effective_on"),
        notified_on=p.date("notified_on"),
    )


def _householder(p: Posted, ctx: Context) -> ChangeHouseholder:
    return ChangeHouseholder(
        household_id=_subject(ctx).household_id,
        new_householder_id=p.text("new_householder_id"),
        relationships=p.relationships(ctx.members),
        effective_on=p.date("effective_on"),
        notified_on=p.date("notified_on"),
    )


def _name(p: Posted, ctx: Context) -> ChangeName:
    return ChangeName(
        record_id=_subject(ctx).record_id,
        family_name=p.text("family_name"),
        given_name=p.text("given_name"),
        family_name_kana=p.text("family_name_kana"),
        given_name_kana=p.text("given_name_kana"),
        effective_on=p.date("effective_on"),
        notified_on=p.date("notified_on"),
    )


CORRECTABLE: Final = ("family_name", "given_name", "family_name_kana", "given_name_kana")


def _correction(p: Posted, ctx: Context) -> CorrectByAuthority:
    """職権修正 of the name and the 続柄: only the items the clerk filled in, as entered."""
    subject = _subject(ctx)
    fields: dict[str, Any] = {n: v for n in CORRECTABLE if (v := p.optional(n)) is not None}
    if p.optional("relationship") is not None:
        fields["relationship"] = p.choice("relationship", Relationship).value
    if not fields:
        raise invalid("family_name", "修正する項目を1つ以上入力してください", "required")
    return CorrectByAuthority(
        record_id=subject.record_id,
        fields=fields,
        effective_on=p.date("effective_on"),
        note=p.text("note"),
    )


MEMBERS: Final = Field("record_ids", "異動する人", "members")
NEW_HOUSEHOLDER: Final = Field("new_householder_id", "新しい世帯主", "member", required=False)
RELATIONSHIP: Final = Field(
    "relationship", "続柄（世帯主との関係）", "select", options=RELATIONSHIP_OPTIONS
)
HOUSEHOLD_DATES: Final = (EFFECTIVE, NOTIFIED)

SCREENS: Final[Mapping[str, EntryScreen]] = {
    s.kind: s
    for s in (
        EntryScreen(
            "birth",
            "出生届の入力",
            (*PERSON_FIELDS, RELATIONSHIP, NOTIFIED),
            _birth,
            {"effective_on": "birth_date"},
        ),
        EntryScreen(
            "death",
            "死亡届の入力",
            (Field("died_on", "死亡日", "date"), NOTIFIED, NEW_HOUSEHOLDER, RELATIONSHIPS),
            _death,
            {"effective_on": "died_on", "record_id": "died_on"},
        ),
        EntryScreen(
            "move-in",
            "転入届の入力",
            (
                Field(
                    "origin",
                    "転入の種類",
                    "select",
                    options=(
                        (MoveInOrigin.CERTIFICATE.value, "転出証明書を添えた転入"),
                        (MoveInOrigin.CARD.value, "転入届の特例（マイナンバーカード）"),
                    ),
                ),
                *PERSON_FIELDS,
                Field("address", "住所（転入先）"),
                Field("moved_on", "転入した日", "date"),
                NOTIFIED,
                Field("previous_address", "前住所"),
                Field("previous_lg_code", "転出元の団体コード", max_length=6),
                Field("resident_code", "住民票コード", max_length=11),
                Field("my_number", "個人番号（特例転入）", required=False, max_length=12),
                Field(
                    "relationship",
                    "続柄（選択した世帯に入るとき）",
                    "select",
                    required=False,
                    options=RELATIONSHIP_OPTIONS,
                    hint="空欄なら新しい世帯の世帯主",
                ),
                *CERTIFICATE_FIELDS,
            ),
            _move_in,
            {
                "effective_on": "moved_on",
                "move_out_certificate_number": "cert_number",
                **{
                    f"move_out_certificate.{n}": f"cert_{n}"
                    for n in (
                        "lg_code",
                        "resident_code",
                        "family_name",
                        "given_name",
                        "birth_date",
                        "sex",
                        "address",
                        "destination_address",
                        "planned_on",
                    )
                },
                "move_out_certificate.certificate_number": "cert_number",
                "move_out_certificate.my_number": "my_number",
                "move_out_certificate": "origin",
                "placement": "relationship",
                "household_id": "relationship",
            },
            needs_subject=False,
        ),
        EntryScreen(
            "move-out",
            "転出届の入力（転出予定）",
            (
                MEMBERS,
                Field("destination_address", "転出先の住所"),
                Field("destination_lg_code", "転出先の団体コード", required=False, max_length=6),
                Field("planned_on", "転出予定日", "date", future=True),
                NOTIFIED,
                Field(
                    "abroad",
                    "転出先",
                    "select",
                    options=(("domestic", "国内"), ("abroad", "国外")),
                ),
                Field(
                    "card",
                    "届出の方法",
                    "select",
                    options=(("paper", "転出証明書を交付"), ("card", "転出届の特例（カード）")),
                ),
                NEW_HOUSEHOLDER,
                RELATIONSHIPS,
            ),
            _move_out,
            {"effective_on": "planned_on"},
        ),
        EntryScreen(
            "household-split",
            "世帯分離の入力",
            (
                MEMBERS,
                Field("new_householder_id", "新しい世帯の世帯主", "member"),
                Field("remaining_householder_id", "残る世帯の世帯主", "member", required=False),
                RELATIONSHIPS,
                *HOUSEHOLD_DATES,
            ),
            _split,
        ),
        EntryScreen(
            "household-merge",
            "世帯合併の入力",
            (
                Field("into_resident_code", "合併先の世帯主の住民票コード", max_length=11),
                RELATIONSHIPS,
                *HOUSEHOLD_DATES,
            ),
            _merge,
            {
                "into_household_id": "into_resident_code",
                "from_household_id": "into_resident_code",
                "resident_code": "into_resident_code",
            },
        ),
        EntryScreen(
            "householder-change",
            "世帯主変更の入力",
            (
                Field("new_householder_id", "新しい世帯主", "member"),
                RELATIONSHIPS,
                *HOUSEHOLD_DATES,
            ),
            _householder,
        ),
        EntryScreen(
            "name-change",
            "氏名の変更の入力",
            (*NAME_FIELDS, *HOUSEHOLD_DATES),
            _name,
        ),
        EntryScreen(
            "correction-by-authority",
            "氏名・続柄の職権修正",
            (
                *(replace(f, required=False) for f in NAME_FIELDS),
                Field(
                    "relationship",
                    "続柄",
                    "select",
                    required=False,
                    options=((Relationship.HOUSEHOLDER.value, "世帯主"), *RELATIONSHIP_OPTIONS),
                ),
                Field("effective_on", "修正日", "date"),
                Field("note", "職権修正の理由", max_length=500),
            ),
            _correction,
            {"fields": "family_name"},
        ),
    )
}
